"""Basket to order over HTTP against the local runtime (simulated stacks, the workflows executing
in moto):
- issue 20: a customer created through the API, whose only address is the postcode in her basket
  context, hands her basket to an agent, who upsells the Extreme Bundle and hands it back; she
  approves by the emailed link, the link answers with the order, and the order completes;
- issue 12: she starts a basket in the app and checks it out herself on the web; anonymous
  visitors are asked to identify first."""
import itertools
import time

from tests.support import runtimes
from tests.support.appointments import installed_over_http
from tests.support.links import link_for

FAST = runtimes.FAST_STACKS
pytestmark = runtimes.shared(FAST)   # the order and B2B journeys' runtime

CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
_numbers = itertools.count(300)


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _new_customer(runtime, agent):
    """Phone, email, consent; no address on her record."""
    n = next(_numbers)
    number, email = f"+4477009{n:05d}", f"checkout-{n}@example.com"
    status, _, body = runtime.request("POST", CUSTOMERS, {
        "name": "Nadia Test", "engagedParty": {"id": f"party-checkout-{n}", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": number}},
                          {"mediumType": "email", "characteristic": {"emailAddress": email}}],
        "contactPreference": {"consent": {"sms": {"service": True}, "email": {"service": True}}}}, agent)
    assert status == 201, body
    return body["id"], email


def _pay(runtime, order_id):
    """An agent takes the order's one-off payment (TMF676, the simulated provider's test card):
    an order with one-off charges goes to its stacks only once paid. The payment, or None."""
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-payments")
    _, _, order = runtime.request("GET", f"{ORDERS}/{order_id}", None, agent)
    fee = next((t["price"]["taxIncludedAmount"] for t in order.get("orderTotalPrice") or []
                if t.get("priceType") == "oneTime"), None)
    if fee is None:
        return None
    status, _, paid = runtime.request("POST", PAYMENTS, {
        "account": {"id": "ba-test"}, "paymentMethod": {"id": "tok-visa"}, "totalAmount": fee,
        "paymentItem": [{"item": {"id": order_id, "@referredType": "ProductOrder"}}]}, agent)
    assert status == 201 and paid["status"] == "authorized", paid
    return paid


def _completed(runtime, order_id, headers, timeout=90):
    _pay(runtime, order_id)
    deadline = time.monotonic() + timeout
    while True:
        _, _, order = runtime.request("GET", f"{ORDERS}/{order_id}", None, headers)
        if order["state"] in ("completed", "partial", "failed", "held"):
            return order
        assert time.monotonic() < deadline, (order["state"], order.get("note"), order.get("orderRelationship"))
        time.sleep(0.5)


def test_her_basket_postcode_carries_the_approved_upsell_to_a_completed_order(local_runtime_factory):
    runtime = local_runtime_factory(**FAST)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-upsell")
    cid, email = _new_customer(runtime, agent)
    her = _auth(runtime, "customer", channel="web", customerId=cid, sub=cid)
    status, _, cart = runtime.request("POST", CARTS, {"cartItem": [{"productOffering": {"id": "po-home-security"}}],
                                                      "context": {"postCode": "BS1 4DJ"}}, her)
    assert status == 201 and cart["qualificationResult"] == "qualified", cart
    basket_id = cart["id"]
    assert runtime.request("PATCH", f"{CARTS}/{basket_id}", {"status": "withAgent"}, her)[0] == 200
    status, _, claimed = runtime.request("POST", f"/recovery/worklist/{basket_id}/claim", None, agent)
    assert status == 200, claimed
    status, _, cart = runtime.request("PATCH", f"{CARTS}/{basket_id}", {
        "cartItem": [{"productOffering": {"id": "po-extreme-bundle"}}]}, agent)
    assert status == 200 and cart["qualificationResult"] == "qualified", cart
    # the engineers' visits: one for the bundle, one for the partner's Home Security kit
    installed_over_http(runtime, agent, cid, "po-extreme-bundle", "po-home-security", postcode="BS1 4DJ")
    assert runtime.request("PATCH", f"{CARTS}/{basket_id}", {"status": "awaitingApproval"}, agent)[0] == 200

    token, view, text = link_for(runtime, "ses", email, basket_id, "basket.approve", timeout=60)
    assert "Extreme" in text
    status, _, answer = runtime.request("POST", f"/recovery/link/{token}/approve")
    assert status == 200 and answer["status"] == "ordered", answer          # the outcome, at once
    order = _completed(runtime, answer["productOrder"]["id"], her)
    assert order["state"] == "completed", order
    assert sorted(i["productOffering"]["id"] for i in order["productOrderItem"]) == ["po-extreme-bundle",
                                                                                     "po-home-security"]
    assert order["attribution"]["selfService"] is False and order["attribution"]["agent"] == "agent-upsell"
    _, _, basket = runtime.request("GET", f"{CARTS}/{basket_id}", None, her)
    assert basket["status"] == "ordered"


def test_she_checks_out_on_the_web_what_she_started_in_the_app(local_runtime_factory):
    runtime = local_runtime_factory(**FAST)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-none")
    cid, _ = _new_customer(runtime, agent)
    app = _auth(runtime, "customer", channel="app", customerId=cid, sub=cid)
    web = _auth(runtime, "customer", channel="web", customerId=cid, sub=cid)
    status, _, cart = runtime.request("POST", CARTS, {"cartItem": [{"productOffering": {"id": "po-home-security"}}],
                                                      "context": {"postCode": "BS1 4DJ",
                                                                  "campaignCode": "cmp-journey"}}, app)
    assert status == 201, cart
    visitor = _auth(runtime, "channel", channel="web", sub="portal")
    status, _, refused = runtime.request("POST", ORDERS, {"shoppingCart": {"id": cart["id"]}}, visitor)
    assert status == 422 and refused["code"] == "identifyFirst", refused
    installed_over_http(runtime, web, cid, "po-home-security", postcode="BS1 4DJ")
    status, headers, order = runtime.request("POST", ORDERS, {"shoppingCart": {"id": cart["id"]}}, web)
    assert status == 201, order
    assert order["attribution"] == {"campaignCode": "cmp-journey", "channel": "web", "originatingChannel": "app",
                                    "selfService": True}
    assert _completed(runtime, order["id"], web)["state"] == "completed"
    _, _, basket = runtime.request("GET", f"{CARTS}/{cart['id']}", None, app)
    assert basket["status"] == "ordered"
