"""TMF637 Product Inventory over HTTP (chalice test client, moto in-process): each role, another
customer's products, bad input (4xx TMF bodies, nothing written), optimistic concurrency, hub
events from the table stream, and response bodies valid against the TMF637 Product schema."""
import concurrent.futures
import json

import pytest

from chalicelib.errors import ApiError
from infra.local.listener import Listener
from tests.inventory.conftest import BASE, PRODUCTS, stored_products, valid_product

ANDREAS = "prod-andrea-broadband"
STACYS = "prod-stacy-mobile"        # provided by csp-stack-b
ODD_VALUES = [None, 5, -1.5, True, "", "x" * 3000, "²", "\u0000", [], [1, "a"], {}, {"id": 5}, "../../etc"]


def new_product(**extra):
    return {"name": "TV Max", "status": "active", "productOffering": {"id": "po-tv-max"},
            "relatedParty": [{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}], **extra}


def test_agents_list_every_product_valid_against_the_tmf637_schema(api, demo, agent):
    status, items, headers = api.call("GET", PRODUCTS, agent)
    assert status == 200 and {ANDREAS, STACYS, "prod-acme-broadband"} <= {p["id"] for p in items}
    assert headers["X-Total-Count"] == str(len(items)) == headers["X-Result-Count"]
    for product in items:
        assert valid_product(product)
        for attribute in ("billingAccount", "href", "id", "productCharacteristic", "productOffering", "productPrice",
                          "relatedParty", "status"):      # what the TMF637 kit requires of each
            assert attribute in product, (product["id"], attribute)
    status, one, headers = api.call("GET", f"{PRODUCTS}/{ANDREAS}", agent)
    assert status == 200 and valid_product(one) and headers["ETag"] == '"1"'
    assert one["productTerm"][0]["validFor"]["endDateTime"] > one["startDate"]
    assert api.call("GET", f"{PRODUCTS}?fields=id", agent)[1][0].keys() == {"id"}
    _, page, headers = api.call("GET", f"{PRODUCTS}?status=active&limit=1&offset=1", agent)
    assert len(page) == 1 and int(headers["X-Total-Count"]) >= 3
    assert [p["id"] for p in api.call("GET", f'{PRODUCTS}?id="{STACYS}"', agent)[1]] == [STACYS]
    _, andreas, _ = api.call("GET", f"{PRODUCTS}?relatedParty.id=cust-andrea", agent)
    assert [p["id"] for p in andreas] == [ANDREAS]
    status, error, _ = api.call("GET", f"{PRODUCTS}/55a2163b-489e-4138-93e9-8becb24272f2", agent)
    assert status == 404 and error["@type"] == "Error" and error["code"] == "notFound"


def test_a_customer_reads_only_her_own(api, demo, as_customer, headers):
    andrea, stacy = as_customer("cust-andrea"), as_customer("cust-stacy", "app")
    _, mine, _ = api.call("GET", PRODUCTS, andrea)
    assert [p["id"] for p in mine] == [ANDREAS]
    assert api.call("GET", f"{PRODUCTS}/{ANDREAS}", andrea)[0] == 200
    status, error, _ = api.call("GET", f"{PRODUCTS}/{ANDREAS}", stacy)
    assert status == 404 and error["code"] == "notFound"                    # not 403: it is not hers to know of
    assert api.call("GET", f"{PRODUCTS}?id={ANDREAS}", stacy)[1] == []
    assert api.call("GET", f"{PRODUCTS}?relatedParty.id=cust-andrea", stacy)[1] == []
    # customers do not declare or change what they hold
    assert api.call("POST", PRODUCTS, andrea, new_product())[0] == 403
    assert api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", andrea, {"status": "suspended"})[0] == 403
    assert api.call("DELETE", f"{PRODUCTS}/{ANDREAS}", andrea)[0] == 403
    assert api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", stacy, {"status": "suspended"})[0] == 403  # no customer writes
    # a channel reads products only with the customer's own token (chalicelib/access.py), even
    # when its token names a customer
    for_andrea = headers("channel", channel="app", customerId="cust-andrea", sub="app")
    assert api.call("GET", PRODUCTS, for_andrea)[0] == 403
    assert api.call("GET", f"{PRODUCTS}/{STACYS}", for_andrea)[0] == 403
    status, error, _ = api.call("GET", PRODUCTS, headers("channel", channel="web", sub="portal"))
    assert status == 403 and error["code"] == "forbidden"
    for role, claims in (("marketing", {}), ("catalog-admin", {}), ("agent", {"channel": "web"})):
        assert api.call("GET", f"{PRODUCTS}/{ANDREAS}", headers(role, sub="x", **claims))[0] == 403, role
    assert api.call("GET", PRODUCTS, {"Content-Type": "application/json"})[0] == 401
    assert stored_products()  # nothing above wrote or removed anything: the demo products are there
    assert api.call("GET", f"{PRODUCTS}/{ANDREAS}", andrea)[1]["status"] == "active"


def test_a_stack_reaches_the_products_it_provides(api, demo, stack, agent):
    a, b = stack("csp-stack-a"), stack("csp-stack-b")
    _, theirs, _ = api.call("GET", PRODUCTS, a)
    assert sorted(p["id"] for p in theirs) == ["prod-acme-broadband", ANDREAS]
    assert api.call("GET", f"{PRODUCTS}/{STACYS}", a)[0] == 404
    assert api.call("PATCH", f"{PRODUCTS}/{STACYS}", a, {"status": "suspended"})[0] == 404
    status, doc, _ = api.call("PATCH", f"{PRODUCTS}/{STACYS}", b, {"status": "suspended"})
    assert status == 200 and doc["status"] == "suspended" and valid_product(doc)
    status, made, _ = api.call("POST", PRODUCTS, b, new_product())
    assert status == 201 and {"id": "csp-stack-b", "role": "fulfilmentStack"}.items() <= made["relatedParty"][-1].items()
    status, error, _ = api.call("POST", PRODUCTS, b, new_product(relatedParty=[
        {"id": "cust-andrea", "role": "customer", "@referredType": "Customer"},
        {"id": "csp-stack-a", "role": "fulfilmentStack", "@referredType": "Organization"}]))
    assert status == 400 and "its own products" in error["message"]
    # a stack token that names no stack of Omnishop is never issued (chalicelib.auth), so it reaches nothing
    with pytest.raises(ApiError):
        stack("somebody")
    assert api.call("GET", f"{PRODUCTS}/{made['id']}", agent)[0] == 200


def test_agents_create_change_and_delete_with_events_on_the_hub(api, demo, agent, pump):
    with Listener() as listener:
        assert api.call("POST", f"{BASE}/hub", agent, {"callback": listener.url})[0] == 201
        status, made, headers = api.call("POST", PRODUCTS, agent, new_product(productCharacteristic=[
            {"name": "channels", "value": 120}]))
        assert status == 201 and headers["Location"] == made["href"] and headers["ETag"] == '"1"'
        assert made["href"].endswith(f"{PRODUCTS}/{made['id']}") and valid_product(made)
        assert made["billingAccount"]["id"] == "acc-andrea" and made["relatedParty"][0]["name"] == "Andrea Rossi"
        assert api.call("GET", f"{PRODUCTS}/{made['id']}", agent)[1] == made
        path = f"{PRODUCTS}/{made['id']}"
        status, changed, headers = api.call("PATCH", path, {**agent, "If-Match": '"1"'}, {"status": "suspended"})
        assert status == 200 and changed["status"] == "suspended" and headers["ETag"] == '"2"'
        status, current, _ = api.call("PATCH", path, {**agent, "If-Match": '"1"'}, {"status": "active"})
        assert status == 412 and current["status"] == "suspended"          # stale: the current product
        status, _, _ = api.call("PATCH", path, {**agent, "Content-Type": "application/merge-patch+json"},
                                {"description": "living room", "productCharacteristic": [{"name": "hd", "value": True}]})
        assert status == 200
        assert api.call("DELETE", path, {**agent, "If-Match": '"1"'})[0] == 412
        assert api.call("DELETE", path, agent)[0] == 204
        assert api.call("GET", path, agent)[0] == 404
        assert api.call("DELETE", path, agent)[0] == 404
        pump.drain()
        assert pump.errors == []
        assert listener.event_types() == ["ProductCreateEvent", "ProductStateChangeEvent",
                                          "ProductAttributeValueChangeEvent", "ProductDeleteEvent"]
        assert listener.events[1]["event"]["product"]["status"] == "suspended"


@pytest.mark.parametrize("case, body, status, code", [
    ("no customer", {"name": "x", "status": "active"}, 400, "invalidInput"),
    ("two customers", new_product(relatedParty=[{"id": "cust-andrea", "role": "customer"},
                                                {"id": "cust-stacy", "role": "customer"}]), 400, "invalidInput"),
    ("unknown customer", new_product(relatedParty=[{"id": "cust-nobody", "role": "customer"}]), 422, "unknownCustomer"),
    ("no status", {k: v for k, v in new_product().items() if k != "status"}, 400, "invalidInput"),
    ("unknown status", new_product(status="asleep"), 400, "invalidInput"),
    ("characteristic without value", new_product(productCharacteristic=[{"name": "x"}]), 400, "invalidInput"),
    ("price not a list", new_product(productPrice={"price": 5}), 400, "invalidInput"),
    ("term ends before it starts", new_product(productTerm=[{"validFor": {
        "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"}}]), 400, "invalidInput"),
    ("relationship without product", new_product(productRelationship=[{"relationshipType": "bundles"}]), 400,
     "invalidInput"),
    ("too many characteristics", new_product(productCharacteristic=[{"name": "x", "value": 1}] * 101), 400,
     "invalidInput"),
])
def test_bad_input_is_a_4xx_tmf_error_and_writes_nothing(api, demo, agent, case, body, status, code):
    before = stored_products()
    got, error, _ = api.call("POST", PRODUCTS, agent, body)
    assert (got, error["code"], error["@type"]) == (status, code, "Error"), error
    assert error["message"] and error["reason"]
    assert stored_products() == before


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('{"status": "active"' + "}" * 0, "application/json", 400),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    ("", "application/json", 400),
    ('{"status": "active"}', "text/plain", 415),
    (json.dumps(new_product(description="x" * 2_000_000)), "application/json", 413),
])
def test_bodies_that_are_not_quite_json(api, demo, agent, raw, content_type, status):
    before = stored_products()
    got, error, _ = api.call("POST", PRODUCTS, {**agent, "Content-Type": content_type}, raw)
    assert got == status and error["@type"] == "Error"
    got, error, _ = api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", {**agent, "Content-Type": content_type}, raw)
    assert got == status and error["@type"] == "Error"
    assert stored_products() == before


def test_patches_that_are_refused_change_nothing(api, demo, agent):
    before = stored_products()
    for patch, status in (({"status": "created"}, 422), ({"id": "x"}, 400), ({"status": None}, 400),
                          ({"relatedParty": [{"id": "cust-stacy", "role": "customer"}]}, 400),
                          ({"productOrderItem": []}, 400), ({"billingAccount": {"id": None}}, 400)):
        got, error, _ = api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", agent, patch)
        assert (got, error["@type"]) == (status, "Error"), (patch, error)
    api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", agent, {"status": "terminated"})
    got, error, _ = api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", agent, {"status": "active"})
    assert got == 422 and error["code"] == "invalidStatusTransition"
    assert len(stored_products()) == len(before)


def test_no_odd_value_reaches_a_500(api, demo, agent, stack):
    for key in ("status", "relatedParty", "productCharacteristic", "productPrice", "productTerm", "billingAccount",
                "productOffering", "place", "productRelationship", "startDate", "isBundle", "name", "@type", "id"):
        for value in ODD_VALUES:
            for method, path in (("POST", PRODUCTS), ("PATCH", f"{PRODUCTS}/{STACYS}")):
                status, answer, _ = api.call(method, path, agent, {**new_product(), key: value})
                assert status < 500 and (status < 300 or answer["@type"] == "Error"), (method, key, value, answer)
    for template in (f"{PRODUCTS}/{{x}}", f"{PRODUCTS}?id={{x}}", f"{PRODUCTS}?limit={{x}}", f"{PRODUCTS}?offset={{x}}",
                     f"{PRODUCTS}?relatedParty.id={{x}}", f"{PRODUCTS}?status.gt={{x}}"):
        for value in ("x" * 3000, "%00", "-1", "0", "'", "..%2F"):
            assert api.call("GET", template.format(x=value), stack("csp-stack-a"))[0] < 500, (template, value)


def test_twenty_writers_at_once_one_wins_at_a_version(aws, demo):
    from chalicelib.auth import Caller
    from chalicelib.errors import ApiError
    from chalicelib.inventory import service

    agent = Caller(sub="agent-1", role="agent", channel="callcenter")

    def suspend(n):
        try:
            service.update(ANDREAS, {"status": "suspended", "description": f"writer {n}"}, agent, '"1"')
            return 200
        except ApiError as exc:
            return exc.status

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(suspend, range(20)))
    assert sorted(answers) == [200] + [412] * 19
    doc, version = service.read(ANDREAS, agent)
    assert version == 2 and doc["status"] == "suspended"


def test_a_stale_edit_tells_a_stack_no_more_than_a_read(api, demo, stack, agent):
    """A 412 carries the current product: as the caller may see it (a stack reads the products
    it provides without the holder's name), never the stored document."""
    a = stack("csp-stack-a")
    status, seen, _ = api.call("GET", f"{PRODUCTS}/{ANDREAS}", a)
    assert status == 200 and "Rossi" not in json.dumps(seen)
    status, stale, _ = api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", {**a, "If-Match": '"99"'}, {"status": "suspended"})
    assert status == 412, stale
    assert "Rossi" not in json.dumps(stale), stale
    status, stale, _ = api.call("PATCH", f"{PRODUCTS}/{ANDREAS}", {**agent, "If-Match": '"99"'}, {"status": "suspended"})
    assert status == 412 and "Rossi" in json.dumps(stale)   # an agent reads the whole product
