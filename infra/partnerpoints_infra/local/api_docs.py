"""The contract, served by the local stack: GET /openapi.json (docs/openapi.json as committed) and GET
/docs, Swagger UI on that document, from the swagger-ui-dist package pinned in infra/package.json (no
CDN: the page loads only what this stack serves). Not template routes: AWS serves neither."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from werkzeug.wrappers import Request, Response

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
SWAGGER_UI_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Partner Points API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""
# A file of its own, so the page needs no inline script (its Content-Security-Policy allows none).
_START = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n'
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
}


def _asset(name: str) -> Response:
    asset = SWAGGER_UI_DIR / name
    if not asset.exists():
        return Response("Swagger UI is not installed: run make bootstrap", 503, _HEADERS)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(asset.read_bytes(), 200, _HEADERS, content_type=kind)


def answer(request: Request) -> Response | None:
    """The documentation's answer to this request, or None when it is not one of its paths."""
    if request.method not in ("GET", "HEAD"):
        return None
    path = request.path
    pages = {
        "/docs": (_PAGE, "text/html; charset=utf-8"),
        "/docs/": (_PAGE, "text/html; charset=utf-8"),
        "/docs/start.js": (_START, "text/javascript"),
    }
    if path == "/openapi.json":
        return Response(DOCUMENT_PATH.read_bytes(), 200, _HEADERS, content_type="application/json")
    if path in pages:
        text, kind = pages[path]
        return Response(text, 200, _HEADERS, content_type=kind)
    name = path.removeprefix("/docs/")
    return _asset(name) if path.startswith("/docs/") and name in ASSETS else None
