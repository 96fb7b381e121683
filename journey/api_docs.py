"""`/docs`: Swagger UI from files installed with journey (no CDN: it works offline), under a strict
Content-Security-Policy. The files are swagger-ui-dist 5 (Apache-2.0) as shipped by the `fastapi-offline`
package; its one inline script (the initialiser FastAPI writes) runs by a per-response nonce. ReDoc is off:
it needs inline styles and a CDN font."""
from __future__ import annotations

import secrets
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

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
