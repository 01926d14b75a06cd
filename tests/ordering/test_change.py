"""Changing what a customer holds through TMF622 items (issue 12 point 3), in process with moto:
a promotion added to a subscription held, priced from the catalogue whatever the client sends;
the early termination fee of a change before contract end, or the rule that waives it; replays
change nothing."""
import copy

from tests.support.names import PRODUCTS
from tests.support.products import stored_products, valid_product
from tests.ordering.conftest import ORDERS
from tests.support.appointments import installed
from tests.support.orders import order_item, settle
from tests.support.stored import stored_items
from tests.support.concurrency import at_once

PROMO = "pop-mobile-half-price-6"


def _stacy_promo(**price):
    item = order_item("1", action="modify", product={"id": "prod-stacy-mobile"},
                      itemPrice=[{"priceType": "recurring", "productOfferingPrice": {"id": PROMO}, **price}])
    return {"productOrderItem": [item]}


def test_stacys_promotion_on_her_subscription_is_priced_from_the_catalogue_and_lands_on_her_product(
        api, demo, stacy, agent, stacks, pump):
    # she sends a lower price of her own: it is ignored, the catalogue prices the item
    body = _stacy_promo(price={"taxIncludedAmount": {"unit": "EUR", "value": 0.01}},
                        priceAlteration=[{"price": {"taxIncludedAmount": {"unit": "EUR", "value": 25}}}])
    status, order, _ = api.call("POST", ORDERS, stacy, body)
    assert status == 201, order
    [item] = order["productOrderItem"]
    [price] = item["itemPrice"]
    assert (item["action"], item["product"]["id"], item["productOffering"]["id"]) == (
        "modify", "prod-stacy-mobile", "po-mobile-unlimited")
    assert price["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 25}
    assert price["productOfferingPrice"]["id"] == "pop-mobile-monthly"
    [alt] = price["priceAlteration"]
    assert (alt["productOfferingPrice"]["id"], alt["applicationDuration"], alt["price"]["taxIncludedAmount"]["value"]) \
        == (PROMO, 6, 12.5)
    assert price["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    # a promotion is not an upgrade: no early termination fee, and nothing new in the total
    assert [p["priceType"] for p in item["itemPrice"]] == ["recurring"]
    # asked again while the first order is in flight: refused, nothing written
    before = stored_items("order")
    status, error, _ = api.call("POST", ORDERS, stacy, _stacy_promo())
    assert (status, error["code"]) == (422, "promotionHeld") and order["id"] in error["message"], error
    assert stored_items("order") == before
    done = settle(pump, order["id"])
    assert done["state"] == "completed"
    _, product, _ = api.call("GET", f"{PRODUCTS}/prod-stacy-mobile", stacy)
    [monthly] = product["productPrice"]
    [running] = monthly["productPriceAlteration"]
    assert monthly["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    assert running["productOfferingPrice"]["id"] == PROMO and running["applicationDuration"] == 6
    assert running["validFor"]["endDateTime"] > running["validFor"]["startDateTime"]
    assert product["status"] == "active" and product["productOrderItem"][-1]["orderItemId"] == "1"
    assert valid_product(product)
    # the same promotion asked again while it runs is refused, and writes nothing
    before = stored_items("order")
    status, error, _ = api.call("POST", ORDERS, stacy, _stacy_promo())
    assert (status, error["code"]) == (422, "promotionHeld"), error
    assert stored_items("order") == before


def test_a_promotion_the_catalogue_does_not_offer_on_the_product_is_refused(api, demo, stacy):
    before = stored_items("order")
    for promo, code in (("pop-promo-6-months-free", "promotionNotOffered"), ("pop-nope", "promotionNotOffered")):
        body = _stacy_promo()
        body["productOrderItem"][0]["itemPrice"][0]["productOfferingPrice"]["id"] = promo
        status, error, _ = api.call("POST", ORDERS, stacy, body)
        assert (status, error["code"]) == (422, code), error
    for bad in ({"itemPrice": "cheap"}, {"itemPrice": [{"productOfferingPrice": {"id": 5}}]},
                {"itemPrice": [{"priceAlteration": {"x": 1}}]}):
        body = _stacy_promo()
        body["productOrderItem"][0].update(bad)
        status, error, _ = api.call("POST", ORDERS, stacy, body)
        assert status == 400 and error["@type"] == "Error", error
    # another customer's product: 422 unknownProduct, not a promotion on it
    status, error, _ = api.call("POST", ORDERS, stacy, {"productOrderItem": [order_item(
        "1", action="modify", product={"id": "prod-andrea-broadband"},
        itemPrice=[{"productOfferingPrice": {"id": "pop-promo-6-months-free"}}])]})
    assert (status, error["code"]) == (422, "unknownProduct")
    assert stored_items("order") == before


def test_an_upgrade_before_contract_end_shows_the_fee_or_the_rule_that_waives_it(api, demo, stacy, andrea):
    # Stacy's mobile contract has 430 days to go: moving it to another plan (a modify naming
    # another offering) carries the fee, 10 EUR a month left, at most 120 EUR (rules data)
    status, order, _ = api.call("POST", ORDERS, stacy, {"productOrderItem": [order_item(
        "1", "po-phone-x-plan-24", action="modify", product={"id": "prod-stacy-mobile"})]})
    assert status == 201, order
    [upgrade] = order["productOrderItem"]
    [fee] = upgrade["itemPrice"]
    assert (fee["priceType"], fee["name"], fee["price"]["taxIncludedAmount"]) == (
        "oneTime", "Early termination fee", {"unit": "EUR", "value": 120})
    assert fee["priceAlteration"] == [] and "before its contract ends" in fee["description"]
    one_off = next(t for t in order["orderTotalPrice"] if t["priceType"] == "oneTime")
    assert one_off["price"]["taxIncludedAmount"]["value"] == 120
    # Andrea's broadband contract ends within 45 days: the fee is shown, and waived by the rule
    installed("cust-andrea", "po-extreme-bundle")
    status, order, _ = api.call("POST", ORDERS, andrea, {"productOrderItem": [order_item("1", "po-extreme-bundle")]})
    assert status == 201, order
    [fee] = next(i for i in order["productOrderItem"] if i["id"] == "1-r1")["itemPrice"]
    assert fee["price"]["taxIncludedAmount"]["value"] == 20   # 45 days left: 2 months
    [waiver] = fee["priceAlteration"]
    assert waiver["name"] == "waived: the contract ends within 90 days"
    assert waiver["price"]["taxIncludedAmount"]["value"] == 20
    assert not [t for t in order["orderTotalPrice"] if t["priceType"] == "oneTime"]


def test_a_replayed_promotion_completion_changes_nothing(api, demo, stacy, stacks, pump):
    from chalicelib.ordering import fulfilment, store

    status, order, _ = api.call("POST", ORDERS, stacy, _stacy_promo())
    assert status == 201
    settle(pump, order["id"])
    child_id = next(r["id"] for r in store.load(order["id"]).doc["orderRelationship"]
                    if r["relationshipType"] == "child")
    child = store.load(child_id).doc
    before = stored_products()
    started = copy.deepcopy({**child, "productOrderItem": [{**i, "state": "inProgress"}
                                                           for i in child["productOrderItem"]]})
    for _ in range(3):
        assert fulfilment.record_products(started, child) == 0
    assert stored_products() == before
    # every record of the order table delivered twice more (order-events): nothing changes
    from tests.support.streams import replay_order_stream

    orders = stored_items("order")
    assert replay_order_stream(pump) > 3
    assert stored_products() == before and stored_items("order") == orders


def test_andrea_sees_what_the_bundle_replaces_in_her_basket_before_she_orders_it(api, demo, andrea, stacy):
    from tests.ordering.conftest import CARTS

    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [{"productOffering": {"id": "po-extreme-bundle"}},
                                                                    {"productOffering": {"id": "po-home-security"}}]})
    assert status == 201, cart
    bundle_id = cart["cartItem"][0]["id"]
    [ends] = cart["replacedItem"]
    assert (ends["id"], ends["action"], ends["product"]["id"], ends["productOffering"]["id"]) == (
        f"{bundle_id}-r1", "delete", "prod-andrea-broadband", "po-broadband-500")
    assert ends["cartItemRelationship"] == [{"id": bundle_id, "relationshipType": "supersededBy"}]
    [fee] = ends["itemPrice"]
    assert fee["priceType"] == "oneTime" and fee["priceAlteration"][0]["name"].startswith("waived")
    # a client cannot make the basket show something else
    status, again, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"replacedItem": []})
    assert status == 200 and again["replacedItem"] == cart["replacedItem"]
    _, read, _ = api.call("GET", f"{CARTS}/{cart['id']}", andrea)
    assert read["replacedItem"] == cart["replacedItem"]
    # what she saw is what the order does: the same delete item, id and fee
    installed("cust-andrea", "po-extreme-bundle", "po-home-security")
    status, order, _ = api.call("POST", ORDERS, andrea, {"shoppingCart": {"id": cart["id"]}})
    assert status == 201, order
    [deleted] = [i for i in order["productOrderItem"] if i["action"] == "delete"]
    assert (deleted["id"], deleted["product"]["id"]) == (ends["id"], ends["product"]["id"])
    assert deleted["itemPrice"][0]["price"] == fee["price"]
    assert deleted["itemPrice"][0]["priceAlteration"][0]["name"] == fee["priceAlteration"][0]["name"]
    # no bundle, or a customer holding nothing it supersedes: nothing shown
    status, plain, _ = api.call("POST", CARTS, andrea, {"cartItem": [{"productOffering": {"id": "po-tv-max"}}]})
    assert status == 201 and "replacedItem" not in plain
    status, other, _ = api.call("POST", CARTS, stacy, {"cartItem": [{"productOffering": {"id": "po-tv-max"}}]})
    assert status == 201 and "replacedItem" not in other


def test_twenty_promotion_orders_at_once_leave_one_promotion_on_her_product(api, demo, stacy, stacks, pump):
    answers = at_once(20, lambda _: api.call("POST", ORDERS, stacy, _stacy_promo()))
    results = [(status, body.get("id") if status == 201 else body.get("code")) for status, body, _ in answers]
    assert {r for _, r in results if _ != 201} <= {"promotionHeld"} and len(results) == 20, results
    created = [oid for status, oid in results if status == 201]
    assert created
    for oid in created:
        assert settle(pump, oid)["state"] == "completed"
    _, product, _ = api.call("GET", f"{PRODUCTS}/prod-stacy-mobile", stacy)
    [monthly] = product["productPrice"]
    [promo] = monthly["productPriceAlteration"]          # once, from the first completion
    starts = [p for p in product["productOrderItem"] if p["productOrderId"] in created]
    assert len(starts) == len(created)
    assert promo["productOfferingPrice"]["id"] == PROMO
