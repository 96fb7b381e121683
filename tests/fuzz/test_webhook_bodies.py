"""Hypothesis-generated bodies, correctly signed, posted to `POST /webhooks/events` (SQLite and PostgreSQL).

Whatever the body, the answer is 202 or a 4xx JSON problem with a stable code, never a 5xx; a delivery
that was accepted is then processed to an outcome (processed, ignored, or waiting / retried for an update
of a deal not known yet), never a crash of the runner.
"""
from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import deal_signed, drain, signed_headers

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8")) * 5
CODES = {400: {"malformed_body"}, 413: {"payload_too_large"}, 415: {"unsupported_media_type"}, 422: {"invalid"}}
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)
DEAL_KEYS = ["id", "name", "amount", "currency", "signed_at", "contract_start", "contract_end",
             "expected_go_live", "seats"]


@st.composite
def mutated_events(draw) -> dict:  # type: ignore[no-untyped-def]
    """A valid deal event with some fields replaced by arbitrary JSON, or removed."""
    event = deal_signed(f"D-{draw(st.integers(0, 5))}", "C-1")
    event["type"] = draw(st.sampled_from(["deal.signed", "deal.updated", "deal.lost", "deal.other"]))
    for key in draw(st.lists(st.sampled_from(DEAL_KEYS), max_size=3)):
        if draw(st.booleans()):
            event["data"]["deal"][key] = draw(json_values)
        else:
            event["data"]["deal"].pop(key, None)
    for part in draw(st.lists(st.sampled_from(["account", "owners", "objectives", "stakeholders", "notes"]),
                              max_size=2)):
        event["data"][part] = draw(json_values)
    if draw(st.booleans()):
        event["timestamp"] = draw(json_values)
    return event


def _post(client, body: bytes, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    headers = {**signed_headers(body), "content-type": content_type}
    return client.post("/webhooks/events", content=body, headers=headers)


def _assert_answer(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 202 or response.status_code in CODES, (response.status_code, response.text)
    if response.status_code != 202:
        problem = response.json()
        assert problem["code"] in CODES[response.status_code] and problem["detail"], problem


def test_arbitrary_bytes_are_refused_as_problems_never_5xx(client):  # type: ignore[no-untyped-def]
    @SETTINGS
    @given(body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
           content_type=st.sampled_from(["application/json", "text/plain", ""]))
    def run(body: bytes, content_type: str) -> None:
        _assert_answer(_post(client, body, content_type))

    run()


def test_mutated_deal_events_get_202_or_a_coded_problem_and_process_cleanly(client):  # type: ignore[no-untyped-def]
    accepted: list[str] = []

    @SETTINGS
    @given(event=mutated_events())
    def run(event: dict) -> None:
        response = _post(client, json.dumps(event).encode())
        _assert_answer(response)
        if response.status_code == 202:
            accepted.append(event["type"])

    run()
    outcomes = drain()
    assert len(outcomes) == len(accepted)
    assert set(outcomes) <= {"processed", "ignored", "retry", "waiting"}, outcomes
