"""Entry point of the weekly digests (Monday morning): one transaction per person."""
from __future__ import annotations

from journey.digests import repository, service
from journey.job_context import JobContext


def send_weekly_digests(ctx: JobContext) -> dict[str, int]:
    """Queue this week's digest for every CSM / AM with a book and every manager; how many were new."""
    with ctx.transaction() as session:
        member_ids = [m.id for m in repository.digest_members(session)]
        manager_ids = [m.id for m in repository.managers(session)]
    ctx.total(len(member_ids) + len(manager_ids))
    queued = 0
    for member_id in member_ids:
        with ctx.transaction() as session:
            queued += service.queue_member_digest(session, member_id=member_id, now=ctx.now)
        ctx.advance()
    for manager_id in manager_ids:
        with ctx.transaction() as session:
            queued += service.queue_team_digest(session, manager_id=manager_id, now=ctx.now)
        ctx.advance()
    return {"members": len(member_ids), "managers": len(manager_ids), "queued": queued}
