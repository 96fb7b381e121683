"""CRM connectors, pure parts: mapping files with line numbers, ordering, signatures, vendor parsing, API retries."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.adapters.crm import hubspot, pipedrive, salesforce
from journey.adapters.crm.common import Applied, StageChange, decide, validate_signed
from journey.adapters.crm.mapping import CrmMapping, MappingError, check_mappings, load_mapping
from tests.fixtures.crm import payloads as p

T = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------- mapping
def test_shipped_mappings_are_valid() -> None:
    assert check_mappings(ROOT / "templates") == []


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("won_stages:\n  default: [closedwon]\nfields:\n  deal.go_live: x\n", 4, "unknown journey field 'deal.go_live'"),
    ("won_stages:\n  default: []\n", 2, "lists no stage"),
    ("won_stages:\n  default: {a: 1}\n", 2, "must be a stage id or a list"),
    ("fields:\n  owners.csm: \n", 2, "must name one CRM field"),
    ("won_stage:\n  default: [x]\n", 1, "unknown section 'won_stage'"),
    ("won_stages: [a\n", 2, "invalid YAML"),
    ("- a\n- b\n", 1, "must be a YAML mapping"),
])
def test_mapping_errors_name_file_and_line(tmp_path, text, line, fragment) -> None:
    path = tmp_path / "hubspot.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as caught:
        load_mapping(path, "hubspot")
    assert f"{path} line {line}: " in str(caught.value) and fragment in str(caught.value)


def test_config_check_reports_crm_mapping_problems(tmp_path) -> None:
    import shutil

    from journey.config_check import check_all

    shutil.copytree(ROOT / "templates" / "playbooks", tmp_path / "playbooks")
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "salesforce.yaml").write_text("fields:\n  deal.seats: Seats__c\n  bogus: X\n")
    (tmp_path / "crm" / "zoho.yaml").write_text("{}\n")
    problems = check_all(tmp_path)
    assert any("salesforce.yaml line 3: fields: unknown journey field 'bogus'" in p for p in problems)
    assert any("zoho.yaml: unknown CRM 'zoho'" in p for p in problems)


def test_won_stage_is_per_pipeline() -> None:
    mapping = CrmMapping("hubspot", won_stages={"default": frozenset({"closedwon"}), "777": frozenset({"123"})})
    assert mapping.is_won_stage("default", "closedwon") and mapping.is_won_stage("777", "123")
    assert not mapping.is_won_stage("777", "closedwon") and not mapping.is_won_stage("888", "123")


# ----------------------------------------------------------------------------------------------- order
def _change(minutes: int, won: bool) -> StageChange:
    return StageChange(deal_id="1", occurred_at=T + timedelta(minutes=minutes), won=won, stage="s")


@pytest.mark.parametrize(("last", "change", "has_journey", "action"), [
    (None, _change(0, True), False, "sign"),
    (None, _change(0, False), False, "ignore"),
    (Applied(T, True, 1), _change(1, False), True, "pause"),
    (Applied(T, True, 1), _change(-1, False), True, "ignore"),   # older leave: ignored
    (Applied(T, False, 1), _change(-1, True), False, "ignore"),  # older win after a newer loss: ignored
    (Applied(T, False, 1), _change(0, True), False, "ignore"),   # same instant, other event: ignored
    (Applied(T, True, 9), _change(0, True), True, "sign"),       # the same event again (a retry): re-applied
])
def test_decide_applies_only_newer_changes(last, change, has_journey, action) -> None:
    event_id = 9 if last is not None and last.event_id == 9 else 2
    assert decide(change, last=last, event_id=event_id, has_journey=has_journey).action == action


@given(st.permutations([(0, True), (1, False), (2, True), (3, False), (4, True)]))
def test_final_state_does_not_depend_on_delivery_order(order) -> None:
    last, won_state = None, None
    for event_id, (minute, won) in enumerate(order, start=1):
        decision = decide(_change(minute, won), last=last, event_id=event_id, has_journey=bool(won_state))
        if not decision.reason.startswith("older"):
            last = Applied(T + timedelta(minutes=minute), won, event_id)
    assert last is not None and last.occurred_at == T + timedelta(minutes=4) and last.won is True


def test_invalid_optional_fields_are_flagged_not_fatal() -> None:
    signed, flags = validate_signed({"deal": {"id": "1", "amount": "-5", "seats": -1}, "account": {"id": "A",
                                     "timezone": "Mars/Olympus"}})
    assert signed.deal.amount is None and signed.account.timezone is None
    assert len(flags) == 3 and any("deal.amount" in f for f in flags)


# --------------------------------------------------------------------------------------------- HubSpot
def test_hubspot_signature_v3_checks_method_uri_body_and_time() -> None:
    body, now = b'[{"objectId": 1}]', int(time.time() * 1000)
    sig = hubspot.signature_v3(secret="s", method="POST", uri="https://x.example/webhooks/hubspot", body=body,
                               timestamp=str(now))
    ok = {"secret": "s", "method": "POST", "uri": "https://x.example/webhooks/hubspot", "body": body,
          "signature": sig, "timestamp": str(now), "now_ms": now}
    hubspot.verify_signature(**ok)
    for change in ({"body": body + b" "}, {"uri": "https://y.example/webhooks/hubspot"}, {"method": "PUT"},
                   {"now_ms": now + 5 * 60 * 1000 + 1}, {"signature": None}, {"timestamp": "abc"}):
        with pytest.raises(hubspot.SignatureError):
            hubspot.verify_signature(**{**ok, **change})


def test_hubspot_signed_uri_decodes_the_documented_characters() -> None:
    assert hubspot.signed_uri("https://x.example/a%3Ab%2Fc%3Fd%40e") == "https://x.example/a:b/c?d@e"


def test_hubspot_idempotency_key_ignores_event_id_and_attempt() -> None:
    a = p.hubspot_event(1, event_id=1)
    b = {**p.hubspot_event(1, event_id=2), "attemptNumber": 3}
    assert hubspot.idempotency_key(a) == hubspot.idempotency_key(b)
    assert hubspot.idempotency_key(a) != hubspot.idempotency_key(p.hubspot_event(1, at=p.T0 + 1))
    long_value = hubspot.idempotency_key(p.hubspot_event(1, value="x" * 10_000))
    assert len(long_value) < 300


def _api(handler, sleeps):
    return hubspot.HubSpotApi(base_url="https://api.hubapi.test", token="t", transport=httpx.MockTransport(handler),
                              sleep=sleeps.append)


def test_hubspot_api_honours_retry_after_then_succeeds() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(502), httpx.Response(200, json={})]
    sleeps: list[float] = []
    assert _api(lambda r: answers.pop(0), sleeps).request("GET", "/crm/v3/objects/deals/1") == {}
    assert sleeps == [2.0, 2.0]


@pytest.mark.parametrize(("status", "message"), [(503, "after 4 attempts"), (401, "refused the token")])
def test_hubspot_api_gives_up_with_a_clear_error(status, message) -> None:
    sleeps: list[float] = []
    with pytest.raises(hubspot.HubSpotError, match=message):
        _api(lambda r: httpx.Response(status), sleeps).request("GET", "/crm/v3/objects/deals/1")


def test_hubspot_api_does_not_sleep_longer_than_allowed() -> None:
    sleeps: list[float] = []
    with pytest.raises(hubspot.HubSpotError):
        _api(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), sleeps).request("GET", "/x")
    assert sleeps == []


# ------------------------------------------------------------------------------------------ Salesforce
def test_salesforce_parses_every_notification_and_drops_the_session_id() -> None:
    org, notes = salesforce.parse_message(p.salesforce_message(p.opportunity("006A"), p.opportunity("006B")))
    assert org == p.SALESFORCE_ORG and [n["fields"]["Id"] for n in notes] == ["006A", "006B"]
    assert "SessionId" not in salesforce.dumps(notes[0], org)


@pytest.mark.parametrize("body", [
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>',
    b"<x>", b"not xml at all", b"<x/>",
])
def test_salesforce_hostile_xml_is_refused_fast(body) -> None:
    started = time.monotonic()
    with pytest.raises(salesforce.MalformedMessage):
        salesforce.parse_message(body)
    assert time.monotonic() - started < 0.2


def test_salesforce_org_ids_match_on_15_or_18_characters() -> None:
    assert salesforce.same_org("00D5g000004C9uS", "00D5g000004C9uSEAS")
    assert not salesforce.same_org("00D5g000004C9uT", "00D5g000004C9uSEAS") and not salesforce.same_org("", "x")


# ------------------------------------------------------------------------------------------- Pipedrive
def test_pipedrive_basic_auth_is_checked_exactly() -> None:
    good = p.basic()["authorization"]
    assert pipedrive.verify_basic(good, user=p.PIPEDRIVE_USER, password=p.PIPEDRIVE_PASSWORD)
    for header in (None, "", "Basic !!!", p.basic(password="x")["authorization"], good.replace("Basic", "Bearer")):
        assert not pipedrive.verify_basic(header, user=p.PIPEDRIVE_USER, password=p.PIPEDRIVE_PASSWORD)


def test_pipedrive_v1_and_v2_are_described_and_normalised() -> None:
    assert pipedrive.describe(p.PIPEDRIVE_V1)[::2] == ("updated.deal", "812")
    assert pipedrive.describe(p.PIPEDRIVE_V2) == ("change.deal", "v2:" + p.PIPEDRIVE_V2["meta"]["id"], "913")

def test_pipedrive_without_api_token_keeps_what_the_payload_has_and_flags_the_rest() -> None:
    v1 = pipedrive.stage_change(p.PIPEDRIVE_V1, CrmMapping("pipedrive"), received_at=T)
    assert v1 is not None and v1.won and v1.signed["owners"] == {}
    assert v1.signed["account"] == {"id": "77", "name": "Acme SAS"}  # v1 carries org_name beside org_id
    assert v1.flags == ["owner user 9001 (Alice AE) left out: set JOURNEY_PIPEDRIVE_API_TOKEN to read owners' emails"]
    v2 = pipedrive.stage_change(p.PIPEDRIVE_V2, CrmMapping("pipedrive"), received_at=T)
    assert v2 is not None and v2.signed["account"] == {"id": "88", "name": "Pipedrive organization 88"}
    assert any("owner user 9002 left out" in f for f in v2.flags)
    assert any("organization 88: name not in the payload" in f for f in v2.flags)


def test_pipedrive_with_lookups_fills_owner_and_organisation() -> None:
    lookups = {"users": {"9002": {"email": "bob@vendor.example", "name": "Bob AE"}}, "orgs": {"88": {"name": "Globex"}}}
    change = pipedrive.stage_change(p.PIPEDRIVE_V2, CrmMapping("pipedrive"), received_at=T, lookups=lookups)
    assert change is not None and change.flags == []
    assert change.signed["owners"]["ae"] == {"email": "bob@vendor.example", "name": "Bob AE"}
    assert change.signed["account"] == {"id": "88", "name": "Globex"}
    csm = CrmMapping("pipedrive", fields={"owners.csm": "f00dcafe"})
    body = p.pipedrive_v1(f00dcafe=9002)
    assert pipedrive.owner_ids(body["current"], csm) == {"9001", "9002"}


class FakePipedrive:
    def __init__(self, answers: list[httpx.Response] | None = None) -> None:
        self.answers, self.requests = answers or [], []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        kind, _, key = request.url.path.removeprefix("/v1/").partition("/")
        found = {"users": p.PIPEDRIVE_USERS, "organizations": p.PIPEDRIVE_ORGS}.get(kind, {}).get(key)
        if found is None:
            return httpx.Response(404, json={"success": False, "error": "not found"})
        return httpx.Response(200, json={"success": True, "data": found})


def test_pipedrive_api_sends_the_token_header_retries_with_retry_after_and_reads_people() -> None:
    fake = FakePipedrive([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(503)])
    sleeps: list[float] = []
    api = pipedrive.PipedriveApi(base_url="https://api.pipedrive.test/", token="pd-token",
                                 transport=httpx.MockTransport(fake), sleep=sleeps.append)
    lookups = pipedrive.fetch_lookups(api, p.PIPEDRIVE_V2["data"], CrmMapping("pipedrive"))
    assert lookups == {"users": {"9002": {"email": "bob@vendor.example", "name": "Bob AE"}},
                       "orgs": {"88": {"name": "Globex <b>Corp</b>"}}}
    assert sleeps == [3.0, 2.0]
    assert {r.headers["x-api-token"] for r in fake.requests} == {"pd-token"}
    assert [r.url.path for r in fake.requests][-2:] == ["/v1/users/9002", "/v1/organizations/88"]
    assert api.user("404404") is None


@pytest.mark.parametrize(("status", "error", "message"), [
    (503, pipedrive.PipedriveUnavailable, "after 4 attempts"),
    (401, pipedrive.PipedriveError, "check JOURNEY_PIPEDRIVE_API_TOKEN"),
])
def test_pipedrive_api_gives_up_with_a_clear_error(status, error, message) -> None:
    api = pipedrive.PipedriveApi(base_url="https://api.pipedrive.test", token="t", sleep=lambda s: None,
                                 transport=httpx.MockTransport(lambda r: httpx.Response(status)))
    with pytest.raises(error, match=message):
        api.user("1")


# ---------------------------------------------------------------------------------------------- logging
def test_log_lines_mask_the_salesforce_token_and_never_print_traceback_locals(monkeypatch, capsys) -> None:
    import structlog

    from journey import logs
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_SALESFORCE_PATH_TOKEN", p.SALESFORCE_TOKEN)
    get_settings.cache_clear()
    logs.install_masking()
    logs.install_masking()  # idempotent
    assert structlog.get_config()["processors"].count(logs.mask_secrets) == 1

    def handle(token: str) -> None:
        raise ValueError("cannot store")

    try:
        handle(p.SALESFORCE_TOKEN)
    except ValueError:
        structlog.get_logger("t").exception("request.failed", url="https://x.example/webhooks/salesforce/abc?x=1",
                                            seen=[p.SALESFORCE_TOKEN])
    out = capsys.readouterr().out
    assert "ValueError: cannot store" in out and "/webhooks/salesforce/***?x=1" in out
    assert p.SALESFORCE_TOKEN not in out and "abc" not in out


@pytest.mark.parametrize(("attempts", "retry_after", "seconds"), [
    (1, None, 30), (2, None, 60), (3, None, 120), (8, None, 3600), (200, None, 3600),
    (1, 600.0, 600), (8, 5.0, 3600), (1, 10**9, 6 * 3600), (1, -5.0, 30),
])
def test_upstream_backoff_doubles_to_an_hour_and_honours_retry_after(attempts, retry_after, seconds) -> None:
    from journey.inbox.service import upstream_delay

    assert upstream_delay(attempts, retry_after) == timedelta(seconds=seconds)


def test_pipedrive_v1_orders_by_microseconds_where_the_payload_has_them() -> None:
    assert pipedrive.occurred_at(p.PIPEDRIVE_V1) == datetime(2026, 11, 20, 15, 45, 0, 123456, tzinfo=UTC)
    milli = p.pipedrive_v1()
    del milli["meta"]["timestamp_micro"]
    milli["meta"]["timestamp_milli"] = 1795189500123
    assert pipedrive.occurred_at(milli) == datetime(2026, 11, 20, 15, 45, 0, 123000, tzinfo=UTC)
    del milli["meta"]["timestamp_milli"]
    assert pipedrive.occurred_at(milli) == datetime(2026, 11, 20, 15, 45, 0, tzinfo=UTC)
    assert pipedrive.occurred_at(p.PIPEDRIVE_V2) == datetime(2026, 11, 20, 14, 30, 0, 123000, tzinfo=UTC)
