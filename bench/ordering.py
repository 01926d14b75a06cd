"""Per order (TMF622) with 1, 3 and 10 items across 1 to 3 stacks, from POST productOrder to the
completed order: AWS calls (our code, and the workflow's Lambda invocations), Step Functions state
transitions (order-fulfilment and the milestone SMS workflows) and queue messages (stack queues,
hub deliveries). In-process moto, simulated stacks reporting straight to the listener."""
from __future__ import annotations

import time
from typing import Any

from bench.harness import aws, measure, table

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
# What the local pump and this benchmark call to deliver events and watch the workflow (Lambda's
# event source mappings and a human do that in AWS): not counted as the order's calls.
PLUMBING = {"dynamodbstreams:GetRecords", "dynamodbstreams:GetShardIterator", "dynamodbstreams:DescribeStream",
            "sqs:ReceiveMessage", "sqs:GetQueueAttributes", "sqs:DeleteMessageBatch", "sqs:GetQueueUrl",
            "sqs:ChangeMessageVisibilityBatch", "stepfunctions:DescribeExecution", "dynamodb:DescribeTable"}
CASES = [
    ("1 item, 1 stack", ["po-home-security"]),
    ("3 items, 1 stack", ["po-phone-x", "po-phone-x-case", "po-fast-charger"]),
    ("3 items, 3 stacks", ["po-broadband-500", "po-mobile-unlimited", "po-home-security"]),
    ("10 items, 1 stack", ["po-phone-x", "po-phone-x-case", "po-fast-charger"] * 3 + ["po-phone-x-case"]),
    ("10 items, 3 stacks", ["po-broadband-500", "po-tv-max", "po-mobile-unlimited", "po-home-security",
                            "po-phone-x", "po-phone-x-case", "po-fast-charger", "po-phone-x-case",
                            "po-fast-charger", "po-home-security"]),
]


def _transitions(sfn: Any, arn: str) -> int:
    events, token = 0, None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        token = page.get("nextToken")
        if not token:
            return events


def run() -> None:
    import os

    os.environ["OMNISHOP_SIMULATED_STACK_DELAY_SECONDS"] = "0.01"
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import auth, demo, settings
        from chalicelib import aws as clients
        from chalicelib.appointment.demo import installed
        from chalicelib.auth import Caller
        from chalicelib.catalog.domain import STACKS
        from chalicelib.ordering import domain, fulfilment, service, store
        from chalicelib.stacks.simulator import Simulator
        from infra.local.pump import Pump

        demo.load_all()
        pump = Pump(retry_delay=0)
        pump.drain()
        def report(stack: str, event: dict[str, Any]) -> None:
            fulfilment.stack_event(event, Caller(sub=stack, role="stack", stack=stack))

        simulator = Simulator(report).start()
        for stack in STACKS:
            os.environ[f"OMNISHOP_STACK_URL_{settings._key(stack)}"] = simulator.url(stack)
        token = auth.issue_local_token({"role": "customer", "channel": "web", "customerId": "cust-andrea",
                                        "sub": "cust-andrea"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        sfn = clients.client("stepfunctions")
        rows = []
        with Client(app) as client:
            for label, offerings in CASES:
                body = {"productOrderItem": [{"id": str(n + 1), "action": "add", "productOffering": {"id": o}}
                                             for n, o in enumerate(offerings)]}
                found: dict[str, Any] = {}

                def one() -> None:
                    answer = client.http.post(ORDERS, headers=headers, body=__import__("json").dumps(body))
                    assert answer.status_code == 201, answer.body
                    order_id = __import__("json").loads(answer.body)["id"]
                    found["id"] = order_id
                    _pay(client, headers, __import__("json").loads(answer.body))   # one-off charges first
                    deadline = time.monotonic() + 120
                    while True:
                        pump.drain()
                        loaded = store.load(order_id)
                        assert loaded is not None
                        doc = loaded.doc
                        running = sfn.describe_execution(executionArn=settings.state_machine_arn(
                            service.WORKFLOW).replace(":stateMachine:", ":execution:") + f":{order_id}")["status"]
                        if doc["state"] in domain.FINAL and running != "RUNNING":
                            time.sleep(0.3)
                            pump.drain()
                            found["doc"] = doc
                            return
                        assert time.monotonic() < deadline, doc["state"]
                        time.sleep(0.05)

                installed("cust-andrea", *offerings)   # the engineers' visits it needs (not counted)
                calls = measure(one)
                doc, order_id = found["doc"], found["id"]
                prefix = settings.state_machine_arn(service.WORKFLOW).replace(":stateMachine:", ":execution:")
                transitions = _transitions(sfn, f"{prefix}:{order_id}")
                notify_prefix = settings.state_machine_arn(service.NOTIFY_WORKFLOW).replace(":stateMachine:",
                                                                                            ":execution:")
                sms = sum(_transitions(sfn, f"{notify_prefix}:order-{order_id}-{s}")
                          for s in ("acknowledged", "inProgress", doc["state"]))
                stack_messages = sum(1 for o in simulator.orders.values() if o["order"]["externalId"] == order_id)
                queue = calls.counts.get("sqs:SendMessage", 0) + calls.counts.get("sqs:SendMessageBatch", 0)
                ours = sum(n for op, n in calls.counts.items() if op not in PLUMBING and op != "lambda:Invoke")
                rows.append((label, doc["state"], len(domain.children_of(doc)), ours,
                             calls.counts.get("lambda:Invoke", 0), transitions, sms, queue, stack_messages))
            checkout = _self_service(client, headers)
            payment = _checkout_with_payment(client, headers)
            changes = _changes(client)
            amendment = _amendment(client, headers, pump)
        simulator.stop()
        table("Ordering: per order, POST productOrder to completed (simulated stacks, moto in-process)",
              ("order", "final", "child orders", "AWS calls (code)", "workflow Lambda invokes",
               "fulfilment transitions", "SMS workflow transitions", "SQS sends", "stack requests"), rows)
        table("Self-service checkout: POST productOrder {shoppingCart} of her active basket (issue 12; goal: one "
              "transaction + the reads the rules need)", ("basket", "AWS calls", "which"), [checkout])
        table("Checkout with payment (issue 14): a Phone X order (its reservation in the order's transaction), "
              "then its payment (the simulated provider's call is no AWS call)", ("request", "AWS calls", "which"),
              payment)
        table("Changing what she holds (issue 12 point 3): capture only", ("request", "AWS calls", "which"), changes)
        table("Amendment in flight: PATCH productOrder/{id} cancelling 1 item and adding 1 (issue 12 point 4) on a "
              "3-item order on 2 stacks, then what its stream records do (plumbing not counted)",
              ("step", "AWS calls", "which"), amendment)


def _pay(client: Any, headers: dict[str, str], order: dict[str, Any]) -> Any:
    """Pay the order's one-off charges (TMF676; the simulated provider authorizes `tok-visa`)."""
    import json

    fee = next((t["price"]["taxIncludedAmount"] for t in order.get("orderTotalPrice") or []
                if t.get("priceType") == "oneTime"), None)
    if fee is None:
        return None
    answer = client.http.post(PAYMENTS, headers=headers, body=json.dumps({
        "account": {"id": "ba-andrea"}, "paymentMethod": {"id": "tok-visa"}, "totalAmount": fee,
        "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}]}))
    assert answer.status_code == 201 and json.loads(answer.body)["status"] == "authorized", answer.body
    return answer


def _checkout_with_payment(client: Any, headers: dict[str, str]) -> list[tuple[Any, ...]]:
    import json

    found: dict[str, Any] = {}

    def order() -> None:
        answer = client.http.post(ORDERS, headers=headers, body=json.dumps(
            {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "po-phone-x"}}]}))
        assert answer.status_code == 201, answer.body
        found["order"] = json.loads(answer.body)

    placed = measure(order)
    paid = measure(lambda: _pay(client, headers, found["order"]))
    return [("POST productOrder (Phone X)", placed.total(), placed.summary()),
            ("POST payment (authorized; starts the workflow)", paid.total(), paid.summary())]


def _self_service(client: Any, headers: dict[str, str]) -> tuple[Any, ...]:
    """The AWS calls of one self-service checkout (the basket and the bookings made beforehand, not
    counted; the order's transaction confirms the bookings)."""
    import json

    from chalicelib.appointment.demo import installed

    answer = client.http.post("/tmf-api/shoppingCart/v4/shoppingCart", headers=headers, body=json.dumps(
        {"cartItem": [{"productOffering": {"id": o}} for o in ("po-home-security", "po-tv-max")]}))
    assert answer.status_code == 201, answer.body
    cart_id = json.loads(answer.body)["id"]
    installed("cust-andrea", "po-home-security", "po-tv-max")   # booked beforehand, not counted
    found: dict[str, Any] = {}

    def order() -> None:
        found["answer"] = client.http.post(ORDERS, headers=headers, body=json.dumps({"shoppingCart": {"id": cart_id}}))

    calls = measure(order)
    assert found["answer"].status_code == 201, found["answer"].body
    return ("2 items", calls.total(), calls.summary())


def _changes(client: Any) -> list[tuple[Any, ...]]:
    """The AWS calls of Stacy's promotion order (capture) and of a basket write with and without a
    bundle (a bundle in a known customer's basket reads her products to show what it replaces)."""
    import json

    from chalicelib import auth

    rows = []
    for who, label, path, body in (
            ("cust-stacy", "promotion on her subscription: POST productOrder (modify)", ORDERS, {"productOrderItem": [
                {"id": "1", "action": "modify", "product": {"id": "prod-stacy-mobile"},
                 "itemPrice": [{"productOfferingPrice": {"id": "pop-mobile-half-price-6"}}]}]}),
            ("cust-andrea", "basket POST, TV Max", "/tmf-api/shoppingCart/v4/shoppingCart",
             {"cartItem": [{"productOffering": {"id": "po-tv-max"}}]}),
            ("cust-andrea", "basket POST, Extreme Bundle (+ replacedItem)", "/tmf-api/shoppingCart/v4/shoppingCart",
             {"cartItem": [{"productOffering": {"id": "po-extreme-bundle"}}]})):
        token = auth.issue_local_token({"role": "customer", "channel": "app", "customerId": who, "sub": who})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        found: dict[str, Any] = {}
        calls = measure(lambda: found.update(answer=client.http.post(path, headers=headers, body=json.dumps(body))))
        assert found["answer"].status_code == 201, found["answer"].body
        rows.append((label, calls.total(), calls.summary()))
    return rows
def _amendment(client: Any, headers: dict[str, str], pump: Any) -> list[tuple[Any, ...]]:
    """The AWS calls of one amendment of an order in flight (stacks silent, so it stays in flight):
    the request (reads, one transaction) and the stream's follow-up (a change to one stack, a
    new child order to another, one SMS workflow)."""
    import json
    import os

    from chalicelib.appointment.demo import installed
    from chalicelib.ordering import domain, store

    os.environ["OMNISHOP_SIMULATED_STACKS_SILENT"] = "csp-stack-a,csp-stack-b,iot-partner-x"
    try:
        body = {"productOrderItem": [{"id": str(n + 1), "action": "add", "productOffering": {"id": o}}
                                     for n, o in enumerate(("po-tv-max", "po-broadband-500", "po-mobile-unlimited"))]}
        installed("cust-andrea", "po-tv-max", "po-broadband-500", "po-home-security")   # item 4 added below
        answer = client.http.post(ORDERS, headers=headers, body=json.dumps(body))
        assert answer.status_code == 201, answer.body
        order_id = json.loads(answer.body)["id"]
        _pay(client, headers, json.loads(answer.body))   # broadband's installation fee
        deadline = time.monotonic() + 120
        while True:
            pump.drain()
            parent = store.load(order_id)
            assert parent is not None
            children = [store.load(c) for c in domain.children_of(parent.doc)]
            if children and all(c is not None and c.dispatched for c in children):
                break
            assert time.monotonic() < deadline, "child orders not dispatched"
            time.sleep(0.05)
        items = [{"id": "1", "state": "cancelled"}, {"id": "2"}, {"id": "3"},
                 {"id": "4", "action": "add", "productOffering": {"id": "po-home-security"}}]
        found: dict[str, Any] = {}
        request = measure(lambda: found.setdefault("answer", client.http.patch(
            f"{ORDERS}/{order_id}", headers=headers, body=json.dumps({"productOrderItem": items}))))
        assert found["answer"].status_code == 200, found["answer"].body
        follow = measure(pump.drain)
        ours = {op: n for op, n in follow.counts.items() if op not in PLUMBING and op != "lambda:Invoke"}
        return [("PATCH (request)", request.total(), request.summary()),
                ("stream follow-up", sum(ours.values()), ", ".join(f"{k} x{v}" for k, v in sorted(ours.items())))]
    finally:
        os.environ.pop("OMNISHOP_SIMULATED_STACKS_SILENT", None)
