"""TMF663 shopping carts through the HTTP API: prices from the catalogue, rules on every change,
context, ETags, lists, and bad input that changes nothing."""
import json

import pytest

from chalicelib import settings
from tests.basket.conftest import CARTS
from tests.support.orders import item
from tests.support.stored import stored_items


def create(api, headers, body=None, expect=201):
    status, doc, hdrs = api.call("POST", CARTS, headers, body if body is not None else {})
    assert status == expect, doc
    return doc, hdrs


def total(doc, price_type):
    return next(p for p in doc["cartTotalPrice"] if p["priceType"] == price_type)


def test_empty_basket_from_an_anonymous_web_visitor(api, web, demo):
    doc, hdrs = create(api, web)
    assert doc["@type"] == "ShoppingCart" and doc["status"] == "active" and doc["cartItem"] == []
    assert hdrs["Location"] == doc["href"] and hdrs["ETag"] == '"1"'
    assert doc["relatedParty"] == [{"id": doc["id"], "role": "visitor", "@referredType": "Individual"}]
    ctx = doc["context"]
    assert ctx["originatingChannel"] == ctx["currentChannel"] == "web"
    assert ctx["region"] == {"name": "Local development", "source": "ip"}     # 127.0.0.1, from the shipped table
    assert doc["validFor"]["endDateTime"] > doc["validFor"]["startDateTime"]
    (row,) = stored_items("basket")
    days = (int(row["expires"]["N"]) - __import__("time").time()) / 86400
    assert 6.9 < days <= 7


def test_items_are_priced_from_the_catalogue_not_the_caller(api, andrea, demo):
    bogus = {**item("po-broadband-500"), "itemPrice": [{"price": {"taxIncludedAmount": {"value": 0}}}]}
    doc, _ = create(api, andrea, {"cartItem": [bogus, item("po-phone-x", 2, colour="silver", storage="256 GB")],
                                  "cartTotalPrice": [{"price": {"taxIncludedAmount": {"value": 1}}}],
                                  "context": {"postCode": "BS1 4DJ", "campaignCode": "camp-home-security"}})
    broadband, phone = doc["cartItem"]
    assert broadband["itemPrice"][0]["price"]["taxIncludedAmount"]["value"] == 30
    assert broadband["itemPrice"][0]["priceAlteration"][0]["applicationDuration"] == 6
    assert {c["name"]: c["value"] for c in phone["product"]["productCharacteristic"]} == {
        "colour": "silver", "storage": "256 GB"}
    assert phone["productOffering"]["name"] == "Phone X" and phone["quantity"] == 2
    assert phone["ItemTotalPrice"] == phone["itemTotalPrice"]          # v4 spelling, and v5's
    assert total(doc, "oneTime")["price"]["taxIncludedAmount"]["value"] == 49 + 198
    assert total(doc, "recurring")["description"] == "0 EUR/month for 6 months, then 30 EUR/month"
    assert broadband["qualification"]["qualificationItemResult"] == "qualified"   # fibre at BS1
    assert doc["context"]["region"] == {"name": "South West England", "source": "postcode"}
    assert doc["relatedParty"][0]["id"] == "cust-andrea"
    (row,) = stored_items("basket")
    assert 89.9 < (int(row["expires"]["N"]) - __import__("time").time()) / 86400 <= 90


def test_the_basket_shows_what_fails_and_why(api, andrea, demo):
    doc, _ = create(api, andrea, {"cartItem": [item("po-phone-x-plan-24"), item("po-tv-max")]})
    plan, tv = doc["cartItem"]
    assert plan["qualification"]["qualificationItemResult"] == "unqualified"
    # (mobile coverage is checked at the postcode of Andrea's address on her customer record)
    assert [r["code"] for r in plan["qualification"]["eligibilityUnavailabilityReason"]] == ["requiresHandset"]
    assert tv["qualification"]["qualificationItemResult"] == "qualified"      # Andrea holds broadband
    assert doc["qualificationResult"] == "unqualified"
    status, doc, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", andrea,
                              {"cartItem": [item("po-phone-x")]})
    assert status == 200 and doc["qualificationResult"] == "qualified"


def test_bundle_discount_when_the_parts_are_bought_apart(api, headers, demo):
    stacy = headers("customer", channel="app", customerId="cust-stacy", sub="cust-stacy")
    doc, _ = create(api, stacy, {"cartItem": [item("po-broadband-500"), item("po-tv-max"),
                                              item("po-mobile-unlimited")]})
    monthly = total(doc, "recurring")
    assert monthly["description"] == "60 EUR/month"
    assert any("instead of 75" in a.get("description", "") for a in monthly["priceAlteration"])


def test_etag_if_match_and_stale_versions(api, web, demo):
    doc, _ = create(api, web)
    path = f"{CARTS}/{doc['id']}"
    status, changed, hdrs = api.call("PATCH", path, {**web, "If-Match": '"1"'}, {"cartItem": [item("po-tv-max")]})
    assert status == 200 and hdrs["ETag"] == '"2"'
    status, current, hdrs = api.call("PATCH", path, {**web, "If-Match": '"1"'}, {"cartItem": [item("po-phone-x")]})
    assert status == 412 and hdrs["ETag"] == '"2"'
    assert [i["productOffering"]["id"] for i in current["cartItem"]] == ["po-tv-max"]   # the current basket
    status, _, hdrs = api.call("GET", path, web)
    assert status == 200 and hdrs["ETag"] == '"2"'


def test_lists_filters_fields_and_delete(api, web, andrea, demo):
    mine, _ = create(api, andrea)
    anon, _ = create(api, web)
    status, items, hdrs = api.call("GET", CARTS, andrea)
    assert status == 200 and [i["id"] for i in items] == [mine["id"]] and hdrs["X-Total-Count"] == "1"
    status, items, _ = api.call("GET", f"{CARTS}?fields=id", web)
    assert status == 200 and items == [{"id": anon["id"]}]
    status, items, _ = api.call("GET", f"{CARTS}?href={anon['href']}", web)
    assert [i["id"] for i in items] == [anon["id"]]
    status, items, _ = api.call("GET", f"{CARTS}?relatedParty.id={anon['id']}", web)
    assert [i["id"] for i in items] == [anon["id"]]
    assert api.call("GET", f"{CARTS}?id={mine['id']}", web)[1] == []        # not the channel's
    assert api.call("DELETE", f"{CARTS}/{anon['id']}", web)[0] == 204
    assert api.call("GET", f"{CARTS}/{anon['id']}", web)[0] == 404


@pytest.fixture
def filled(api, web, demo):
    doc, _ = create(api, web, {"cartItem": [item("po-tv-max")]})
    return doc


BAD = [
    ({"cartItem": [item("po-does-not-exist")]}, 422, "unknownOffering"),
    ({"cartItem": [item("po-broadband-1000")]}, 422, "offeringNotAvailable"),       # inDesign
    ({"cartItem": [item("po-phone-x", 0)]}, 400, "quantityOutOfRange"),
    ({"cartItem": [item("po-phone-x", 11)]}, 400, "quantityOutOfRange"),
    ({"cartItem": [{"productOffering": {"id": "po-phone-x"}, "quantity": "2"}]}, 400, "invalidInput"),
    ({"cartItem": [item("po-phone-x", colour="gold")]}, 422, "invalidCharacteristic"),
    ({"cartItem": [item("po-phone-x", size="XL")]}, 422, "invalidCharacteristic"),
    ({"cartItem": [item("po-tv-max", colour="black")]}, 422, "invalidCharacteristic"),
    ({"cartItem": [{"quantity": 1}]}, 400, "invalidInput"),
    ({"cartItem": [{"id": "nope", "action": "modify", "quantity": 2}]}, 422, "unknownCartItem"),
    ({"cartItem": [{"productOffering": {}}]}, 400, "invalidInput"),
    ({"cartItem": "po-tv-max"}, 400, "invalidInput"),
    ({"status": "approved"}, 422, "illegalStatusTransition"),
    ({"status": "withAgent"}, 422, "identifyFirst"),
    ({"status": "bought"}, 400, "invalidInput"),
    ({"context": {"postCode": "nowhere!"}}, 400, "invalidInput"),
    ({"context": {"journeyKey": "has spaces"}}, 400, "invalidInput"),
    ({"id": "other-id"}, 400, "invalidInput"),
    # TMF663 types a contact medium's attributes, and the answer echoes them (a fuzz find)
    ({"contactMedium": [{"mediumType": "email", "characteristic": {"stateOrProvince": [["x"], False]}}]}, 400,
     "invalidInput"),
    ({"contactMedium": [{"preferred": "yes"}]}, 400, "invalidInput"),
    ({"contactMedium": [{"characteristic": "0612345678"}]}, 400, "invalidInput"),
]


@pytest.mark.parametrize("patch, status, code", BAD, ids=[c for _, _, c in BAD])
def test_bad_changes_are_refused_and_change_nothing(api, web, filled, patch, status, code):
    before = stored_items("basket")
    got, error, _ = api.call("PATCH", f"{CARTS}/{filled['id']}", web, patch)
    assert (got, error["code"]) == (status, code), error
    assert error["@type"] == "Error" and error["message"]
    assert stored_items("basket") == before


def test_bad_creates_write_nothing(api, web, andrea, headers, demo):
    for body, status, code in BAD[:11] + BAD[-3:]:
        got, error, _ = api.call("POST", CARTS, web, body)
        assert (got, error["code"]) == (status, code), (body, error)
    social = headers("channel", channel="social", sub="social-bot")
    got, error, _ = api.call("POST", CARTS, social, {"cartItem": [item("po-phone-x-plan-24")]})
    assert (got, error["code"]) == (422, "notSoldInChannel")
    got, error, _ = api.call("POST", CARTS, web, {"relatedParty": [{"id": "cust-andrea", "role": "customer"}]})
    assert got == 403
    for raw, want in ((b"not json", 400), (b"[]", 400), (b"", 400)):
        assert api.call("POST", CARTS, web, raw)[0] == want
    assert stored_items("basket") == []


def test_too_many_items_is_a_clear_limit(api, web, demo, monkeypatch):
    monkeypatch.setenv("OMNISHOP_BASKET_MAX_ITEMS", "3")
    doc, _ = create(api, web, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    before = stored_items("basket"), stored_items("basket-line")
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web,
                                {"cartItem": [item("po-fast-charger"), item("po-phone-x-case")]})
    assert status == 422 and error["code"] == "basketFull" and "at most 3" in error["message"]
    assert (stored_items("basket"), stored_items("basket-line")) == before
    monkeypatch.setenv("OMNISHOP_BASKET_MAX_LINE_BYTES", "300")
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web, {"cartItem": [item("po-fast-charger")]})
    assert status == 422 and error["code"] == "itemTooLarge"
    monkeypatch.setenv("OMNISHOP_BASKET_MAX_LINE_BYTES", "30000")
    monkeypatch.setenv("OMNISHOP_BASKET_MAX_BYTES", "500")
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web, {"cartItem": [item("po-fast-charger")]})
    assert status == 422 and error["code"] == "basketTooLarge"
    assert (stored_items("basket"), stored_items("basket-line")) == before


def test_default_limits_keep_a_full_basket_well_inside_dynamodb(api, web, demo):
    """The largest basket the limits allow (max items, every one priced with promotions and
    qualified): its header stays small whatever its lines (they are records of their own), each
    line far below the per-line limit, itself far below DynamoDB's 400 KB."""
    doc, _ = create(api, web)
    per_call = 10
    for _ in range(settings.basket_max_items() // per_call):
        status, doc, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web,
                                  {"cartItem": [item("po-broadband-500")] * per_call})
        assert status == 200, doc
    assert len(doc["cartItem"]) == settings.basket_max_items()
    (row,) = stored_items("basket")
    assert len(json.dumps(row)) < 30 * 1024 < settings.basket_max_bytes() < 400 * 1024   # the whole header item
    lines = stored_items("basket-line")
    assert len(lines) == settings.basket_max_items()
    assert max(len(json.dumps(r)) for r in lines) < 4 * 1024 < settings.basket_max_line_bytes()
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web, {"cartItem": [item("po-tv-max")]})
    assert status == 422 and error["code"] == "basketFull"


def test_another_customers_basket_is_not_found(api, andrea, headers, web, agent, demo):
    doc, _ = create(api, andrea)
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    path = f"{CARTS}/{doc['id']}"
    before = stored_items("basket")
    for method, body in (("GET", None), ("PATCH", {"cartItem": [item("po-tv-max")]}), ("DELETE", None)):
        for who in (stacy, web):
            status, error, _ = api.call(method, path, who, body)
            assert status == 404 and error["code"] == "notFound", (method, error)
    assert api.call("GET", path, agent)[0] == 200                        # an agent opens any basket by id
    marketing = headers("marketing", sub="m1")
    assert api.call("GET", path, marketing)[0] == 403
    assert api.call("GET", path, headers("agent", channel="web", sub="a"))[0] == 403   # agents work from callcenter/store
    assert stored_items("basket") == before


def test_an_expired_basket_reads_expired_and_refuses_changes(api, web, demo, monkeypatch):
    monkeypatch.setenv("OMNISHOP_BASKET_TTL_ANONYMOUS_DAYS", "0")
    doc, _ = create(api, web)
    assert doc["status"] == "expired"
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", web, {"cartItem": [item("po-tv-max")]})
    assert status == 422 and error["code"] == "basketExpired"
    assert api.call("DELETE", f"{CARTS}/{doc['id']}", web)[0] == 204


def test_journey_key_campaign_and_device_travel_with_the_basket(api, web, headers, demo):
    doc, _ = create(api, {**web, "X-Journey-Key": "jrn-42"}, {"context": {"campaignCode": "camp-9", "device": "tablet"}})
    app = headers("channel", channel="app", sub="app-backend")
    status, doc, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", app, {"cartItem": [item("po-tv-max")]})
    ctx = doc["context"]
    assert (ctx["journeyKey"], ctx["campaignCode"], ctx["device"]) == ("jrn-42", "camp-9", "tablet")
    assert (ctx["originatingChannel"], ctx["currentChannel"]) == ("web", "app")
    assert ctx["lastChange"]["by"] == {"id": "app-backend", "role": "channel", "channel": "app"}


def test_a_web_only_price_is_not_applied_to_a_store_basket(api, web, headers, admin, demo):
    """Issue 15: a price created for the web channel only was applied to a store basket."""
    from chalicelib.catalog import store as catalog_store

    base = "/tmf-api/productCatalogManagement/v4"
    pop = {"name": "Broadband 500 online", "priceType": "recurring", "price": {"unit": "EUR", "value": 25},
           "recurringChargePeriodType": "month", "recurringChargePeriodLength": 1, "lifecycleStatus": "active",
           "channel": [{"id": "web", "name": "web"}]}
    status, created_pop, _ = api.call("POST", f"{base}/productOfferingPrice", admin, pop)
    assert status == 201, created_pop
    status, offering, _ = api.call("GET", f"{base}/productOffering/po-broadband-500", admin)
    refs = [*offering["productOfferingPrice"], {"id": created_pop["id"]}]
    status, body, _ = api.call("PATCH", f"{base}/productOffering/po-broadband-500", admin, {"productOfferingPrice": refs})
    assert status == 200, body
    catalog_store.cache.clear()
    store_doc, _ = create(api, headers("channel", channel="store", sub="till-1"), {"cartItem": [item("po-broadband-500")]})
    web_doc, _ = create(api, web, {"cartItem": [item("po-broadband-500")]})
    in_store = {p["productOfferingPrice"]["id"]: p for p in store_doc["cartItem"][0]["itemPrice"]}
    online = {p["productOfferingPrice"]["id"]: p for p in web_doc["cartItem"][0]["itemPrice"]}
    assert created_pop["id"] not in in_store and "pop-broadband-monthly" in in_store
    assert total(store_doc, "recurring")["price"]["taxIncludedAmount"]["value"] == 30
    assert created_pop["id"] in online and "pop-broadband-monthly" not in online   # the web price replaces it
    assert total(web_doc, "recurring")["price"]["taxIncludedAmount"]["value"] == 25
