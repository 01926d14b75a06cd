"""What follows an order's capture: the stacks' milestones (the listener), the workflow's tasks
(functions/order_tasks.py: decompose, prepare, dispatch, hold, finish), the order stream's
reactions (functions/order_events.py: start the workflow, milestone and amendment SMS, the
products completed child orders create, an amended child order to its stack), and the payment
and appointment contexts' calls (payment refused, a visit moved).
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from chalicelib.view import ref_id
from chalicelib import aws, db, deferred, inventory, payment, settings, stock, tmf, workflows
from chalicelib import appointment as appointments
from chalicelib.auth import Caller, require
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import not_found
from chalicelib.observability import logger
from chalicelib.ordering import domain, store
from chalicelib.ordering.service import NOTIFY_WORKFLOW, WORKFLOW, Customer, catalogue, href, routing

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.ordering.schemas")


# --- writes that follow the stacks --------------------------------------------------------------
def change_order(order_id: str, mutate: Callable[[store.Stored, str], dict[str, Any] | None]) -> tuple[store.Stored, dict[str, Any]]:
    """db.change on an order, retried when someone else wrote first. Returns (the order as read,
    as written); mutate returning None (or the same order) writes nothing."""
    read: list[store.Stored] = []

    def load() -> tuple[store.Stored, int]:
        found = store.load(order_id)
        if found is None:
            raise not_found(domain.RESOURCE, order_id)
        read[:] = [found]
        return found, found.version

    def changed(found: store.Stored, _version: int) -> dict[str, Any] | None:
        new = mutate(found, tmf.now_iso())
        return None if new is None or new == found.doc else new

    def write(new: dict[str, Any], version: int) -> int:
        return store.replace(new, version, was=read[0])

    result, _ = db.change(f"productOrder {order_id}", load, changed, write, attempts=settings.order_write_attempts())
    return read[0], (result.doc if isinstance(result, store.Stored) else result)


def appointment_changed(order_id: str, ref: Mapping[str, Any]) -> int:
    """An engineer's visit of this order was moved or cancelled (chalicelib/appointment): the
    items carrying it, in the order and its child orders, get its new reference; a child order its
    stack has already gets a TMF622 change from the order stream (amended_child), so the stack
    learns the new time. Safe to repeat (an item already carrying `ref` is not written again).
    How many orders changed."""
    def carry(found: store.Stored, at: str) -> dict[str, Any] | None:
        items = domain.Order(found.doc).items
        if not any(ref_id(i, "appointment") == ref["id"] and i["appointment"] != ref for i in items):
            return None
        return {**found.doc, "lastUpdate": at, "productOrderItem": [
            {**i, "appointment": dict(ref)} if ref_id(i, "appointment") == ref["id"] else i
            for i in items]}

    changed = 0
    parent = store.load(order_id)
    for oid in [order_id, *(domain.children_of(parent.doc) if parent else [])]:
        before, after = change_order(oid, carry)
        changed += after != before.doc
    return changed


def refresh_parent(parent_id: str) -> dict[str, Any]:
    """The parent order's state and item states follow its children's (TMF622)."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        children = store.load_many(domain.children_of(found.doc))
        if not children:
            return None
        if found.doc.get("state") in (domain.CANCELLED, domain.REJECTED):
            return None
        return domain.follow_children(found.doc, [c.doc for c in children.values()], at)

    return change_order(parent_id, mutate)[1]


def resume_workflow(token: str | None, state: str) -> None:
    """Let the workflow step waiting on a child order go on (Step Functions callback pattern)."""
    if not token:
        return
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps({"state": state}))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        logger.info("the workflow no longer waits on this child order", extra={"state": state})


def stack_event(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """A stack's ProductOrderStateChangeEvent for a child order it fulfils (listener)."""
    require(caller, "stack")
    customer_domain.validate_payload("productOrderStateChangeEvent", schemas.OrderEvent, body)
    reported = body["event"]["productOrder"]
    child_id = reported["id"]
    found = store.load(child_id)
    stack = domain.stack_of(found.doc) if found else None
    if found is None or stack is None or caller.stack is None or caller.stack != stack:
        raise not_found(domain.RESOURCE, child_id)   # not a child order of the token's stack (not its sub)
    before, after = change_order(child_id, lambda f, at: domain.apply_report(f.doc, reported, at))
    if after.get("state") in domain.FINAL:
        # also on a repeated report: the first may have been written but not resumed (a crash)
        resume_workflow(before.token, after["state"])
    logger.info("stack milestone", extra={"orderId": child_id, "stack": stack, "state": after.get("state")})
    parent = domain.parent_of(after)
    if parent:
        refresh_parent(parent)
    return after


# --- amendment in flight, from the order stream ------------------------------------------------
def amended_child(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """From the order stream: a child order an amendment made goes to its stack (`create`; no
    workflow waits on it), one it changed gets a TMF622 change (or cancel, when all its items
    were cancelled) once its stack has it; a workflow waiting on a child now final goes on.
    A replayed record sends the child order as it stands again: stacks take that idempotently."""
    found = store.load(new["id"])
    if found is None:
        return None
    doc = found.doc
    if old is None:
        if doc.get("state") != domain.ACKNOWLEDGED or found.dispatched:
            return None
        send_to_stack(doc, "create")
        store.mark_dispatched(doc["id"])
        return "create"
    action = None
    if found.token or found.dispatched:
        action = "cancel" if doc.get("state") == domain.CANCELLED else "change"
        send_to_stack(doc, action)
    if doc.get("state") in domain.FINAL:
        resume_workflow(found.token, doc["state"])
    return action


def notify_amendment(order: Mapping[str, Any]) -> bool:
    """The one SMS an amendment sends (named after the order and the amendment: never twice)."""
    record, customer_id = (order.get("amendment") or [None])[-1], domain.customer_of(order)
    if not record or not customer_id:
        return False
    message_id = f"order-{order['id']}-amendment-{record['id']}"
    return workflows.start_once(NOTIFY_WORKFLOW, message_id, {
        "messageId": message_id, "customerId": customer_id, "purpose": "service",
        "content": {"sms": domain.amendment_text(order, record)}, "channels": ["sms"],
        "fields": {"orderId": order["id"], "status": order.get("state")},
        "journeyKey": order.get("journeyKey"), "reason": f"order amendment {record['id']} SMS",
        "related": [{"id": order["id"], "href": order.get("href"), "@referredType": domain.TYPE}]})


# --- the workflow's tasks -----------------------------------------------------------------------
def send_to_stack(child: Mapping[str, Any], action: str) -> None:
    stack = domain.stack_of(child) or ""
    url = settings.queue_url(f"stack-{stack}")
    if url is None:
        raise RuntimeError(f"no queue is configured for stack {stack}")
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"action": action, "orderId": child["id"],
                                                                          "stack": stack}))


def _child_ids(parent_id: str, plans: list[domain.ChildPlan]) -> dict[str, str]:
    return {plan.key: f"{parent_id}-{n + 1}" for n, plan in enumerate(plans)}


def decompose(order_id: str) -> dict[str, Any]:
    """Child orders for the order (written once with the parent, all or nothing), and the waves
    the workflow sends them in. Safe to repeat: a decomposed order returns its plan again."""
    found = store.load(order_id)
    if found is None:
        raise not_found(domain.RESOURCE, order_id)
    parent = found.doc
    if parent.get("state") in domain.FINAL:
        return {"waves": []}
    if domain.children_of(parent):   # decomposed before (a retry, a restart): the child orders as written
        return {"waves": domain.waves_of([c.doc for c in store.load_many(domain.children_of(parent)).values()])}
    held = {}
    customer_id = domain.customer_of(parent)
    customer = Customer(customer_id) if customer_id else None
    if customer:
        held = customer.held
    live = [i for i in parent["productOrderItem"] if i.get("state") != domain.CANCELLED]   # amended away
    parts = domain.parts(live, catalogue.offering, catalogue.specification, held, routing(),
                         customer.address("country") if customer else None, customer.brand if customer else None)
    plans = domain.decompose(parts, routing())
    ids = _child_ids(order_id, plans)
    waves = [[ids[k] for k in wave] for wave in domain.waves(plans)]
    at = tmf.now_iso()
    children = [domain.child_order(parent, plan, ids[plan.key], href(ids[plan.key]), at,
                                   [domain.relationship(ids[d], href(ids[d]), "dependsOn") for d in plan.depends_on])
                for plan in plans]
    relations = [domain.relationship(c["id"], c["href"], "child") for c in children]
    linked = [*(parent.get("orderRelationship") or []), *relations]
    new_parent = domain.follow_children({**parent, "orderRelationship": linked}, children, at)
    try:
        store.write_children(found, new_parent, children)
    except store.StaleVersion:
        return decompose(order_id)   # changed meanwhile (cancelled, or decomposed by a retry)
    logger.info("order decomposed", extra={"orderId": order_id, "children": len(children),
                                           "stacks": sorted({p.stack for p in plans})})
    return {"waves": waves}


def prepare(child_id: str) -> dict[str, Any]:
    """Before a child order goes to its stack: still wanted, and what it waits for completed?"""
    found = store.load(child_id)
    if found is None:
        raise not_found(domain.RESOURCE, child_id)
    if found.doc.get("state") != domain.ACKNOWLEDGED:
        return {"go": False, "state": found.doc.get("state")}
    waits = [r["id"] for r in found.doc.get("orderRelationship") or [] if r.get("relationshipType") == "dependsOn"]
    blocked = [cid for cid, c in store.load_many(waits).items() if c.doc.get("state") != domain.COMPLETED]
    if blocked:
        change_order(child_id, lambda f, at: domain.cancelled(f.doc, at, f"not sent: child order(s) {', '.join(blocked)} it "
                                                                   "waits for did not complete")
                if f.doc.get("state") == domain.ACKNOWLEDGED else None)
        refresh_parent(domain.parent_of(found.doc) or "")
        return {"go": False, "state": domain.CANCELLED}
    return {"go": True}


def dispatch(child_id: str, task_token: str) -> dict[str, Any]:
    """Send a child order to its stack's queue and leave the workflow waiting (callback pattern):
    the token is kept on the child order; the listener resumes the workflow when the stack
    reports a final state. A repeated call sends nothing twice."""
    try:
        first = store.set_token(child_id, task_token)
    except store.StaleVersion:
        raise not_found(domain.RESOURCE, child_id) from None
    found = store.load(child_id)
    assert found is not None
    if found.doc.get("state") in domain.FINAL:
        resume_workflow(task_token, found.doc["state"])   # finished (or cancelled) before we waited
    elif first:
        send_to_stack(found.doc, "create")
        store.mark_dispatched(child_id)
    return {"orderId": child_id, "sent": first}


def hold(child_id: str, seconds: Any) -> dict[str, Any]:
    """The stack never answered: the child order is held (an alarm watches the metric)."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        if found.doc.get("state") in domain.FINAL:
            return None
        stack = domain.stack_of(found.doc)
        doc = domain.with_note(found.doc, at, f"{stack} did not finish this order within {seconds} s: held")
        return {**doc, "state": domain.HELD, "lastUpdate": at,
                "productOrderItem": [{**i, "state": i["state"] if i.get("state") in domain.FINAL else domain.HELD}
                                     for i in domain.Order(doc).items]}

    _, after = change_order(child_id, mutate)
    logger.warning("child order held: its stack did not answer", extra={"orderId": child_id,
                                                                       "stack": domain.stack_of(after)})
    refresh_parent(domain.parent_of(after) or "")
    return {"orderId": child_id, "state": after.get("state")}


def child_failed(child_id: str, error: Any) -> dict[str, Any]:
    """The child order could not be handed to its stack at all."""
    _, after = change_order(child_id, lambda f, at: None if f.doc.get("state") in domain.FINAL else {
        **domain.with_note(f.doc, at, f"could not be sent to its stack: {str(error)[:300]}"), "state": domain.FAILED,
        "completionDate": at, "lastUpdate": at,
        "productOrderItem": [{**i, "state": domain.FAILED} for i in domain.Order(f.doc).items]})
    refresh_parent(domain.parent_of(after) or "")
    return {"orderId": child_id, "state": after.get("state")}


def finish(order_id: str) -> dict[str, Any]:
    order = refresh_parent(order_id)
    state = order.get("state")
    if state == domain.COMPLETED:    # the handsets its checkout held have shipped
        stock.consume_order(order_id)
    elif state in (domain.FAILED, domain.CANCELLED):
        stock.release_order(order_id)
        appointments.release_order(order)   # its installation slots are freed (once)

        payment.refund_order(order_id)
    return {"orderId": order_id, "state": state}


def fail(order_id: str, error: Any) -> dict[str, Any]:
    """The order could not be decomposed (e.g. the catalogue or routing changed since capture)."""
    cause = (error or {}).get("Cause") if isinstance(error, Mapping) else error
    try:
        cause = json.loads(cause).get("errorMessage", cause) if isinstance(cause, (str, bytes)) else cause
    except (TypeError, ValueError, AttributeError):
        pass
    _, after = change_order(order_id, lambda f, at: None if f.doc.get("state") in domain.FINAL else {
        **domain.with_note(f.doc, at, f"could not be decomposed: {str(cause)[:300]}"), "state": domain.FAILED,
        "completionDate": at, "lastUpdate": at,
        "productOrderItem": [{**i, "state": domain.FAILED} for i in domain.Order(f.doc).items]})
    if after.get("state") in (domain.FAILED, domain.CANCELLED):
        stock.release_order(order_id)   # the handsets its checkout held go back (once)
        appointments.release_order(after)   # its installation slots are freed (once)

        payment.refund_order(order_id)
    return {"orderId": order_id, "state": after.get("state")}


# --- from the stream ------------------------------------------------------------------------------
def start_workflow(order: Mapping[str, Any]) -> bool:
    """One workflow per order, named after it: a repeated start starts nothing. An order with
    one-off charges starts once its payment is authorized (chalicelib/payment calls this then)."""
    if not payment.order_paid(order):
        return False
    return workflows.start_once(WORKFLOW, order["id"], {"orderId": order["id"],
                                          "childTimeoutSeconds": settings.order_child_timeout_seconds()})


def payment_refused(order_id: str, message: str) -> None:
    """Its payment was declined or expired (chalicelib/payment): the order, not sent yet, stays
    `pending` with the reason in a note for the customer; its handsets and its engineers' slots
    go back (once: both releases are safe to repeat)."""
    _, after = change_order(order_id, lambda f, at: {**domain.with_note(f.doc, at, message), "state": domain.PENDING,
                                                 "lastUpdate": at}
                       if f.doc.get("state") == domain.ACKNOWLEDGED and not domain.children_of(f.doc) else None)
    if after.get("state") == domain.PENDING:   # not already on its way to the stacks
        stock.release_order(order_id)
        appointments.release_order(after)


def restart_workflows() -> int:
    """Start the workflow of every top-level order not final again (the local runtime, after a
    restart: its executions did not survive). Each is named after its order and its tasks are
    safe to repeat, so an order whose workflow runs still is left alone. How many started."""
    in_flight = [o for o in store.by_kind(domain.RESOURCE, whole=False)
                 if not domain.parent_of(o) and o.get("state") not in domain.FINAL]
    return sum(start_workflow(order) for order in in_flight)


def notify_milestone(order: Mapping[str, Any]) -> bool:
    """The customer's milestone message (consent and quiet hours are notify's): one per order and
    state, sent by a small workflow that waits out quiet hours. By SMS, or by email to a customer
    who takes no SMS (an organisation: to its technical contact, customer.domain.contact_address)."""
    text, customer_id = domain.milestone_text(order.get("state", "")), domain.customer_of(order)
    if not text or not customer_id:
        return False
    message_id = f"order-{order['id']}-{order['state']}"
    return workflows.start_once(NOTIFY_WORKFLOW, message_id, {
        "messageId": message_id, "customerId": customer_id, "purpose": "service", "content": {"sms": text, "email": text},
        "channels": ["sms", "email"], "fields": {"orderId": order["id"], "status": order["state"]},
        "journeyKey": order.get("journeyKey"), "reason": f"order {order['state']} message",
        "related": [{"id": order["id"], "href": order.get("href"), "@referredType": domain.TYPE}]})


def record_products(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> int:
    """Items of a child order that completed create or change the customer's products in the
    inventory (product ids derive from the customer's order and the item): safe to repeat."""
    parent_id = domain.parent_of(new)
    if not parent_id:
        return 0
    before = {i["id"]: i.get("state") for i in domain.Order(old or {}).items}
    done = [i for i in domain.Order(new).items
            if i.get("state") == domain.COMPLETED and before.get(i["id"]) != domain.COMPLETED]
    parent = store.load(parent_id) if done else None
    if parent is None:
        return 0
    at = new.get("completionDate") or new.get("lastUpdate") or tmf.now_iso()
    return inventory.record_completed(parent.doc, done, domain.stack_of(new), at)
