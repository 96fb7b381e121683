"""What Prefect's engine costs per journey: the deal.signed flow through the engine vs inline.

Both arms run in one process, on the same kind of fresh SQLite database, alternating in rounds so that
machine noise hits both: `inline` calls the same steps as plain functions (`flow.fn`), `prefect` runs the
flow and its four tasks through Prefect's engine on its temporary server (heartbeat off, docs/engine-facts.md).
    .venv/bin/python -m bench.flow_overhead [--deals 40] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.common import SECRET, record, workspace


def _load(n: int, tag: str) -> None:
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from tests.builders import deal_signed, signed_headers

    with TestClient(create_app(start_runner=False)) as client:
        for i in range(n):
            body = json.dumps(deal_signed(f"D-{tag}-{i}", f"C-{tag}-{i}")).encode()
            r = client.post("/webhooks/events", content=body, headers=signed_headers(body, secret=SECRET))
            assert r.status_code == 202, r.text


def _drain(arm: str) -> tuple[int, float]:
    """(journeys, seconds) to process everything due, as the embedded runner does for this arm."""
    from flows.events import process_event
    from flows.runner import claim_batch, process_batch
    from journey.config import get_settings

    settings = get_settings().model_copy(update={"orchestrator": "inline" if arm == "inline" else "prefect"})
    done, t0 = 0, time.perf_counter()
    while batch := claim_batch(settings.runner_batch_size):
        if arm == "per-event flow runs":
            outcomes = [process_event(i, t, settings=settings) for i, t in batch]
        else:
            outcomes = list(process_batch(batch, settings=settings).values())
        assert set(outcomes) == {"processed"}, outcomes
        done += len(outcomes)
    return done, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    workspace("flows")
    from journey import migrations
    from journey.config import get_settings

    get_settings.cache_clear()
    migrations.upgrade()
    from journey.adapters.orchestrator import prepare_prefect_environment

    prepare_prefect_environment(get_settings())
    t0 = time.perf_counter()
    _load(1, "warm")
    _drain("batch flow runs")  # boots the temporary server once, as `journey serve` does at start
    boot = time.perf_counter() - t0
    arms = ("inline", "batch flow runs", "per-event flow runs")
    per_journey: dict[str, list[float]] = {arm: [] for arm in arms}
    for r in range(args.rounds):
        for i, arm in enumerate(arms):
            _load(args.deals, f"r{r}a{i}")
            n, seconds = _drain(arm)
            per_journey[arm].append(seconds / n)
    base = statistics.median(per_journey["inline"])
    rows = [f"| {arm} | {args.deals} x {args.rounds} | {statistics.median(v) * 1000:.0f} ms | "
            f"{statistics.median(v) / base:.2f}x |" for arm, v in per_journey.items()]
    table = ("| arm | journeys | time per journey (median of rounds) | ratio to inline |\n|---|---|---|---|\n"
             + "\n".join(rows) + f"\n\nFirst flow run, including the temporary Prefect server's start: {boot:.1f} s. "
             "inline: the flows' functions as plain calls; batch: one `process-inbox` flow run per claimed batch "
             "(the embedded default); per-event: one `deal-signed` flow run per event.")
    record("Prefect engine cost per deal.signed journey (SQLite, embedded)", table)


if __name__ == "__main__":
    main()
