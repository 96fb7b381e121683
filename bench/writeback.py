"""CRM write-back after a nightly recompute: N accounts whose health changes at once, written to a fake HubSpot.

Seeds N HubSpot accounts (companies) with one deal each, writes their first values (the backfill), then runs
the nightly health recompute, which moves every score, and drains the write-back queue: the CRM calls
(batch updates of 100 records: N/100 for deals + N/100 for companies) and the time are recorded in
bench/RESULTS.md. `python -m bench.writeback [--accounts 1000]`.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, date, datetime, timedelta

import httpx

from bench.common import record, workspace

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class CountingHubSpot:
    """HubSpot's batch update: 200 with the results; counts calls and records (the token info is not counted:
    it is asked once, at the backfill)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {"deals": 0, "companies": 0}
        self.records = 0
        self.largest = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth/"):  # the private app's id, learned once before the first write
            return httpx.Response(200, json={"userId": 1, "hubId": 1, "appId": 1160452, "scopes": []})
        kind = request.url.path.split("/")[4]
        inputs = json.loads(request.content)["inputs"]
        self.calls[kind] += 1
        self.records += len(inputs)
        self.largest = max(self.largest, len(inputs))
        return httpx.Response(200, json={"status": "COMPLETE", "results": [
            {"id": i["id"], "properties": i["properties"]} for i in inputs]})


def seed(accounts: int) -> None:
    from sqlalchemy import create_engine, insert

    from journey import migrations
    from journey.models import Account, Deal, Signal

    engine = create_engine(os.environ["JOURNEY_DATABASE_URL"])
    with engine.connect() as conn:
        migrations.upgrade(conn)
        conn.commit()
    with engine.begin() as conn:
        conn.execute(insert(Account), [{"id": i, "crm_source": "hubspot", "crm_external_id": f"{9000 + i}",
                                        "name": f"Account {i}", "timezone": "UTC"} for i in range(1, accounts + 1)])
        conn.execute(insert(Deal), [{"id": i, "account_id": i, "crm_source": "hubspot", "crm_external_id": f"{i}",
                                     "name": f"Deal {i}", "status": "won", "expected_go_live": date(2027, 1, 15)}
                                    for i in range(1, accounts + 1)])
        conn.execute(insert(Signal), [{"external_id": f"s{i}", "account_id": i, "metric": "nps",
                                       "value": (i % 20) * 10 - 90, "at": NOW - timedelta(days=1), "source": "api",
                                       "received_at": NOW} for i in range(1, accounts + 1)])
    engine.dispose()


def run(accounts: int) -> list[str]:
    from journey.audit import Actor
    from journey.health.jobs import recompute_all_health
    from journey.job_context import JobContext
    from journey.writeback import writers
    from journey.writeback.drain import drain_writeback, sync_all

    fake = CountingHubSpot()
    writers.transports["hubspot"] = httpx.MockTransport(fake)
    seed(accounts)
    backfill = sync_all(NOW - timedelta(hours=1))
    fake.calls = {"deals": 0, "companies": 0}
    fake.records = 0
    started = time.perf_counter()
    recompute_all_health(JobContext(now=NOW, actor=Actor.flow("bench")))
    recomputed = time.perf_counter() - started
    started = time.perf_counter()
    result = drain_writeback(NOW + timedelta(minutes=1))
    drained = time.perf_counter() - started
    calls = fake.calls["deals"] + fake.calls["companies"]
    verdict = "OK" if calls <= 2 * -(-accounts // 100) and result["written"] == 2 * accounts else "FAILED"
    return ["| measure | value |", "|---|---|",
            f"| accounts (one deal and one company each) | {accounts:,} |",
            f"| backfill (`journey crm sync`) | {backfill['written']:,} records written |",
            f"| nightly recompute (marks the records in its transactions) | {recomputed:.1f} s |",
            f"| drain: records written / unchanged / dead | {result['written']:,} / {result['unchanged']:,} / "
            f"{result['dead']:,} |",
            f"| HubSpot calls: deals + companies | {fake.calls['deals']} + {fake.calls['companies']} = {calls} "
            f"(largest batch {fake.largest}) |",
            f"| drain time (values computed, batches sent, outcomes recorded) | {drained:.1f} s |",
            f"| verdict (calls <= 2 x accounts / 100, every record written) | {verdict} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    workspace("writeback")
    os.environ["JOURNEY_HUBSPOT_ACCESS_TOKEN"] = "pat-bench"  # noqa: S105 - a fake HubSpot
    os.environ["JOURNEY_HUBSPOT_API_BASE"] = "https://api.hubapi.test"
    os.environ["JOURNEY_PUBLIC_BASE_URL"] = "https://journey.example"
    os.environ["JOURNEY_WRITE_BACK_MIN_INTERVAL"] = "0"  # the backfill and the recompute are minutes apart in life
    lines = run(args.accounts)
    record(f"CRM write-back after a nightly recompute ({args.accounts:,} accounts, fake HubSpot)", "\n".join(lines))
    if lines[-1].endswith("FAILED |"):
        raise SystemExit("write-back benchmark failed its target")


if __name__ == "__main__":
    main()
