"""Orders in the component tests: bodies, and `settle` (deliver until an order is done and its
workflow has ended, paying its one-off charges as checkout would)."""
import time

from chalicelib import aws, settings


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
