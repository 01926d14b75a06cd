"""Orders in the component tests: bodies, and `settle` (deliver until an order is done and its
workflow has ended, paying its one-off charges as checkout would)."""
import time

from chalicelib import aws, settings
from tests.support.appointments import installed
from tests.support.names import ORDERS


def order_item(iid, offering=None, action="add", **extra):
    out = {"id": iid, "action": action, **extra}
    if offering:
        out["productOffering"] = {"id": offering}
    return out


def andrea_order(*offerings, **extra):
    return {"productOrderItem": [order_item(str(n + 1), o) for n, o in enumerate(offerings)],
            "relatedParty": [{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}], **extra}


def settle(pump, order_id, done=("completed", "partial", "failed", "cancelled", "held", "rejected"), timeout=60,
           finished=True):
    """Deliver stream records and queue messages until the order is in one of `done` states and
    (`finished`) its workflow has ended; returns the order."""
    from chalicelib.ordering import store

    deadline = time.monotonic() + timeout
    pump.drain()
    pay(order_id)
    while True:
        pump.drain()
        found = store.load(order_id)
        if found and found.doc.get("state") in done and (not finished or workflow_status(order_id) != "RUNNING"):
            pump.drain()
            return store.load(order_id).doc
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {order_id} is {found and found.doc.get('state')} after {timeout} s")
        time.sleep(0.1)


def pay(order_id, token="tok-visa"):
    """Pay an order's one-off charges as checkout does (chalicelib/payment: an agent, the simulated
    provider's card `token`), when it has some and no payment yet: only then does it go to its
    stacks. Returns the payment, or None when there was nothing to pay."""
    from chalicelib.auth import Caller
    from chalicelib.ordering import store
    from chalicelib.ordering.domain import parent_of
    from chalicelib.payment import domain, service
    from chalicelib.payment import store as payments

    found = store.load(order_id)
    waiting = found and found.doc.get("state") == "acknowledged" and not parent_of(found.doc)
    owed = domain.one_off_due(found.doc) if waiting else None
    if owed is None or payments.load(domain.order_payment_id(order_id)) is not None:
        return None
    body = {"account": {"id": "ba-test"}, "paymentMethod": {"id": token}, "totalAmount": owed,
            "paymentItem": [{"item": {"id": order_id, "@referredType": "ProductOrder"}}]}
    return service.create(body, Caller(sub="agent-007", role="agent", channel="callcenter"))[0]


def workflow_status(order_id):
    sfn = aws.client("stepfunctions")
    arn = settings.state_machine_arn("order-fulfilment").replace(":stateMachine:", ":execution:") + f":{order_id}"
    try:
        return sfn.describe_execution(executionArn=arn)["status"]
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def item(offering, quantity=None, **chars):
    """A basket's cartItem (or a quote's line): the offering, a quantity, product characteristics."""
    out = {"productOffering": {"id": offering}}
    if quantity is not None:
        out["quantity"] = quantity
    if chars:
        out["product"] = {"productCharacteristic": [{"name": k, "value": v} for k, v in chars.items()]}
    return out


# --- orders in flight at silent stacks (the `silent` fixture): the test reports their milestones
def placed(api, who, pump, *offerings):
    """An order of `offerings` decomposed and sent: every child order at its (silent) stack."""
    installed("cust-andrea", *offerings)
    _, order, _ = api.call("POST", ORDERS, who, andrea_order(*offerings))
    settle(pump, order["id"], done=("inProgress",), finished=False)
    deadline = time.monotonic() + 120   # a bound for a hang, not a speed: a loaded machine is slow
    while time.monotonic() < deadline:
        pump.drain()
        found = load_order(order["id"])
        kids = [load_order(c) for c in children_of(found)]
        if kids and all(k.dispatched for k in kids):
            return found.doc
        time.sleep(0.05)
    raise TimeoutError("child orders not dispatched")


def load_order(order_id):
    from chalicelib.ordering import store

    return store.load(order_id)


def children_of(found):
    from chalicelib.ordering import domain

    return domain.children_of(found.doc if hasattr(found, "doc") else found)


def items_with(order, **states):
    """The order's productOrderItem list as it stands, with the given items' states changed."""
    return [{"id": i["id"], **({"state": states[i["id"]]} if i["id"] in states else {})}
            for i in order["productOrderItem"]]


def patch_order(api, who, order_id, items, **headers):
    return api.call("PATCH", f"{ORDERS}/{order_id}", {**who, **headers}, {"productOrderItem": items})


def report_stack(child, state):
    """The child order's stack reports `state` for it (a silent stack's milestone, said by the test)."""
    from chalicelib.auth import Caller
    from chalicelib.ordering import domain, fulfilment

    stack = domain.stack_of(child)
    fulfilment.stack_event({"event": {"productOrder": {"id": child["id"], "state": state}}},
                        Caller(sub=stack, role="stack", stack=stack))
