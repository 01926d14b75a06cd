"""Issue 12 point 3 over HTTP against the local runtime (simulated stacks, workflows in moto):
- Stacy adds the half-price promotion to the mobile subscription she holds, from the app: the
  item is priced from the catalogue (her lower price is ignored), the order completes, she gets
  the completion SMS, and her product shows "12.5 EUR/month for 6 months, then 25 EUR/month"
  with the promotion's end date; the same order sent again (Idempotency-Key) is the same order;
- Andrea's upsell: her basket shows the Broadband 500 the Extreme Bundle replaces (a delete item,
  its early termination fee waived) before she orders it; after the order she holds the bundle
  and her Broadband 500 is `terminated`."""
import json
import time

from tests.journeys.test_checkout_journey import _completed
from tests.journeys.test_order_journey import _sms_about
from tests.support.appointments import installed_over_http

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
PRODUCTS = "/tmf-api/productInventory/v4/product"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
# a runtime of its own (the other journeys change Andrea's products)
ENV = {"OMNISHOP_SIMULATED_STACK_DELAY_SECONDS": "0.15"}


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _daytime(runtime, agent, *customers):
    for cid in customers:   # quiet hours would hold the SMS until the morning
        status, _, body = runtime.request("PATCH", f"{CUSTOMERS}/{cid}", {"contactPreference": {"quietHours": None}},
                                          agent)
        assert status == 200, body


def test_stacy_adds_the_promotion_to_her_subscription_and_gets_the_completion_sms(local_runtime_factory):
    from chalicelib.ordering import domain

    runtime = local_runtime_factory(**ENV)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-change")
    _daytime(runtime, agent, "cust-stacy")
    stacy = _auth(runtime, "customer", channel="app", customerId="cust-stacy", sub="stacy")
    body = {"productOrderItem": [{"id": "1", "action": "modify", "product": {"id": "prod-stacy-mobile"},
                                  "itemPrice": [{"priceType": "recurring",
                                                 "productOfferingPrice": {"id": "pop-mobile-half-price-6"},
                                                 "price": {"taxIncludedAmount": {"unit": "EUR", "value": 1}}}]}]}
    keyed = {**stacy, "Idempotency-Key": "stacy-promo-1"}
    status, _, order = runtime.request("POST", ORDERS, body, keyed)
    assert status == 201, order
    [price] = order["productOrderItem"][0]["itemPrice"]
    assert price["price"]["taxIncludedAmount"]["value"] == 25            # hers (1 EUR) was ignored
    assert price["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    status, _, again = runtime.request("POST", ORDERS, body, keyed)
    assert status == 201 and again["id"] == order["id"]
    done = _completed(runtime, order["id"], stacy)
    assert done["state"] == "completed", done
    text = domain.milestone_text("completed")
    assert _sms_about(runtime, order["id"], [text]) == [text]
    assert "+447700900456" in json.dumps(runtime.moto_data().get("sns", {}))
    status, _, product = runtime.request("GET", f"{PRODUCTS}/prod-stacy-mobile", None, stacy)
    [monthly] = product["productPrice"]
    [promo] = monthly["productPriceAlteration"]
    assert monthly["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    assert promo["productOfferingPrice"]["id"] == "pop-mobile-half-price-6" and promo["validFor"]["endDateTime"]
    # one order for her: the retry made none
    _, _, mine = runtime.request("GET", f"{ORDERS}?fields=id", None, stacy)
    assert [o["id"] for o in mine].count(order["id"]) == 1


def test_andrea_sees_the_broadband_the_bundle_replaces_before_she_orders_and_it_ends(local_runtime_factory):
    runtime = local_runtime_factory(**ENV)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-change")
    _daytime(runtime, agent, "cust-andrea")
    andrea = _auth(runtime, "customer", channel="web", customerId="cust-andrea", sub="andrea")
    status, _, cart = runtime.request("POST", CARTS, {"cartItem": [{"productOffering": {"id": "po-extreme-bundle"}}]},
                                      andrea)
    assert status == 201, cart
    [ends] = cart["replacedItem"]
    assert (ends["action"], ends["product"]["id"]) == ("delete", "prod-andrea-broadband")
    assert ends["itemPrice"][0]["priceAlteration"][0]["name"] == "waived: the contract ends within 90 days"
    installed_over_http(runtime, andrea, "cust-andrea", "po-extreme-bundle")
    status, _, order = runtime.request("POST", ORDERS, {"shoppingCart": {"id": cart["id"]}}, andrea)
    assert status == 201, order
    assert [i["id"] for i in order["productOrderItem"] if i["action"] == "delete"] == [ends["id"]]
    done = _completed(runtime, order["id"], andrea)
    assert done["state"] == "completed", done
    deadline = time.monotonic() + 30
    while True:   # the inventory follows the order stream
        _, _, held = runtime.request("GET", PRODUCTS, None, andrea)
        mine = {p["id"]: p for p in held}
        if mine["prod-andrea-broadband"]["status"] == "terminated" and f"{order['id']}-{cart['cartItem'][0]['id']}" \
                in mine:
            break
        assert time.monotonic() < deadline, held
        time.sleep(0.5)
    bundle = mine[f"{order['id']}-{cart['cartItem'][0]['id']}"]
    assert bundle["isBundle"] and bundle["status"] == "active"
    # the basket is ordered: the same order again is the same order, and nothing else ends
    status, _, again = runtime.request("POST", ORDERS, {"shoppingCart": {"id": cart["id"]}}, andrea)
    assert status in (200, 201) and again["id"] == order["id"]
