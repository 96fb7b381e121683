"""`/openapi.json` is a description tools can use: valid OpenAPI, a security scheme on every operation that
needs one, the problem schema on every error answer (and the answers really have that shape), webhook bodies
whose examples the server accepts, and a client generated from it (openapi-python-client) that calls the API."""
from __future__ import annotations

import importlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from openapi_schema_validator import validate as validate_instance
from openapi_spec_validator import validate

from journey import api_examples as ex
from tests.builders import deal_signed, drain, post_event, signed_headers
from tests.fixtures.crm import payloads as p

pytestmark = pytest.mark.usefixtures("db_url")
ERRORS = {"400", "401", "403", "404", "409", "410", "413", "415", "422", "429", "503"}


@pytest.fixture
def spec(client) -> dict:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def _operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            yield method, path, op


def test_the_document_is_valid_openapi(spec) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_api_operation_declares_its_bearer_scheme_and_no_authorization_parameter(spec) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"] == schemes["bearerToken"] | {"type": "http", "scheme": "bearer"}
    api = [(m, path, op) for m, path, op in _operations(spec) if path.startswith("/api/")]
    assert len(api) > 40
    for method, path, op in api:
        expected = "shareLinkToken" if path.startswith("/api/portal") else "bearerToken"
        assert op["security"] == [{expected: []}], (method, path)
        assert not [q for q in op.get("parameters", []) if q["name"].lower() == "authorization"], (method, path)
    ops = {(m, path): op for m, path, op in _operations(spec)}
    assert ops[("get", "/metrics")]["security"] == [{"metricsToken": []}, {}]
    assert ops[("post", "/webhooks/pipedrive")]["security"] == [{"pipedriveBasic": []}]
    for path, how in (("/webhooks/events", "signature"), ("/webhooks/hubspot", "signature"),
                      ("/webhooks/salesforce/{token}", "`token` in the path")):
        assert ops[("post", path)]["security"] == [], path  # signed bodies: no OpenAPI scheme says that
        assert "Authenticated by" in ops[("post", path)]["description"] and how in ops[("post", path)]["description"]


def test_every_error_answer_is_documented_with_the_problem_schema_and_fastapis_unused_422_is_gone(spec) -> None:
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text
    for method, path, op in _operations(spec):
        for status, response in op["responses"].items():
            if status not in ERRORS:
                continue
            if path.startswith("/webhooks/salesforce"):
                assert list(response["content"]) == ["text/xml"], (method, path, status)  # SOAP faults
            else:
                ref = response["content"]["application/problem+json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", (method, path, status)
    ops = {(m, path): set(op["responses"]) for m, path, op in _operations(spec)}
    assert {"401", "404", "422", "503"} <= ops[("get", "/api/accounts/{ref}")]
    assert "403" not in ops[("get", "/api/accounts/{ref}")]  # another's account is hidden: 404
    assert {"401", "403", "404", "409", "422", "503"} <= ops[("put", "/api/accounts/{ref}/go-live")]
    assert {"403"} <= ops[("get", "/api/events")]
    assert {"401", "410", "429"} <= ops[("get", "/api/portal")]
    assert {"400", "401", "404", "413", "415", "422", "503"} <= ops[("post", "/webhooks/events")]
    assert ops[("get", "/metrics")] == {"200", "401"} and ops[("get", "/readyz")] == {"200", "503"}


def _problem_schema(spec: dict) -> dict:
    return {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}


@pytest.mark.parametrize(("method", "path", "headers", "json_body", "status"), [
    ("get", "/api/accounts", {}, None, 401),
    ("get", "/api/accounts/crm:events:NOPE", "admin", None, 404),
    ("get", "/api/accounts?limit=0", "admin", None, 422),
    ("put", "/api/accounts/crm:events:C-77/go-live", "admin", {"date": "not a date"}, 422),
    ("get", "/api/portal", {"Authorization": "Bearer sp_not-a-link"}, None, 404),
])
def test_real_error_answers_match_the_documented_problem(client, admin, spec, method, path, headers, json_body,
                                                           status) -> None:
    answer = client.request(method.upper(), path, headers=admin if headers == "admin" else headers, json=json_body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    validate_instance(answer.json(), _problem_schema(spec))
    template = path.split("?")[0].replace("crm:events:NOPE", "{ref}").replace("crm:events:C-77", "{ref}")
    if template in spec["paths"]:
        assert str(status) in spec["paths"][template][method]["responses"]


def _examples(spec: dict, path: str) -> list:
    content = spec["paths"][path]["post"]["requestBody"]["content"]
    return [e["value"] for media in content.values() for e in media["examples"].values()]


def test_the_webhook_examples_are_accepted_as_documented(client, spec, monkeypatch) -> None:
    from journey.config import get_settings

    for key, value in {"HUBSPOT_CLIENT_SECRET": p.HUBSPOT_SECRET, "SALESFORCE_ORG_ID": p.SALESFORCE_ORG,
                       "SALESFORCE_PATH_TOKEN": p.SALESFORCE_TOKEN, "PIPEDRIVE_USER": p.PIPEDRIVE_USER,
                       "PIPEDRIVE_PASSWORD": p.PIPEDRIVE_PASSWORD}.items():
        monkeypatch.setenv(f"JOURNEY_{key}", value)
    get_settings.cache_clear()
    events = _examples(spec, "/webhooks/events")
    assert [e["type"] for e in events] == ["deal.signed", "deal.updated", "deal.lost"]
    for event in events:
        body = json.dumps(event).encode()
        assert client.post("/webhooks/events", content=body, headers=signed_headers(body)).status_code == 202
    assert drain() == ["processed", "processed", "processed"]
    [hubspot] = _examples(spec, "/webhooks/hubspot")
    body = json.dumps(hubspot).encode()
    assert client.post("/webhooks/hubspot", content=body, headers=p.hubspot_signed(body)).status_code == 202
    [pipedrive] = _examples(spec, "/webhooks/pipedrive")
    assert client.post("/webhooks/pipedrive", content=json.dumps(pipedrive).encode(),
                       headers=p.basic()).status_code == 202
    [soap] = _examples(spec, "/webhooks/salesforce/{token}")
    answer = client.post(f"/webhooks/salesforce/{p.SALESFORCE_TOKEN}", content=soap.encode(),
                         headers={"content-type": "text/xml; charset=utf-8", "soapaction": '""'})
    assert answer.status_code == 200 and "<Ack>true</Ack>" in answer.text
    assert events[0] == ex.DEAL_SIGNED


# --------------------------------------------------------------------------------------------- a generated client
@pytest.fixture
def live_server(db_url) -> Iterator[str]:
    """journey's app served by uvicorn in a thread, on the test's database."""
    import uvicorn

    from journey.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(start_runner=False), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_generated_client_authenticates_and_calls_two_routes(client, admin, spec, live_server, tmp_path,
                                                               monkeypatch) -> None:
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "config.yml").write_text("post_hooks: []\n")
    generator = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(tmp_path / "spec.json"),
                 "--output-path", str(tmp_path / "journey_client"), "--meta", "none",
                 "--config", str(tmp_path / "config.yml")]
    done = subprocess.run(generator, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unsupported content type text/xml" in done.stdout + done.stderr  # Salesforce's SOAP route, alone
    monkeypatch.syspath_prepend(str(tmp_path))
    package = importlib.import_module("journey_client")
    list_accounts = importlib.import_module("journey_client.api.accounts.list_accounts_api_accounts_get")
    get_plan = importlib.import_module("journey_client.api.onboarding.get_plan_api_accounts_ref_plan_get")
    models = importlib.import_module("journey_client.models")

    token = admin["Authorization"].removeprefix("Bearer ")
    api = package.AuthenticatedClient(base_url=live_server, token=token)
    page = list_accounts.sync(client=api)
    assert isinstance(page, models.PageAccountRead), page
    assert [a.name for a in page.items] == [deal_signed()["data"]["account"]["name"]]
    plan = get_plan.sync(ref="crm:events:C-77", client=api)
    assert isinstance(plan, models.PlanRead) and plan.milestones[0].key == "kickoff", plan
    refused = list_accounts.sync_detailed(client=package.AuthenticatedClient(base_url=live_server, token="nope"))
    assert refused.status_code == 401 and isinstance(refused.parsed, models.Problem)
    assert refused.parsed.code == "unauthorized"
