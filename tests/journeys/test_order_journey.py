"""Seed 000 step 7 over HTTP against the local runtime (simulated stacks, real Step Functions in
moto): Andrea's Extreme Bundle plus Home Security becomes one order, three child orders on three
stack queues once its installation fee is paid (TMF676), milestone SMS (readable in moto's /moto-api/data.json) and a completed order; with
one stack failing, the order ends partial."""
import json
import time

import pytest

from tests.support import runtimes
from tests.support.appointments import installed_over_http

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CUSTOMER = "/tmf-api/customerManagement/v4/customer/cust-andrea"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
FAST = runtimes.FAST_STACKS
pytestmark = runtimes.shared(FAST)   # the checkout and B2B journeys' runtime


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _order_and_wait(runtime, done=("completed", "partial", "failed", "held"), timeout=90):
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-journey")
    # Andrea's quiet hours would hold her SMS until the morning: the journey runs in the daytime.
    status, _, body = runtime.request("PATCH", CUSTOMER, {"contactPreference": {"quietHours": None}}, agent)
    assert status == 200, body
    andrea = _auth(runtime, "customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    # an engineer installs the bundle's broadband and TV, the partner's installer Home Security
    installed_over_http(runtime, andrea, "cust-andrea", "po-extreme-bundle", "po-home-security")
    status, _, order = runtime.request("POST", ORDERS, {
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "po-extreme-bundle"}},
                             {"id": "2", "action": "add", "productOffering": {"id": "po-home-security"}}]},
        {**andrea, "X-Journey-Key": "jrn-andrea-home-security"})
    assert status == 201 and order["state"] == "acknowledged", order
    # Home Security's 49 EUR installation fee is paid at checkout: only then do the stacks get it
    fee = next(t["price"]["taxIncludedAmount"] for t in order["orderTotalPrice"] if t["priceType"] == "oneTime")
    status, _, paid = runtime.request("POST", PAYMENTS, {
        "account": {"id": "ba-andrea"}, "paymentMethod": {"id": "tok-visa"}, "totalAmount": fee,
        "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}]}, andrea)
    assert status == 201 and paid["status"] == "authorized" and fee == {"unit": "EUR", "value": 49.0}, paid
    deadline = time.monotonic() + timeout
    while True:
        status, _, now = runtime.request("GET", f"{ORDERS}/{order['id']}", None, andrea)
        if now["state"] in done:
            return now, andrea, agent
        assert time.monotonic() < deadline, now
        time.sleep(0.5)


def _sms_about(runtime, order_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        text = json.dumps(runtime.moto_data().get("sns", {}))
        found = [t for t in wanted if t.format(orderId=order_id) in text]
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_andreas_order_goes_to_three_stacks_and_completes(local_runtime_factory):
    runtime = local_runtime_factory(**FAST)
    order, andrea, agent = _order_and_wait(runtime)
    assert order["state"] == "completed"
    # the bundle, Home Security, and the end of the Broadband 500 the bundle replaces (upsell)
    assert [(i["action"], i["state"]) for i in order["productOrderItem"]] == [
        ("add", "completed"), ("add", "completed"), ("delete", "completed")]
    children = [r["id"] for r in order["orderRelationship"] if r["relationshipType"] == "child"]
    stacks = {}
    for child_id in children:
        _, _, child = runtime.request("GET", f"{ORDERS}/{child_id}", None, agent)
        assert child["state"] == "completed"
        stacks[next(p["id"] for p in child["relatedParty"] if p["role"] == "fulfilmentStack")] = child_id
    assert sorted(stacks) == ["csp-stack-a", "csp-stack-b", "iot-partner-x"]
    from chalicelib.ordering import domain

    wanted = [domain.milestone_text(s) for s in ("acknowledged", "inProgress", "completed")]
    assert _sms_about(runtime, order["id"], wanted) == wanted
    _, _, held = runtime.request("GET", f"{CUSTOMER}/product", None, andrea)
    assert {p["productOffering"]["id"] for p in held if p["id"].startswith(order["id"])} == {
        "po-extreme-bundle", "po-broadband-500", "po-tv-max", "po-mobile-unlimited", "po-home-security"}
    _, _, messages = runtime.request("GET", "/tmf-api/communicationManagement/v4/communicationMessage", None, agent)
    assert len([m for m in messages if order["id"] in json.dumps(m)]) == 3
    _, _, history = runtime.request("GET", "/tmf-api/partyInteraction/v4/partyInteraction", None, andrea)
    about = [i for i in history if order["id"] in json.dumps(i)]
    assert len(about) == 4   # placed, and three SMS


@pytest.mark.parametrize("failing", ["iot-partner-x"])
def test_one_stack_failing_ends_partial(local_runtime_factory, failing):
    runtime = local_runtime_factory(**FAST, OMNISHOP_SIMULATED_STACKS_FAILING=failing)
    order, _, _ = _order_and_wait(runtime)
    assert order["state"] == "partial"
    assert [i["state"] for i in order["productOrderItem"]] == ["completed", "failed", "completed"]
    from chalicelib.ordering import domain

    wanted = [domain.milestone_text(s) for s in ("acknowledged", "inProgress", "partial")]
    assert _sms_about(runtime, order["id"], wanted) == wanted
