"""The API's description. `/openapi.json` (`describe_api`): the security scheme of every operation (API tokens,
share-link tokens, the metrics token, Pipedrive's Basic credentials; the signed webhooks say how they are
signed), every error answer with the problem schema the server really sends (`code`, `detail`, `errors`; SOAP
faults for Salesforce), and the webhook bodies with examples. FastAPI's default 422 shape, which journey never
sends, is replaced.

`/docs`: Swagger UI from files installed with journey (no CDN: it works offline), under a strict
Content-Security-Policy. The files are swagger-ui-dist 5 (Apache-2.0) as shipped by the `fastapi-offline`
package; its one inline script (the initialiser FastAPI writes) runs by a per-response nonce. ReDoc is off:
it needs inline styles and a CDN font."""
from __future__ import annotations

import json
import secrets
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from journey import api_examples as ex
from journey.deals.events import EVENT_MODELS

ASSETS = "/docs/assets"


def content_security_policy(nonce: str) -> str:
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def mount_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs (create the app with `docs_url=None, redoc_url=None`)."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        page = get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} API",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})  # no badge from swagger.io
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        return HTMLResponse(html, headers={"Content-Security-Policy": content_security_policy(nonce),
                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                                           "X-Frame-Options": "DENY", "Cache-Control": "no-store"})


# --- the OpenAPI document: security schemes, the problem answers, webhook bodies ---------------------------------
PROBLEM = "application/problem+json"
SCHEMES = {
    "bearerToken": {"type": "http", "scheme": "bearer", "description": "A team member's API token "
                    "(`journey tokens create --email you@example.com`); it acts with the member's role."},
    "shareLinkToken": {"type": "http", "scheme": "bearer", "description": "The token at the end of a customer's "
                       "share link (`/p/<token>`): the shared plan of that link's account only."},
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "JOURNEY_METRICS_TOKEN. Without that "
                     "setting, /metrics answers only loopback scrapes of a server bound to loopback."},
    "pipedriveBasic": {"type": "http", "scheme": "basic", "description": "JOURNEY_PIPEDRIVE_USER and "
                       "JOURNEY_PIPEDRIVE_PASSWORD, as set on Pipedrive's webhook."},
}
PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object", "required": ["code", "detail"],
    "description": "Every error of the API and of the JSON webhooks (journey/errors.py, journey/app.py).",
    "properties": {
        "code": {"type": "string", "description": "stable, for programs: unauthorized, token_expired, forbidden, "
                 "not_found, conflict, invalid, link_gone, payload_too_large, unsupported_media_type, "
                 "database_unavailable, upstream_unavailable, rate_limited, malformed_body...",
                 "examples": ["not_found"]},
        "detail": {"type": "string", "description": "for people: what went wrong and what to do",
                   "examples": ["no account crm:events:C-404"]},
        "errors": {"type": "array", "description": "422 of a request FastAPI validated: each field's error",
                   "items": {"type": "object", "required": ["loc", "msg"], "properties": {
                       "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"type": "string"}}}},
    },
}
MEANING = {400: "the body is not what this route reads (malformed_body)",
           401: "no credentials, or not valid ones (unauthorized, token_expired, token_revoked)",
           403: "the member's role may not do this on this resource (forbidden)",
           404: "no such resource, or one outside the member's book (not_found)",
           409: "the resource's state forbids it now (conflict): see detail",
           410: "the share link was revoked or has expired (link_gone)",
           413: "the body is over JOURNEY_MAX_BODY_BYTES (payload_too_large)",
           415: "wrong Content-Type (unsupported_media_type)",
           422: "a parameter or the body is invalid (invalid): `errors` lists the fields",
           429: "too many requests through this share link (rate_limited); Retry-After says when",
           503: "the database (or a CRM's API) cannot be reached; retry after Retry-After seconds"}
CONFLICTS = {("put", "/api/accounts/{ref}/go-live"), ("patch", "/api/tasks/{task_id}"),
             ("patch", "/api/accounts/{ref}/handoff"), ("patch", "/api/reviews/{review_id}"),
             ("post", "/api/reviews/{review_id}/outcome"), ("post", "/api/events/{event_id}/replay"),
             ("post", "/api/accounts/{ref}/opportunities"), ("patch", "/api/opportunities/{opportunity_id}"),
             ("post", "/api/accounts/{ref}/share-links"), ("patch", "/api/share-links/{link_id}"),
             ("patch", "/api/team/{member_id}"), ("patch", "/api/portal/tasks/{task_id}"),
             ("post", "/api/portal/tasks/{task_id}/comments"),
             ("post", "/api/portal/objectives/{objective_id}/validation")}
QUERY_LOOKUPS = {"/api/kpis/weekly"}  # `?owner=` names a member: an unknown one is a 404
FORBIDDEN_READS = {"/api/events"}  # view_inbox: admins and revops only; other reads hide (404) rather than refuse
SIGNATURE_NOTE = {
    "/webhooks/events": "Authenticated by its Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, "
                        "`webhook-signature`: HMAC-SHA256 of the body with JOURNEY_WEBHOOK_SECRET; Svix's `svix-*` "
                        "names too), which OpenAPI's security schemes cannot express.",
    "/webhooks/hubspot": "Authenticated by HubSpot's v3 signature (`X-HubSpot-Signature-v3`, "
                         "`X-HubSpot-Request-Timestamp`: HMAC-SHA256 with the app's client secret).",
    "/webhooks/salesforce/{token}": "Authenticated by the secret `token` in the path "
                                    "(JOURNEY_SALESFORCE_PATH_TOKEN) and the message's OrganizationId "
                                    "(JOURNEY_SALESFORCE_ORG_ID); errors are SOAP faults (text/xml).",
}


def error_statuses(method: str, path: str, operation: dict) -> set[int]:
    """The error statuses an operation really answers (read from the routes' code; the role matrix and the
    fuzz test check the server against them)."""
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    if path.startswith("/api/"):
        names_one = "{" in path or path in QUERY_LOOKUPS  # a path id or a looked-up query parameter
        codes = {401, 503} | ({422} if has_input else set()) | ({404} if names_one else set())
        if path.startswith("/api/portal"):  # an unknown link is a 404, a revoked or expired one a 410
            codes |= {404, 410, 429} | ({403} if method == "patch" else set())
        elif method != "get" or path in FORBIDDEN_READS:
            codes.add(403)
        return codes | ({409} if (method, path) in CONFLICTS else set())
    if path.startswith("/webhooks/"):
        return {400, 401, 404, 413, 415, 503} | ({422} if path == "/webhooks/events" else set())
    return {401} if path == "/metrics" else {503} if path == "/readyz" else set()


def _problem_response(status: int, *, soap: bool = False) -> dict:
    if soap:
        return {"description": f"{MEANING.get(status, 'error')}, as a SOAP fault",
                "content": {"text/xml": {"schema": {"type": "string"}}}}
    return {"description": MEANING.get(status, "error"),
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _webhook_bodies(schemas: dict) -> dict[str, dict]:
    models = [(model, "validation") for model in EVENT_MODELS.values()]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    for name, schema in top.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    event = {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "description": "deal.signed, deal.updated or deal.lost (others are stored and "
                 "ignored)", "examples": list(EVENT_MODELS)},
        "timestamp": {"type": "string", "format": "date-time", "description": "when it happened at the sender"},
        "data": {"anyOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in EVENT_MODELS.values()]}}}
    schemas["WebhookEvent"] = event

    def json_body(schema: dict, examples: dict) -> dict:
        return {"required": True, "content": {"application/json": {
            "schema": schema, "examples": {k: {"summary": k, "value": v} for k, v in examples.items()}}}}

    return {
        "/webhooks/events": json_body({"$ref": "#/components/schemas/WebhookEvent"},
                                      {"deal.signed": ex.DEAL_SIGNED, "deal.updated": ex.DEAL_UPDATED,
                                       "deal.lost": ex.DEAL_LOST}),
        "/webhooks/hubspot": json_body({"type": "array", "items": {"type": "object"}, "description": "HubSpot's "
                                        "batch of subscription events"}, {"dealstage changed": ex.HUBSPOT}),
        "/webhooks/pipedrive": json_body({"type": "object", "description": "a Pipedrive webhook (v1 or v2)"},
                                         {"deal won (v2)": ex.PIPEDRIVE_V2}),
        "/webhooks/salesforce/{token}": {"required": True, "content": {"text/xml": {
            "schema": {"type": "string", "description": "an Outbound Message (SOAP)"},
            "examples": {"opportunity won": {"value": ex.SALESFORCE}}}}},
    }


def describe_api(app: FastAPI) -> None:
    """Make `app.openapi()` describe how journey really authenticates and answers errors (built once)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            app.openapi_schema = complete(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(spec: dict) -> dict:
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = SCHEMES
    schemas["Problem"] = PROBLEM_SCHEMA
    bodies = _webhook_bodies(schemas)
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            _complete_operation(method, path, op, bodies)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(spec):
            schemas.pop(unused, None)
    return spec


def _complete_operation(method: str, path: str, op: dict, bodies: dict[str, dict]) -> None:
    if path.startswith("/api/portal"):
        op["security"] = [{"shareLinkToken": []}]
    elif path.startswith("/api/"):
        op["security"] = [{"bearerToken": []}]
    elif path == "/metrics":
        op["security"] = [{"metricsToken": []}, {}]
    elif path == "/webhooks/pipedrive":
        op["security"] = [{"pipedriveBasic": []}]
    else:
        op["security"] = []
        if path in SIGNATURE_NOTE:
            op["description"] = (op.get("description", "") + "\n\n" + SIGNATURE_NOTE[path]).strip()
    if op["security"] != []:  # the scheme is the Authorization header: not a parameter too
        op["parameters"] = [p for p in op.get("parameters", [])
                            if not (p.get("in") == "header" and p.get("name", "").lower() == "authorization")]
        if not op["parameters"]:
            del op["parameters"]
    if method == "post" and path in bodies:
        op["requestBody"] = bodies[path]
    responses = op.setdefault("responses", {})
    soap = path.startswith("/webhooks/salesforce")
    wanted = error_statuses(method, path, op)
    for status in list(responses):
        if status.isdigit() and int(status) >= 400 and int(status) not in wanted and int(status) != 500:
            del responses[status]
    for status in sorted(wanted):
        responses[str(status)] = _problem_response(status, soap=soap)
