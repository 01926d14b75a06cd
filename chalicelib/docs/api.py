"""The API reference, unauthenticated (it names routes and roles, never data):

    GET /tmf-api/<api>/v4/openapi.json    the OpenAPI 3.1 document of a TMF API Omnishop serves
    GET /openapi/<name>.json              the document of one of Omnishop's own route groups
    GET /docs                             every API, listed and rendered (Swagger UI)
    GET /docs/{asset}                     Swagger UI's bundle (npm swagger-ui-dist, never a CDN)

`register(app)` runs last in app.py, once every other route is registered: it adds one document
route per API the route table has at that moment.
"""
from __future__ import annotations

import functools
import html
import json
import pathlib
import shutil
import sys
from typing import Any

from chalicelib import tmf
from chalicelib.docs import openapi
from chalicelib.errors import not_found
from chalicelib.http import Call, Reply, endpoint, text

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Where Swagger UI's files are: in node_modules (npm, package.json) in a checkout; in the Lambda,
# where `make synth` put them: vendor/, whose contents chalice ships at the package root, or, with
# automatic_layer (.chalice/config.json), in the layer's site-packages: both are on sys.path.
RENDERER = "swagger-ui-dist"
VENDORED = ROOT / "vendor" / RENDERER
RENDERER_DIRS = (ROOT / "node_modules" / RENDERER, VENDORED, *(pathlib.Path(p) / RENDERER for p in sys.path if p))
ASSETS = {"swagger-ui-bundle.js": "application/javascript; charset=utf-8",
          "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8"}
LICENCE = ("LICENSE", "NOTICE")   # Apache-2.0: shipped with the files


@functools.lru_cache(maxsize=None)
def asset_text(name: str) -> str | None:
    for folder in RENDERER_DIRS:
        if (folder / name).is_file():
            return (folder / name).read_text(encoding="utf-8")
    return None


def _kind(api: str) -> str:
    spec = openapi.spec_name(api)
    return f"TM Forum {spec}" if spec else "Omnishop's own"


def page(apis: list[str]) -> str:
    """/docs: a list of every API (plain links, readable without JavaScript) and Swagger UI."""
    urls = [{"name": api, "url": openapi.document_path(api).lstrip("/")} for api in apis]
    items = "\n".join(f'<li><a href="{html.escape(u["url"])}">{html.escape(u["name"])}</a> '
                      f'({_kind(u["name"])})</li>' for u in urls)
    # Relative links: the page works under an API Gateway stage (/api/docs) as on the local runtime.
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnishop API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body>
<h1>Omnishop API reference</h1>
<p>One OpenAPI 3.1 document per API, generated from the route table, the access table and the
pydantic models. <code>x-omnishop-roles</code>: who may call a route; <code>x-omnishop-extension</code>:
not in the TM Forum spec.</p>
<ul id="apis">
{items}
</ul>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  urls: {json.dumps(urls)},
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  deepLinking: true
}});
</script>
</body></html>
"""


def register(app: Any) -> None:
    openapi.bind(app)
    names = openapi.apis([*app.routes, "/docs"])

    for api in names:
        @endpoint(app, openapi.document_path(api), ["GET"], authenticated=False, name=f"openapi_{api}")
        def serve_document(call: Call, api: str = api) -> Reply:
            doc = openapi.document(api)
            doc["servers"] = [{"url": tmf.base_url()}]
            return Reply(doc)

    @endpoint(app, "/docs", ["GET"], authenticated=False, name="docs_page")
    def docs_page(call: Call) -> Reply:
        """Every API, listed and rendered by Swagger UI."""
        return text(page(names), "text/html; charset=utf-8")

    @endpoint(app, "/docs/{asset}", ["GET"], authenticated=False, name="docs_asset")
    def docs_asset(call: Call, asset: str) -> Reply:
        """Swagger UI's bundle, served from the npm package (swagger-ui-dist)."""
        body = asset_text(asset) if asset in ASSETS else None
        if body is None:
            raise not_found("docs asset", asset)
        reply = text(body, ASSETS[asset])
        reply.headers["Cache-Control"] = "public, max-age=3600"
        return reply


def vendor() -> None:
    """`make synth`: copy Swagger UI's files from node_modules to vendor/ (gitignored) for chalice."""
    source = ROOT / "node_modules" / RENDERER
    shutil.rmtree(VENDORED, ignore_errors=True)
    VENDORED.mkdir(parents=True)
    for name in (*ASSETS, *LICENCE):
        shutil.copy2(source / name, VENDORED / name)
    print(f"copied {len(ASSETS) + len(LICENCE)} files of {RENDERER} to {VENDORED}/")


if __name__ == "__main__":
    vendor()
