"""Deployments as code, served by `journey worker` (Prefect server mode).

One deployment, `process-inbox/journey`: a run per batch of inbox events claimed by an API process, its
events run as plain calls inside it (flows/inbox_batch.py). `journey worker` runs these flow runs in its own
long-lived process (flows/worker.py); `journey worker --process-per-run` serves them with Prefect's `serve`,
which starts a new Python process per run (2-3x the CPU per journey here, bench/RESULTS.md).

No deployment-wide `concurrency_limit`: it would cap the whole cluster (two workers with --concurrency 2
would still run 2 batches in all). Each worker caps its own runs (`serve(limit=...)`), so the cluster runs
up to the sum of its workers' --concurrency, and adding a worker adds capacity.
"""
from __future__ import annotations

from typing import Any

from flows.inbox_batch import process_inbox

DEPLOYMENT_NAME = "journey"


def deployments() -> list[Any]:
    return [process_inbox.to_deployment(
        name=DEPLOYMENT_NAME,
        description="Process a batch of webhook inbox events (deals signed, updated, lost) into journeys.",
        tags=["journey"],
        parameters={"events": []},
    )]


def serve_forever(*, concurrency: int) -> None:
    """Register the deployments and run their flow runs as they are submitted (blocks)."""
    from prefect import serve

    # pause_on_shutdown=False: several workers serve one deployment; one of them stopping (a rolling
    # restart) must not pause it for the others, which is what Prefect's default would do.
    serve(*deployments(), limit=concurrency, print_starting_message=True,
          pause_on_shutdown=False)
