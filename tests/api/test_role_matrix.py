"""The role matrix: for every action of `journey.policy`'s table, every persona (each role on the account,
and each book role outside it) takes the action through every surface that offers it (API route, web form,
page, `--as` command), and the outcome must be what the table says: allowed (2xx/3xx, exit 0), hidden (404:
the resource is outside their book) or forbidden (403). A form's button shows exactly when it is allowed.
Every route of the app is either in the matrix or exempted below by name, so a new route cannot skip it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from journey.errors import Forbidden, NotFound
from journey.policy import Action, Resource, require
from tests.api import role_world
from tests.api.role_world import Persona, World

pytestmark = pytest.mark.clock(role_world.CASES_AT)
A = Action


@dataclass(frozen=True)
class Surface:
    """One way to take an action: `kind` api, form (a POST from a page), page (a GET) or cli."""

    kind: str
    route: str = ""  # the app's route template, e.g. /api/reviews/{review_id}
    path: str = ""  # the same with the world's ids: /api/reviews/{review}
    method: str = "GET"
    body: dict[str, Any] | None = None  # JSON for api, form fields for form
    args: tuple[str, ...] = ()  # cli arguments, before --as
    page: str = ""  # form: the page that offers it...
    marker: str = ""  # ...and what of the page is the button (default: the form's action)
    shown_by: tuple[Action, ...] = ()  # the button shows when any of these is allowed (default: the action)
    refused_as: int | None = None  # a status standing for both 403 and 404 (a batch answers 422)
    lists_account: bool = False  # a list: the account is in it exactly when the persona may see it


@dataclass(frozen=True)
class Entry:
    action: Action
    subject: str  # what it acts on: the account, a member, a reminder, or nothing in particular
    surfaces: tuple[Surface, ...]
    facts: Callable[[World, Persona], Resource] = field(default=lambda w, p: Resource())


def api(method: str, route: str, path: str = "", body: dict[str, Any] | None = None, **more: Any) -> Surface:
    return Surface("api", route, path or route.replace("{ref}", "{account}"), method, body, **more)


def form(route: str, path: str, page: str, body: dict[str, Any] | None = None, **more: Any) -> Surface:
    return Surface("form", route, path, "POST", body or {}, page=page, **more)


def page(route: str, path: str = "", **more: Any) -> Surface:
    return Surface("page", route, path or route.replace("{ref}", "{account}"), **more)


def cli(*args: str) -> Surface:
    return Surface("cli", args=args)


def account_facts(w: World, _: Persona) -> Resource:
    p = w.personas
    return Resource.account("account", csm_id=p["csm"].id, am_id=p["am"].id, sellers=(p["ae"].id, p["se"].id))


def member_facts(name: str) -> Callable[[World, Persona], Resource]:
    return lambda w, _: Resource.member(name, role=w.members[name][1])


def reminder_facts(own: bool) -> Callable[[World, Persona], Resource]:
    return lambda w, p: Resource.reminder("reminder", assignee_id=p.id if own else w.members["another admin"][0])


ACCOUNT, REVIEW, HELD = "/accounts/{account}", "/reviews/{review}", "/reviews/{held review}"
HANDOFF = "/accounts/{account}/handoff"
BOOK_AT = "2026-12-01T10:00:00+01:00"  # a Tuesday morning in Paris, after the cases' clock
VIEW = (
    *(api("GET", f"/api/accounts/{{ref}}{tail}") for tail in
      ("", "/plan", "/handoff", "/handoff.html", "/handoff.md", "/reviews", "/health", "/objectives", "/owners",
       "/opportunities")),
    *(api("GET", f"/api/reviews/{{review_id}}{tail}", f"/api/reviews/{{review}}{tail}") for tail in
      ("", ".ics", "/agenda")),
    api("GET", "/api/tasks/{task_id}/comments", "/api/tasks/{task}/comments"),
    api("GET", "/api/accounts/{ref}/activity"),
    page("/accounts/{ref}"), page("/accounts/{ref}/handoff"),
    page("/reviews/{review_id}", REVIEW), page("/reviews/{review_id}.ics", REVIEW + ".ics"),
    cli("plan", "show", "{account}"), cli("packets", "show", "{account}"),
)
MEMBERS = ("a csm", "another manager", "another admin")
MATRIX: tuple[Entry, ...] = (
    Entry(A.view_account, "the account", VIEW, account_facts),
    Entry(A.view_book, "their book", (
        api("GET", "/api/accounts", lists_account=True), api("GET", "/api/journeys", lists_account=True),
        api("GET", "/api/kpis/onboarding"), api("GET", "/api/reminders"), page("/", lists_account=True),
        page("/reviews"), page("/reminders"), page("/digest"), cli("kpis"))),
    Entry(A.view_team, "the team", (api("GET", "/api/team"), api("GET", "/api/kpis/weekly"), page("/team"),
                                    page("/team/export.csv"))),
    Entry(A.edit_packet, "the account", (
        api("PATCH", "/api/accounts/{ref}/handoff", body={"risks": ["IT capacity", "a new risk"]}),
        form("/accounts/{ref}/handoff/edit", HANDOFF + "/edit", HANDOFF, {"risks": "IT capacity\nA new risk"},
             marker=f'href="{HANDOFF}/edit"', shown_by=(A.edit_packet, A.edit_technical_notes))), account_facts),
    Entry(A.edit_technical_notes, "the account", (
        api("PATCH", "/api/accounts/{ref}/handoff", body={"se_notes": "SSO through Okta"}),
        form("/accounts/{ref}/handoff/edit", HANDOFF + "/edit", HANDOFF, {"se_notes": "SSO through Okta"},
             marker=f'href="{HANDOFF}/edit"', shown_by=(A.edit_packet, A.edit_technical_notes)),
        page("/accounts/{ref}/handoff/edit")), account_facts),
    Entry(A.acknowledge_packet, "the account", (
        api("POST", "/api/accounts/{ref}/handoff/acknowledgements", body={"decision": "accept"}),
        form("/accounts/{ref}/handoff/acknowledgements", HANDOFF + "/acknowledgements", HANDOFF,
             {"decision": "accept"}),
        cli("packets", "ack", "{account}", "--decision", "accept")), account_facts),
    Entry(A.complete_task, "the account", (
        api("PATCH", "/api/tasks/{task_id}", "/api/tasks/{task}", {"action": "start"}),
        form("/accounts/{ref}/tasks/{task_id}", ACCOUNT + "/tasks/{task}", ACCOUNT, {"action": "start"}),
        cli("tasks", "update", "{task}", "--action", "start")), account_facts),
    Entry(A.assign_task, "the account", (
        api("PATCH", "/api/tasks/{task_id}", "/api/tasks/{task}", {"assignee": "{a csm}"}),
        api("PATCH", "/api/tasks/{task_id}", "/api/tasks/{task}", {"due_on": "2027-02-01", "reason": "IT freeze"}),
        form("/accounts/{ref}/tasks/{task_id}/work", ACCOUNT + "/tasks/{task}/work", ACCOUNT,
             {"due_on": "2027-02-01", "reason": "IT freeze"})), account_facts),
    Entry(A.comment_task, "the account", (
        api("POST", "/api/tasks/{task_id}/comments", "/api/tasks/{task}/comments", {"body": "@csm see the SSO doc"}),
        api("PATCH", "/api/tasks/{task_id}", "/api/tasks/{task}", {"document_url": "https://docs.example/sso"}),
        form("/accounts/{ref}/tasks/{task_id}/comments", ACCOUNT + "/tasks/{task}/comments", ACCOUNT,
             {"body": "see the SSO doc"})), account_facts),
    Entry(A.manage_share_links, "the account", (
        api("POST", "/api/accounts/{ref}/share-links", body={"email": "chloe@customer.example", "name": "Chloé"}),
        api("GET", "/api/accounts/{ref}/share-links"),
        api("PATCH", "/api/share-links/{link_id}", "/api/share-links/{share link}", {"days": 30}),
        api("DELETE", "/api/share-links/{link_id}", "/api/share-links/{share link}"),
        form("/accounts/{ref}/share-links", ACCOUNT + "/share-links", ACCOUNT,
             {"email": "chloe@customer.example", "name": "Chloé"}),
        form("/accounts/{ref}/share-links/{link_id}/revoke", ACCOUNT + "/share-links/{share link}/revoke", ACCOUNT)),
        account_facts),
    Entry(A.move_go_live, "the account", (
        api("PUT", "/api/accounts/{ref}/go-live", body={"date": "2027-02-01", "reason": "IT freeze"}),
        form("/accounts/{ref}/go-live", ACCOUNT + "/go-live", ACCOUNT, {"date": "2027-02-01", "reason": "IT freeze"}),
        cli("go-live", "set", "{account}", "2027-02-01", "--reason", "IT freeze")), account_facts),
    Entry(A.book_review, "the account", (
        api("PATCH", "/api/reviews/{review_id}", "/api/reviews/{review}", {"starts_at": BOOK_AT}),
        form("/reviews/{review_id}/schedule", REVIEW + "/schedule", REVIEW, {"starts_at": BOOK_AT[:16]})),
        account_facts),
    Entry(A.cancel_review, "the account", (
        api("PATCH", "/api/reviews/{review_id}", "/api/reviews/{review}", {"status": "cancelled"}),
        form("/reviews/{review_id}/cancel", REVIEW + "/cancel", REVIEW)), account_facts),
    Entry(A.record_review_outcome, "the account", (
        api("POST", "/api/reviews/{review_id}/outcome", "/api/reviews/{held review}/outcome", {"notes": "went well"}),
        form("/reviews/{review_id}/outcome", HELD + "/outcome", HELD, {"notes": "went well"})), account_facts),
    Entry(A.record_objective_progress, "the account", (
        api("POST", "/api/accounts/{ref}/objectives/{objective_id}/progress",
            "/api/accounts/{account}/objectives/{objective}/progress", {"value": 14}),
        cli("objectives", "progress", "{account}", "{objective}", "--value", "14")), account_facts),
    Entry(A.post_signals, "the account", (
        api("POST", "/api/signals", body={"items": [{"id": "s-1", "account": "{account}", "metric": "nps",
                                                      "value": 40, "at": "2026-11-25T10:00:00Z"}]},
            refused_as=422),), account_facts),
    Entry(A.edit_opportunity, "the account", (
        api("POST", "/api/accounts/{ref}/opportunities", body={"title": "A second team", "amount": 12000}),
        api("PATCH", "/api/opportunities/{opportunity_id}", "/api/opportunities/{opportunity}",
            {"stage": "proposed", "amount": 15000}),
        form("/accounts/{ref}/opportunities", ACCOUNT + "/opportunities", ACCOUNT, {"title": "A second team"}),
        form("/accounts/{ref}/opportunities/{opportunity_id}", ACCOUNT + "/opportunities/{opportunity}", ACCOUNT,
             {"stage": "won", "amount": "9,000"})), account_facts),
    Entry(A.reassign_owner, "the account", (
        api("PUT", "/api/accounts/{ref}/owners", body={"csm": "other.csm@vendor.example", "reason": "leave"}),
        cli("owners", "set", "{account}", "--csm", "other.csm@vendor.example", "--reason", "leave")), account_facts),
    *(Entry(A.edit_member, name, (api("PATCH", "/api/team/{member_id}", f"/api/team/{{{name}}}",
                                      {"capacity_accounts": 5}),), member_facts(name)) for name in MEMBERS),
    *(Entry(A.deactivate_member, name, (api("PATCH", "/api/team/{member_id}", f"/api/team/{{{name}}}",
                                            {"active": False}),), member_facts(name)) for name in MEMBERS),
    Entry(A.override_health, "the account", (
        api("PUT", "/api/accounts/{ref}/health/override", body={"band": "red", "reason": "the COO is unhappy"}),
        form("/accounts/{ref}/health/override", ACCOUNT + "/health/override", ACCOUNT,
             {"band": "red", "reason": "the COO is unhappy"}),
        cli("health", "override", "{account}", "--band", "red", "--reason", "the COO is unhappy")), account_facts),
    Entry(A.override_health, "the account's band set by hand", (
        api("DELETE", "/api/accounts/{ref}/health/override"),
        form("/accounts/{ref}/health/override/clear", ACCOUNT + "/health/override/clear", ACCOUNT),
        cli("health", "override", "{account}", "--clear")), account_facts),
    Entry(A.manage_sign_in, "a csm", (
        page("/admin/members"),
        form("/admin/members/{member_id}/sign-in", "/admin/members/{a csm}/sign-in", "/admin/members",
             {"allow": "true"}))),
    Entry(A.view_inbox, "the inbox", (api("GET", "/api/events"), page("/admin/inbox"))),
    Entry(A.replay_event, "an event", (
        api("POST", "/api/events/{event_id}/replay", "/api/events/{event}/replay"),
        form("/admin/inbox/{event_id}/replay", "/admin/inbox/{event}/replay", "/admin/inbox"),
        form("/admin/crm-writes/{write_id}/resend", "/admin/crm-writes/{dead crm write}/resend", "/admin/inbox"))),
    Entry(A.close_reminder, "their own reminder", (
        form("/reminders/{reminder_id}", "/reminders/{own reminder}", "/reminders", {"action": "done"}),),
        reminder_facts(own=True)),
    Entry(A.close_reminder, "someone else's reminder", (
        form("/reminders/{reminder_id}", "/reminders/{someone's reminder}", "/reminders", {"action": "done"}),),
        reminder_facts(own=False)),
)
EXEMPT = {  # routes outside the matrix, and why
    **{("POST", p): "a webhook: the CRM's signature, no member" for p in
       ("/webhooks/events", "/webhooks/hubspot", "/webhooks/salesforce/{token}", "/webhooks/pipedrive")},
    **{(m, p): "signing in or out: no member yet, or only oneself" for m, p in
       (("GET", "/signin"), ("POST", "/signin"), ("POST", "/signin/link"), ("GET", "/signin/link/{token}"),
        ("POST", "/signin/link/{token}"), ("POST", "/signout"))},
    **{(m, p): "the customer's shared plan: authenticated by the share link's token, not a member "
               "(tests/api/test_shared_plan.py)" for m, p in
       (("GET", "/api/portal"), ("PATCH", "/api/portal/tasks/{task_id}"),
        ("POST", "/api/portal/tasks/{task_id}/comments"),
        ("POST", "/api/portal/objectives/{objective_id}/validation"), ("GET", "/p/{token}"),
        ("GET", "/p/{token}/reviews/{review_id}.ics"), ("POST", "/p/{token}/tasks/{task_id}"),
        ("POST", "/p/{token}/tasks/{task_id}/comments"), ("POST", "/p/{token}/objectives/{objective_id}/validation"))},
    **{("GET", p): "operations or API docs: no member" for p in
       ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")},
}


# --------------------------------------------------------------------------------------------- the world
@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory) -> Iterator[tuple[World, Any]]:
    import time_machine
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from journey.config import get_settings

    env = role_world.settings_env(database_url, str(tmp_path_factory.mktemp("matrix")))
    with pytest.MonkeyPatch.context() as mp, time_machine.travel(role_world.BUILT_AT, tick=False):
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        client = TestClient(create_app(start_runner=False))
        try:
            yield role_world.build(client, database_url), client
        finally:
            get_settings.cache_clear()
            role_world.wipe(database_url)
    get_settings.cache_clear()


@pytest.fixture
def matrix(world, monkeypatch, tmp_path) -> tuple[World, Any]:
    from journey.config import get_settings

    for key, value in role_world.settings_env(world[0].url, str(tmp_path)).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return world


# ------------------------------------------------------------------------------------------ the cases
def expected(entry: Entry, w: World, who: Persona) -> str:
    try:
        require(who, entry.action, entry.facts(w, who))
    except NotFound:
        return "hidden"
    except Forbidden:
        return "forbidden"
    return "allowed"


def _fill(text: str, w: World, who: Persona) -> str:
    ids = {**w.ids, **{name: i for name, (i, _) in w.members.items()}, "own reminder": who.reminder_id}
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), text)


def _fill_all(value: Any, w: World, who: Persona) -> Any:
    if isinstance(value, str):
        return _fill(value, w, who)
    if isinstance(value, list):
        return [_fill_all(v, w, who) for v in value]
    if isinstance(value, dict):
        return {k: _fill_all(v, w, who) for k, v in value.items()}
    return value


def outcome(status: int, refused_as: int | None = None) -> str:
    if 200 <= status < 400:
        return "allowed"
    if refused_as is not None and status == refused_as:
        return "refused"
    return {404: "hidden", 403: "forbidden"}.get(status, f"status {status}")


def run(s: Surface, w: World, who: Persona, client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(outcome, what was answered) of the persona taking the action through the surface."""
    if s.kind == "cli":
        from typer.testing import CliRunner

        from journey.cli import app

        result = CliRunner().invoke(app, [_fill(a, w, who) for a in s.args] + ["--as", who.email])
        said = result.output.strip()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return f"crash {result.exception!r}", said
        return ("allowed" if result.exit_code == 0 else "forbidden" if "may not" in said else "hidden"), said
    path, body = _fill(s.path, w, who), _fill_all(s.body, w, who)
    if s.kind == "api":
        response = client.request(s.method, path, headers=who.api, json=body)
    elif s.kind == "page":
        response = client.get(path, headers=who.web())
    else:
        data = {**(w.edit_form if path.endswith("/handoff/edit") else {}), **body, "csrf_token": who.csrf()}
        response = client.post(path, data=data, headers=who.web(), follow_redirects=False)
    said = response.text[:300]
    if s.lists_account and response.status_code == 200:
        shown = _lists(response, w.ids["account"])
        return ("allowed" if shown else "allowed, without the account"), said
    return outcome(response.status_code, s.refused_as), said


def _lists(response, account_id: int) -> bool:  # type: ignore[no-untyped-def]
    if response.headers["content-type"].startswith("application/json"):
        return any(account_id in (i.get("id"), i.get("account_id")) for i in response.json()["items"])
    return f'href="/accounts/{account_id}"' in response.text


def button_shown(s: Surface, w: World, who: Persona, client) -> bool | None:  # type: ignore[no-untyped-def]
    """Whether the page offers the form; None when the persona cannot open the page at all."""
    response = client.get(_fill(s.page, w, who), headers=who.web())
    if response.status_code in (403, 404):
        return None
    assert response.status_code == 200, response.text[:300]
    return _fill(s.marker or f'action="{s.path}"', w, who) in response.text


def _want(entry: Entry, s: Surface, w: World, who: Persona) -> str:
    want = expected(entry, w, who)
    if want != "allowed" and s.refused_as is not None:
        return "refused"
    if want == "allowed" and s.lists_account:
        sees = expected(Entry(A.view_account, "", (), account_facts), w, who) == "allowed"
        return "allowed" if sees else "allowed, without the account"
    if want != "allowed" and s.kind == "cli":
        return "forbidden" if want == "forbidden" else "hidden"
    return want


@pytest.mark.parametrize("entry", MATRIX, ids=[f"{e.action}-{e.subject}" for e in MATRIX])
def test_every_surface_answers_as_the_table_says(matrix, entry: Entry) -> None:
    w, client = matrix
    wrong = []
    for who in w.personas.values():
        for s in entry.surfaces:
            with role_world.rolled_back(w.url):
                got, said = run(s, w, who, client)
            want = _want(entry, s, w, who)
            if got != want:
                wrong.append(f"{who.name}: {s.kind} {s.method} {s.path or s.args}: {got}, the table says {want} "
                             f"({said[:160]!r})")
            if s.page:
                shown_by = s.shown_by or (entry.action,)
                should = any(expected(Entry(a, "", (), entry.facts), w, who) == "allowed" for a in shown_by)
                with role_world.rolled_back(w.url):
                    shown = button_shown(s, w, who, client)
                if shown is not None and shown != should:
                    wrong.append(f"{who.name}: {s.page} {'shows' if shown else 'hides'} the button of {s.path}")
    assert not wrong, f"{entry.action} on {entry.subject}:\n" + "\n".join(wrong)


# ------------------------------------------------------------------------------------------ coverage
def _covered() -> set[tuple[str, str]]:
    return {(s.method, s.route) for e in MATRIX for s in e.surfaces if s.kind != "cli"}


def test_every_route_is_in_the_matrix_or_exempted_by_name() -> None:
    from fastapi.routing import iter_route_contexts

    from journey.app import create_app

    routes = {(m, c.path) for c in iter_route_contexts(create_app(start_runner=False).routes)
              for m in (getattr(c, "methods", None) or ()) if m != "HEAD"}
    missing = sorted(routes - _covered() - set(EXEMPT))
    assert not missing, f"routes the role matrix does not cover (add them to MATRIX, or to EXEMPT with why): {missing}"
    stale = sorted((_covered() | set(EXEMPT)) - routes)
    assert not stale, f"the matrix names routes the app no longer has: {stale}"


def test_every_form_of_every_page_is_in_the_matrix() -> None:
    """Each `<form method="post">` of the templates posts to a route the matrix covers (or exempts)."""
    templates = Path(__file__).resolve().parents[2] / "templates" / "pages"
    known = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route) + "$"), route)
             for method, route in _covered() | set(EXEMPT) if method == "POST"]
    unmatched = []
    for template in sorted(templates.glob("*.html")):
        for action in re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', template.read_text()):
            target = re.sub(r"\{\{[^}]*\}\}", "X", action)
            if not any(pattern.match(target) for pattern, _ in known):
                unmatched.append(f"{template.name}: {action}")
    assert not unmatched, f"forms the role matrix does not cover: {unmatched}"


def test_every_action_of_the_table_is_in_the_matrix() -> None:
    assert {e.action for e in MATRIX} == set(Action)
