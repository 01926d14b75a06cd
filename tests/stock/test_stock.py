"""TMF687 productStock over HTTP (chalice test client, moto in-process): availability per
location for every channel, writes for catalog admins and stacks only, the same request twice,
bad bodies (4xx TMF errors, nothing written), optimistic concurrency, and bodies valid against
the TMF687 v4 ProductStock schema."""
import json

import pytest

from chalicelib.stock import schemas
from tests.stock.conftest import CENTRAL, CORK, DUBLIN, STOCK, required, stored, valid


def new_stock(offering="po-phone-x-case", location="store-dublin-grafton", amount=12, **extra):
    return {"productStockLevel": {"amount": amount}, "productStockStatusType": "available",
            "stockedProduct": {"productOffering": {"id": offering}}, "place": {"id": location, "role": "stockLocation"},
            **extra}


def test_channels_read_availability_per_location(api, demo, web, andrea, agent):
    for who in (web, andrea, agent):
        status, items, headers = api.call("GET", f"{STOCK}?stockedProduct.productOffering.id=po-phone-x", who)
        assert status == 200 and headers["X-Total-Count"] == "3" == headers["X-Result-Count"]
        assert {s["id"]: s["productStockLevel"]["amount"] for s in items} == {CENTRAL: 50, DUBLIN: 4, CORK: 1}
        assert all(valid(s, "ProductStock") for s in items)
    _, cork, _ = api.call("GET", f"{STOCK}?place.id=store-cork-patrick", web)
    assert [s["id"] for s in cork] == [CORK] and cork[0]["place"]["name"] == "Omnishop Cork, Patrick Street"
    _, ids, _ = api.call("GET", f"{STOCK}?fields=id", web)
    assert all(s.keys() == {"id", "href"} for s in ids)        # the kit wants exactly id and href
    _, page, headers = api.call("GET", f"{STOCK}?limit=1&offset=1", web)
    assert len(page) == 1 and headers["X-Total-Count"] == "3" and page[0]["id"] == CORK
    status, one, headers = api.call("GET", f"{STOCK}/{DUBLIN}", web)
    assert status == 200 and valid(one, "ProductStock") and headers["ETag"] == '"1"'
    assert api.call("GET", f"{STOCK}/nope", web)[0] == 404
    assert api.call("GET", f"{STOCK}?limit=0", web)[0] == 400


def test_catalog_admins_and_stacks_write_stock(api, demo, admin, stack):
    status, made, headers = api.call("POST", STOCK, admin, new_stock())
    assert status == 201 and made["id"] == "po-phone-x-case--store-dublin-grafton" and valid(made, "ProductStock")
    assert headers["Location"] == made["href"] and headers["ETag"] == '"1"'
    status, changed, headers = api.call("PATCH", f"{STOCK}/{made['id']}", stack, {"productStockLevel": {"amount": 30}})
    assert status == 200 and changed["productStockLevel"] == {"amount": 30, "units": "unit"} and headers["ETag"] == '"2"'
    assert api.call("GET", f"{STOCK}/{made['id']}", admin)[1]["productStockLevel"]["amount"] == 30
    assert api.call("DELETE", f"{STOCK}/{made['id']}", stack)[0] == 204
    assert api.call("GET", f"{STOCK}/{made['id']}", admin)[0] == 404


@pytest.mark.parametrize("role", ["agent", "channel", "customer", "marketing"])
def test_other_roles_and_customers_do_not_write_stock(api, demo, headers, role):
    who = headers(role, channel="web", customerId="cust-andrea", sub="someone")
    before = stored()
    for method, path, body in (("POST", STOCK, new_stock()), ("PATCH", f"{STOCK}/{CORK}", {"productStockLevel": {"amount": 99}}),
                               ("DELETE", f"{STOCK}/{CORK}", None)):
        status, error, _ = api.call(method, path, who, body)
        assert status == 403 and error["code"] == "forbidden", (method, error)
    assert stored() == before


def test_marketing_does_not_read_stock(api, demo, headers):
    assert api.call("GET", STOCK, headers("marketing", sub="mkt"))[0] == 403


def test_the_same_create_twice_makes_one_stock(api, demo, admin):
    assert api.call("POST", STOCK, admin, new_stock())[0] == 201
    status, error, _ = api.call("POST", STOCK, admin, new_stock(amount=99))
    assert status == 409 and error["code"] == "duplicateStock"
    ids = [i["pk"]["S"] for i in stored()]
    assert ids.count("po-phone-x-case--store-dublin-grafton") == 1
    assert api.call("GET", f"{STOCK}/po-phone-x-case--store-dublin-grafton", admin)[1]["productStockLevel"]["amount"] == 12


BAD = [
    ("not json", b"{not json", 400),
    ("an array", b"[1, 2]", 400),
    ("too deep", b'{"a":' * 40 + b"1" + b"}" * 40, 400),
    ("no level", {k: v for k, v in new_stock().items() if k != "productStockLevel"}, 400),
    ("no status", {k: v for k, v in new_stock().items() if k != "productStockStatusType"}, 400),
    ("no product", {k: v for k, v in new_stock().items() if k != "stockedProduct"}, 400),
    ("negative", new_stock(amount=-1), 400),
    ("fraction", new_stock(amount=1.5), 400),
    ("text amount", new_stock(amount="12"), 400),
    ("bad status", {**new_stock(), "productStockStatusType": "plenty"}, 400),
    ("place without role", {**new_stock(), "place": {"id": "store-cork-patrick"}}, 400),
    ("unknown place", new_stock(location="store-moon"), 422),
    ("unknown offering", new_stock(offering="po-nothing"), 422),
    ("@type not text", {**new_stock(), "@type": 5}, 400),
]


@pytest.mark.parametrize("name,body,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_bodies_are_4xx_and_write_nothing(api, demo, admin, name, body, expected):
    before = stored()
    status, error, _ = api.call("POST", STOCK, admin, body)
    assert status == expected and error["@type"] == "Error" and error["status"] == str(expected), error
    assert stored() == before


def test_huge_and_non_json_content_types_are_refused(api, demo, admin):
    before = stored()
    huge = json.dumps({**new_stock(), "description": "x" * 11_000_000})
    assert api.call("POST", STOCK, admin, huge)[0] == 413
    big = {**new_stock(), "description": "x" * 3000, "channel": [{"id": "c" * 200, "name": "n" * 900}] * 20,
           "relatedParty": [{"id": "p" * 200, "name": "n" * 900}] * 20, "note": "y" * 500_000}
    status, error, _ = api.call("POST", STOCK, admin, big)       # JSON, but larger than one stored item
    assert status == 413 and error["code"] == "payloadTooLarge"
    text = {**admin, "Content-Type": "text/plain"}
    assert api.call("POST", STOCK, text, json.dumps(new_stock()))[0] == 415
    assert stored() == before


def test_patch_keeps_what_names_the_stock_and_honours_if_match(api, demo, admin):
    for patch in ({"stockedProduct": {"productOffering": {"id": "po-phone-x-case"}}},
                  {"place": {"id": "central-warehouse", "role": "stockLocation"}}, {"id": "other"},
                  {"productStockLevel": {"amount": -3}}):
        status, error, _ = api.call("PATCH", f"{STOCK}/{CORK}", admin, patch)
        assert status == 400, (patch, error)
    stale = {**admin, "If-Match": '"7"'}
    status, current, _ = api.call("PATCH", f"{STOCK}/{CORK}", stale, {"productStockLevel": {"amount": 2}})
    assert status == 412 and current["productStockLevel"]["amount"] == 1
    fresh = {**admin, "If-Match": '"1"'}
    assert api.call("PATCH", f"{STOCK}/{CORK}", fresh, {"productStockLevel": {"amount": 2}})[0] == 200
    assert api.call("PATCH", f"{STOCK}/nope", admin, {"name": "x"})[0] == 404


def test_payload_models_require_what_the_spec_requires():
    assert {n for n, f in schemas.ProductStockCreate.model_fields.items() if f.is_required()} == \
        required("ProductStock_Create")
    assert {n for n, f in schemas.ReserveProductStockCreate.model_fields.items() if f.is_required()} == \
        required("ReserveProductStock_Create")
    # the kit (v4.1.0) reserves without requestedProduct, which v4.0.0 requires (docs/decisions.md)
    assert {n for n, f in schemas.ReserveItem.model_fields.items() if f.is_required()} == \
        required("ReserveProductStockItem") - {"requestedProduct"}
