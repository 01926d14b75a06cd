"""Item-level cancellation and amendment of orders in flight (PATCH productOrder/{id}), in-process
(moto, chalice test client, the pump, simulated stacks that accept orders and stay silent so the
test says when each child order moves): one item cancelled before its point of no return, one
refused after it (hard), one allowed with a fee (soft); an order amended while one child is past
its point of no return; the same request twice and 20 times at once; replayed stream records and
queue messages; another customer, a channel; a restart in the middle."""
import time


from functions import order_events
from infra import resources
from infra.local import lambdas
from tests.support.streams import stream_records
from tests.ordering.conftest import ORDERS
from tests.support.appointments import installed
from tests.support.orders import andrea_order, children_of, report_stack, items_with, load_order, order_item, patch_order, placed, settle
from tests.support.stored import sms_sent, stored_items
from tests.support.concurrency import at_once

def _child_of(order, stack):
    from chalicelib.ordering import domain

    for cid in children_of(load_order(order["id"])):
        child = load_order(cid).doc
        if domain.stack_of(child) == stack:
            return child
    return None


def _at_stack(stacks, child_id):
    entry = stacks.orders.get(child_id)
    return {i["id"]: i.get("state") for i in entry["order"]["productOrderItem"]} if entry else None


def _amendment_sms():
    return [m[1] for m in sms_sent() if "has been changed" in m[1]]


def _wait(pump, condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        pump.drain()
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def test_one_item_cancelled_before_its_point_of_no_return_others_carry_on(api, demo, andrea, silent, pump):
    order = placed(api, andrea, pump, "po-tv-max", "po-broadband-500", "po-mobile-unlimited")
    stack_a = _child_of(order, "csp-stack-a")
    assert [i["id"] for i in stack_a["productOrderItem"]] == ["1", "2"]
    status, after, headers = patch_order(api, andrea, order["id"], items_with(order, **{"1": "cancelled"}))
    assert status == 200, after
    assert [(i["id"], i["state"]) for i in after["productOrderItem"]] == [
        ("1", "cancelled"), ("2", "acknowledged"), ("3", "acknowledged")]
    assert "cancellationFee" not in after["productOrderItem"][0]     # before its point of no return: free
    assert after["state"] == "inProgress" and after["amendment"][0]["cancelledItem"] == [{"id": "1"}]
    child = load_order(stack_a["id"])
    assert child.doc["state"] == "acknowledged" and child.dispatched and child.token   # still the workflow's
    assert [i["state"] for i in child.doc["productOrderItem"]] == ["cancelled", "acknowledged"]
    other = _child_of(order, "csp-stack-b")
    assert "amendment" not in other and other["productOrderItem"][0]["state"] == "acknowledged"   # untouched
    # the stack hears of it through its queue: a TMF622 change (PATCH) of its child order
    _wait(pump, lambda: _at_stack(silent, stack_a["id"]) == {"1": "cancelled", "2": "acknowledged"})
    # the stack carries on with the rest and completes: the cancelled item stays cancelled
    report_stack(load_order(stack_a["id"]).doc, "completed")
    report_stack(other, "completed")
    done = settle(pump, order["id"])
    assert done["state"] == "completed"
    assert [i["state"] for i in done["productOrderItem"]] == ["cancelled", "completed", "completed"]
    texts = _amendment_sms()
    assert len(texts) == 1 and "cancelled TV Max" in texts[0] and order["id"] in texts[0], texts


def test_hard_point_of_no_return_refuses_and_soft_allows_with_a_fee(api, demo, andrea, silent, pump):
    order = placed(api, andrea, pump, "po-mobile-unlimited", "po-home-security")
    report_stack(_child_of(order, "csp-stack-b"), "inProgress")
    report_stack(_child_of(order, "iot-partner-x"), "inProgress")
    order = load_order(order["id"]).doc
    before = stored_items("order")
    status, error, _ = patch_order(api, andrea, order["id"], items_with(order, **{"1": "cancelled", "2": "cancelled"}))
    assert (status, error["code"]) == (422, "pastPointOfNoReturn"), error
    assert "item 1 (Mobile Unlimited)" in error["message"] and "started fulfilling it" in error["message"]
    assert "item 2" not in error["message"]
    assert stored_items("order") == before                                  # refused whole: nothing written
    status, after, _ = patch_order(api, andrea, order["id"], items_with(order, **{"2": "cancelled"}))
    assert status == 200, after
    cancelled = after["productOrderItem"][1]
    assert cancelled["state"] == "cancelled" and cancelled["cancellationFee"] == {"value": 29.0, "unit": "EUR"}
    assert "return fee" in cancelled["cancellationNote"]
    assert after["amendment"][0]["cancelledItem"][0]["cancellationFee"]["value"] == 29.0
    iot = _child_of(order, "iot-partner-x")
    assert iot["state"] == "cancelled" and iot["productOrderItem"][0]["cancellationFee"]["value"] == 29.0
    _wait(pump, lambda: silent.orders[iot["id"]]["cancelled"])       # the whole child: cancelProductOrder
    texts = _amendment_sms()
    assert texts == [f"Omnishop: your order {order['id']} has been changed: cancelled Home Security "
                     "(fee 29.00 EUR)."], texts
    # the workflow waiting on the cancelled child goes on; the rest completes: the order is complete
    # (what she removed is no failure), and a finished order is no longer amended
    report_stack(_child_of(order, "csp-stack-b"), "completed")
    done = settle(pump, order["id"])
    assert (done["state"], [i["state"] for i in done["productOrderItem"]]) == ("completed", ["completed", "cancelled"])
    status, error, _ = patch_order(api, andrea, order["id"], items_with(done, **{"1": "cancelled"}))
    assert (status, error["code"]) == (422, "orderFinished"), error


def test_amend_while_one_child_is_past_its_point_of_no_return(api, demo, andrea, silent, pump):
    from chalicelib.ordering import domain

    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    stack_a, stack_b = _child_of(order, "csp-stack-a"), _child_of(order, "csp-stack-b")
    report_stack(stack_b, "inProgress")                              # stack B is past its point of no return
    order, b_before = load_order(order["id"]).doc, load_order(stack_b["id"])
    installed("cust-andrea", "po-broadband-500", "po-home-security")   # engineer-installed: booked first
    items = [*items_with(order, **{"1": "cancelled"}), order_item("3", "po-broadband-500"),
             order_item("4", "po-home-security"), order_item("5", "po-phone-x-case")]
    status, after, _ = patch_order(api, andrea, order["id"], items)
    assert status == 200, after
    assert [(i["id"], i["state"]) for i in after["productOrderItem"]] == [
        ("1", "cancelled"), ("2", "inProgress"), ("3", "acknowledged"), ("4", "acknowledged"), ("5", "acknowledged")]
    assert after["productOrderItem"][2]["itemPrice"], "added items are priced from the catalogue"
    record = after["amendment"][0]
    assert record["addedItem"] == ["3", "4", "5"] and [c["id"] for c in record["cancelledItem"]] == ["1"]
    kids = children_of(after)
    assert len(kids) == 4                                       # A and B as they were, two new ones
    # stack A's child (still acknowledged) took the broadband and lost the TV
    a = load_order(stack_a["id"]).doc
    assert [(i["id"], i["state"]) for i in a["productOrderItem"]] == [("1", "cancelled"), ("3", "acknowledged")]
    # stack B's child is past its point of no return: untouched; the case goes in a new child
    b_after = load_order(stack_b["id"])
    assert (b_after.doc, b_after.version) == (b_before.doc, b_before.version)
    new = {c: load_order(c).doc for c in kids if c not in (stack_a["id"], stack_b["id"])}
    assert sorted((domain.stack_of(c), [i["id"] for i in c["productOrderItem"]]) for c in new.values()) == [
        ("csp-stack-b", ["5"]), ("iot-partner-x", ["4"])]
    # each affected stack: a change for A, the new child orders created at B and the IoT partner
    _wait(pump, lambda: _at_stack(silent, stack_a["id"]) == {"1": "cancelled", "3": "acknowledged"}
          and all(c in silent.orders for c in new))
    # they complete; the order completes with the TV cancelled
    for cid in [stack_a["id"], stack_b["id"], *new]:
        report_stack(load_order(cid).doc, "completed")
    done = settle(pump, order["id"])
    assert (done["state"], [i["state"] for i in done["productOrderItem"]]) == (
        "completed", ["cancelled", "completed", "completed", "completed", "completed"])
    texts = _amendment_sms()
    assert texts == [f"Omnishop: your order {order['id']} has been changed: added Broadband 500, Home Security, "
                     "Phone X case; cancelled TV Max."], texts
    # replaying every order stream record (twice) and draining the queues changes nothing
    orders_before, stack_orders = stored_items("order"), {k: dict(v) for k, v in silent.orders.items()}
    records = stream_records("order")
    context = lambdas.context_for(resources.function("order-events"))
    for _ in range(2):
        assert order_events.handler({"Records": records}, context) == {"batchItemFailures": []}
    for _ in range(5):
        pump.drain()
    assert pump.errors == []
    assert stored_items("order") == orders_before
    assert set(silent.orders) == set(stack_orders)
    assert len(_amendment_sms()) == 1


def test_the_same_amendment_twice_and_twenty_at_once_changes_things_once(api, demo, andrea, silent, pump):
    from chalicelib.auth import Caller
    from chalicelib.ordering import capture

    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    installed("cust-andrea", "po-home-security")   # engineer-installed: booked first
    items = [*items_with(order, **{"2": "cancelled"}), order_item("3", "po-home-security")]
    caller = Caller(sub="cust-andrea", role="customer", channel="web", customer_id="cust-andrea")
    results = at_once(20, lambda _: capture.amend(order["id"], {"productOrderItem": items}, caller)[0])
    assert all(isinstance(r, dict) for r in results), [r for r in results if not isinstance(r, dict)]
    assert {len(r["amendment"]) for r in results} == {1}
    doc = load_order(order["id"]).doc
    assert len(doc["amendment"]) == 1 and len(children_of(doc)) == 3
    status, again, _ = patch_order(api, andrea, order["id"], items)
    assert status == 200 and again == doc                           # the same request again: nothing
    for _ in range(5):
        pump.drain()
    assert len(_amendment_sms()) == 1


def test_an_amendment_written_between_reading_the_order_and_its_children_is_seen(api, demo, andrea, silent, pump,
                                                                                 monkeypatch):
    """The race the twenty-at-once test hits now and then, held open: one request read the order,
    another amendment is written, then the first reads the children (items now cancelled there).
    The first must judge on a fresh read (the same request: nothing to do), not refuse the items as
    "already cancelled"."""
    from chalicelib.auth import Caller
    from chalicelib.ordering import capture, store

    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    installed("cust-andrea", "po-home-security")   # engineer-installed: booked first
    items = [*items_with(order, **{"2": "cancelled"}), order_item("3", "po-home-security")]
    caller = Caller(sub="cust-andrea", role="customer", channel="web", customer_id="cust-andrea")
    load_many, other, started = store.load_many, [], []

    def late_children(ids):
        if not started:
            started.append(True)
            other.append(capture.amend(order["id"], {"productOrderItem": items}, caller)[0])   # wins meanwhile
        return load_many(ids)

    monkeypatch.setattr(store, "load_many", late_children)
    mine, _ = capture.amend(order["id"], {"productOrderItem": items}, caller)
    assert other and len(mine["amendment"]) == 1 and mine == load_order(order["id"]).doc


def test_another_customer_and_a_channel_cannot_amend_her_order(api, demo, andrea, stacy, web, agent, silent, pump):
    order = placed(api, andrea, pump, "po-tv-max")
    items = items_with(order, **{"1": "cancelled"})
    assert patch_order(api, stacy, order["id"], items)[0] == 404
    assert patch_order(api, stacy, order["id"], [{"id": []}])[0] == 404        # not found, whatever the body
    assert patch_order(api, web, order["id"], items)[0] == 403
    assert "amendment" not in load_order(order["id"]).doc
    status, after, _ = patch_order(api, agent, order["id"], items)      # an agent may, for her
    assert status == 200 and after["state"] == "cancelled"


def test_bad_amendments_are_refused_and_write_nothing(api, demo, andrea, silent, pump):
    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    before = stored_items("order")
    child = children_of(order)[0]
    cases = [
        ([{"id": "1"}], 422, "itemMissing"),                                          # item 2 dropped by omission
        ([{"id": "1", "quantity": 3}, {"id": "2"}], 422, "itemInFlight"),
        ([{"id": "1", "state": "completed"}, {"id": "2"}], 422, "itemInFlight"),
        ([{"id": "1"}, {"id": "2"}, {"id": "1"}], 400, "invalidInput"),
        ([{"id": "1"}, {"id": "2"}, {"id": "3", "productOffering": {"id": "po-tv-max"}}], 400, "invalidInput"),
        ([{"id": "1"}, {"id": "2"}, order_item("3", "po-nothing")], 422, None),
        ([{"id": "1"}, {"id": "2"}, order_item("3", "po-tv-max", state="completed")], 400, "invalidInput"),
        ([], 400, "invalidInput"),
    ]
    for items, want, code in cases:
        status, error, _ = patch_order(api, andrea, order["id"], items)
        assert status == want and (code is None or error["code"] == code), (items, error)
    status, error, _ = api.call("PATCH", f"{ORDERS}/{order['id']}", andrea, {"productOrderItem": items_with(order),
                                                                              "description": "x"})
    assert (status, error["code"]) == (422, "notAmendable")
    assert patch_order(api, andrea, child, [{"id": "1", "state": "cancelled"}])[1]["code"] == "childOrder"
    assert patch_order(api, andrea, order["id"], items_with(order), **{"If-Match": '"1"'})[0] == 412
    assert stored_items("order") == before


def test_a_crash_in_the_middle_and_replayed_queue_messages_leave_one_consistent_order(
        api, demo, andrea, silent, pump, monkeypatch):
    import json

    from chalicelib import aws, settings
    from chalicelib.ordering import domain, store

    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    stack_a = _child_of(order, "csp-stack-a")
    # the stream consumer dies after sending a new child order to its stack, before noting it
    real, crashes = store.mark_dispatched, []

    def crash_once(order_id):
        if not crashes:
            crashes.append(order_id)
            raise RuntimeError("Lambda timed out")
        real(order_id)

    monkeypatch.setattr(store, "mark_dispatched", crash_once)
    installed("cust-andrea", "po-broadband-500", "po-home-security")   # engineer-installed: booked first
    items = [*items_with(order, **{"1": "cancelled"}), order_item("3", "po-broadband-500"),
             order_item("4", "po-home-security")]
    assert patch_order(api, andrea, order["id"], items)[0] == 200
    new = next(c for c in children_of(load_order(order["id"])) if domain.stack_of(load_order(c).doc) == "iot-partner-x")
    _wait(pump, lambda: load_order(new).dispatched and _at_stack(silent, stack_a["id"]) == {"1": "cancelled",
                                                                                         "3": "acknowledged"})
    assert crashes == [new]                                   # it crashed, and the retried record finished
    assert {name for name, _ in pump.errors} <= {"order-events"}   # recorded when its whole batch failed
    pump.errors.clear()
    assert silent.orders[new]["stack"] == "iot-partner-x"     # the stack has it once (a second create: 409)
    # the stack queues deliver the change and the create again: nothing changes, here or at the stack
    before, at_stack = stored_items("order"), {k: json.dumps(v["order"], sort_keys=True) for k, v in silent.orders.items()}
    sqs = aws.client("sqs")
    for stack, cid, action in (("csp-stack-a", stack_a["id"], "change"), ("iot-partner-x", new, "create")):
        for _ in range(2):
            sqs.send_message(QueueUrl=settings.queue_url(f"stack-{stack}"),
                             MessageBody=json.dumps({"action": action, "orderId": cid, "stack": stack}))
    for _ in range(3):
        pump.drain()
    assert pump.errors == []
    assert stored_items("order") == before
    assert {k: json.dumps(v["order"], sort_keys=True) for k, v in silent.orders.items()} == at_stack
    # and the order is whole: every item of every child order is one of the parent's
    doc = load_order(order["id"]).doc
    held = sorted(domain._parent_item_of(i) for c in children_of(doc) for i in load_order(c).doc["productOrderItem"])
    assert held == ["1", "2", "3", "4"] and [i["id"] for i in doc["productOrderItem"]] == ["1", "2", "3", "4"]


def test_a_workflow_started_again_finds_the_child_orders_as_written(api, demo, andrea, silent, pump):
    from chalicelib.ordering import fulfilment

    order = placed(api, andrea, pump, "po-tv-max", "po-mobile-unlimited")
    installed("cust-andrea", "po-home-security")   # engineer-installed: booked first
    items = [*items_with(order, **{"2": "cancelled"}), order_item("3", "po-home-security")]
    assert patch_order(api, andrea, order["id"], items)[0] == 200
    children = children_of(load_order(order["id"]))
    assert len(children) == 3                       # stack B's cancelled, the IoT partner's new
    waves = fulfilment.decompose(order["id"])["waves"]  # a restart: the workflow starts again
    assert sorted(c for wave in waves for c in wave) == sorted(children)


def test_before_it_is_split_for_its_stacks_an_order_takes_no_new_items(api, demo, andrea, silent, pump):
    """Added before decomposition, the new items' child orders would make decompose take the
    order as done and its first items would never reach a stack: 409 notDecomposedYet, nothing
    written. A cancellation then is fine: decompose leaves the cancelled item out."""
    installed("cust-andrea", "po-tv-max")
    _, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-tv-max", "po-mobile-unlimited"))
    before = load_order(order["id"])
    assert not children_of(before)                                   # not pumped: not decomposed yet
    status, body, _ = patch_order(api, andrea, order["id"], [*items_with(order), order_item("3", "po-home-security")])
    assert status == 409 and body["code"] == "notDecomposedYet", body
    assert load_order(order["id"]).version == before.version
    status, body, _ = patch_order(api, andrea, order["id"], items_with(order, **{"2": "cancelled"}))
    assert status == 200, body
    settle(pump, order["id"], done=("inProgress",), finished=False)
    kids = [load_order(c).doc for c in children_of(load_order(order["id"]))]
    sent = [i for k in kids for i in k["productOrderItem"]]
    assert kids and all("Mobile" not in ((i.get("productOffering") or {}).get("name") or "") for i in sent), sent
