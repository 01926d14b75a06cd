"""The API reference (chalicelib/docs, issue 17): every served route is in its API's document and
every documented operation is served (walking app.routes), each document is valid OpenAPI 3.1
(openapi-spec-validator), roles come from the access table, TMF extensions are marked from the
specs, and /docs lists every API and serves Swagger UI's bundle.

Here the page is checked as HTML and its scripts as JavaScript served with 200; that Swagger UI
renders every API in a browser is checked by test_docs_browser.py.
"""
from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts, get_spec_version

from chalicelib import access
from chalicelib.docs import openapi, tmf_index
from tests.support.shared import SHARED


@pytest.fixture(scope="module")
def app():
    from app import app

    return app


def _served(app) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in app.routes.items() for method in methods}


def test_every_served_route_is_documented_and_every_documented_route_served(app):
    served = _served(app)
    documented: set[tuple[str, str]] = set()
    for api in openapi.apis():
        for path, ops in openapi.document(api)["paths"].items():
            assert openapi.api_of(path) == api, f"{path} is in {api}'s document"
            documented |= {(path, method.upper()) for method in ops}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    # and what API Gateway is given (chalice's own Swagger of the app, as `chalice package` makes it)
    from chalice.deploy.swagger import SwaggerGenerator

    gateway = SwaggerGenerator("eu-west-1", {"api_handler_arn": "arn:aws:lambda:eu-west-1:1:function:f"}
                               ).generate_swagger(app)["paths"]
    assert {(p, m.upper()) for p, ops in gateway.items() for m in ops if m != "options"} == documented
    # the local runtime's routes are there (tests run in local mode) and in their own document
    assert ("/local/token", "POST") in served and "local" in openapi.apis()


@pytest.mark.parametrize("api", openapi.apis(__import__("app").app.routes))
def test_each_document_is_valid_openapi_3_1(api):
    doc = openapi.document(api)
    assert get_spec_version(doc) == consts.OPENAPIV31
    validate(doc)   # raises on an invalid document
    assert doc["paths"], f"{api} documents no route"


def test_roles_are_the_access_tables(app):
    for path, methods in app.routes.items():
        for method in methods:
            op = openapi.document(openapi.api_of(path))["paths"][path][method.lower()]
            rule = access.route(path, method)
            if op.get("security") == []:
                assert op["x-omnishop-roles"] == {}
                continue
            assert rule is not None, f"{method} {path}"
            assert set(op["x-omnishop-roles"]) == set(access.roles(*rule)) != set()
            assert all(role in op["description"] for role in op["x-omnishop-roles"])
    worklist = openapi.document("recovery")["paths"]["/recovery/worklist"]["get"]
    assert worklist["x-omnishop-roles"] == {"agent": "all"}


def test_request_bodies_are_the_services_pydantic_models():
    from chalicelib.basket import schemas as basket
    from chalicelib.ordering import schemas as ordering

    doc = openapi.document("shoppingCart")
    post = doc["paths"]["/tmf-api/shoppingCart/v4/shoppingCart"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShoppingCart"}
    cart = doc["components"]["schemas"]["ShoppingCart"]
    assert set(cart["properties"]) == set(basket.ShoppingCart.model_json_schema(by_alias=True)["properties"])
    assert cart["properties"]["status"]["anyOf"][0]["enum"] == list(basket.STATUS.__args__)
    patch = doc["paths"]["/tmf-api/shoppingCart/v4/shoppingCart/{rid}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/merge-patch+json", "application/json"}
    assert "required" not in doc["components"]["schemas"]["ShoppingCart_Update"]
    order = openapi.document("productOrderingManagement")
    assert order["paths"]["/tmf-api/productOrderingManagement/v4/productOrder/{rid}"]["patch"]["requestBody"][
        "content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ProductOrderAmendment_Update"
    assert "ProductOrderAmendment" in order["components"]["schemas"]
    assert ordering.ProductOrderAmendment.__name__ == "ProductOrderAmendment"
    # every body a route names resolves to a model (a typo in body= fails here)
    assert "ProductOffering" in openapi.body_model_names()


def test_tmf_extensions_are_marked():
    cart = openapi.document("shoppingCart")
    paths = cart["paths"]
    assert "x-omnishop-extension" not in paths["/tmf-api/shoppingCart/v4/shoppingCart"]["get"]
    assert "x-omnishop-extension" not in paths["/tmf-api/shoppingCart/v4/hub"]["post"]
    assert paths["/tmf-api/shoppingCart/v4/hub/{sid}"]["get"]["x-omnishop-extension"] is True   # not in v4.0.0
    props = cart["components"]["schemas"]["ShoppingCart"]["properties"]
    assert props["status"]["x-omnishop-extension"] is True and props["context"]["x-omnishop-extension"] is True
    assert "x-omnishop-extension" not in props["cartItem"] and "x-omnishop-extension" not in props["relatedParty"]
    poq = openapi.document("productOfferingQualification")["paths"]
    assert poq["/tmf-api/productOfferingQualification/v4/guidedSelling/{oid}"]["get"]["x-omnishop-extension"]
    assert openapi.document("campaignManagement")["info"]["x-omnishop-extension"] is True   # no TMF spec
    assert openapi.document("recovery")["info"]["x-omnishop-extension"] is True


def test_tmf_index_is_what_the_specs_say():
    """tmf_index.json is derived from shared/tmf/specs; regenerate it with
    `python -m chalicelib.docs.tmf_index <shared>/tmf/specs` when a spec or a body model changes."""
    built = tmf_index.build(SHARED / "tmf" / "specs", openapi.body_model_names())
    assert json.loads(tmf_index.INDEX.read_text()) == built


def test_documents_docs_page_and_renderer_are_served_without_a_token(client):
    answer = client.http.get("/tmf-api/shoppingCart/v4/openapi.json")
    assert answer.status_code == 200
    doc = json.loads(answer.body)
    assert doc["openapi"] == "3.1.0" and "/tmf-api/shoppingCart/v4/shoppingCart" in doc["paths"]
    assert doc["servers"][0]["url"].startswith("http")
    own = client.http.get("/openapi/recovery.json")
    assert own.status_code == 200 and "/recovery/worklist" in json.loads(own.body)["paths"]

    page = client.http.get("/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    for api in openapi.apis():
        assert f'href="{openapi.document_path(api).lstrip("/")}"' in html and f">{api}</a>" in html
    assert ">shoppingCart</a> (TM Forum TMF663)" in html and ">campaignManagement</a> (Omnishop's own)" in html
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui-standalone-preset.js", "javascript"),
                        ("swagger-ui.css", "css")):
        assert f'docs/{asset}"' in html
        served = client.http.get(f"/docs/{asset}")
        assert served.status_code == 200 and kind in served.headers["Content-Type"]
        assert len(served.body) > 10_000
    bundle = client.http.get("/docs/swagger-ui-bundle.js").body.decode()
    assert "SwaggerUIBundle" in bundle
    missing = client.http.get("/docs/package.json")   # only the renderer's three files
    assert missing.status_code == 404 and json.loads(missing.body)["code"] == "notFound"


def test_make_synth_vendors_the_renderer_where_the_lambda_finds_it(monkeypatch, tmp_path):
    from chalicelib.docs import api

    monkeypatch.setattr(api, "VENDORED", tmp_path / "vendor" / api.RENDERER)
    api.vendor()
    assert sorted(p.name for p in api.VENDORED.iterdir()) == sorted([*api.ASSETS, *api.LICENCE])
    # in the Lambda there is no node_modules: the vendored copy (on sys.path there) is served
    monkeypatch.setattr(api, "RENDERER_DIRS", (tmp_path / "node_modules" / api.RENDERER, api.VENDORED))
    api.asset_text.cache_clear()
    try:
        assert "SwaggerUIBundle" in api.asset_text("swagger-ui-bundle.js")
        monkeypatch.setattr(api, "RENDERER_DIRS", (tmp_path / "nowhere",))
        api.asset_text.cache_clear()
        assert api.asset_text("swagger-ui-bundle.js") is None
    finally:
        api.asset_text.cache_clear()


def test_demo_examples_fit_their_models(app):
    """Each demo example validates with the model its route's service validates with."""
    found = 0
    for api in openapi.apis():
        doc = openapi.document(api)
        for path, ops in doc["paths"].items():
            post = ops.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
            if not post or "examples" not in post:
                continue
            name = post["schema"]["$ref"].rsplit("/", 1)[-1]
            fn, body, _ = app.routes[path]["POST"].view_function.route
            openapi.resolve_model(fn, body).model_validate(post["examples"]["demo"]["value"])
            assert name in openapi.DEMO_EXAMPLES
            found += 1
    assert found == len(openapi.DEMO_EXAMPLES)   # each example shown on its create route


def test_the_error_schema_is_what_api_error_sends():
    import jsonschema

    from chalicelib.errors import bad_request

    body = bad_request("nope").to_body()
    jsonschema.validate(body, openapi.ERROR_SCHEMA)
    assert set(body) == set(openapi.ERROR_SCHEMA["properties"])
