"""Recovery sessions, called by the basket stream (functions/basket_events.py: start, stop or
approve a recovery session), the customer stream (consent withdrawn), the approved-basket sweep
(functions/basket_sweep.py) and the local runtime's restart.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from chalicelib import aws, settings, tmf, workflows
from chalicelib import basket as baskets
from chalicelib.actor import Actor
from chalicelib.basket import domain as basket
from chalicelib.db import written
from chalicelib.errors import ApiError, NotFound
from chalicelib.observability import logger
from chalicelib.recovery import domain
from chalicelib.recovery.models import RecoverySession
from chalicelib.recovery.service import LINK_CHANNEL, MACHINE, STOP_ERROR, WORKLIST_QUEUE, not_ordered, order_ref

SESSION_KEEP_SECONDS = 30 * 24 * 3600   # the session item outlives any execution (TTL)


def _session(basket_id: str) -> RecoverySession | None:
    try:
        return RecoverySession.get(basket_id, consistent_read=True)
    except RecoverySession.DoesNotExist:
        return None


def _record_session(basket_id: str, name: str, version: int) -> None:
    """Remember the basket's current execution; an older session never overwrites a newer one."""
    expires = int(tmf.now().timestamp()) + SESSION_KEEP_SECONDS
    session = RecoverySession(basket_id, execution=name, session=version, expires=expires)
    written(lambda: session.save(condition=RecoverySession.pk.does_not_exist() | (RecoverySession.session <= version)))


def stop_recovery(basket_id: str, cause: str) -> bool:
    """End the basket's running recovery session at once (if any). Safe to repeat."""
    found = _session(basket_id)
    stopped = found is not None and workflows.stop(MACHINE, found.execution, STOP_ERROR, cause)
    if stopped:
        logger.info("recovery stopped", extra={"basketId": basket_id, "reason": cause})
    return stopped


def on_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, version: int) -> str | None:
    """React to one basket change (a stream record); safe to repeat. Returns what it did."""
    at = tmf.now()
    if domain.session_starts(old, new, at):
        assert new is not None
        name = domain.execution_name(new["id"], version)
        previous = _session(new["id"])
        if previous and previous.execution != name and previous.session < version:
            # e.g. she resumed, then left again
            workflows.stop(MACHINE, previous.execution, STOP_ERROR, "a new recovery session started")
        started = workflows.start_once(MACHINE, name, {
            "phase": domain.RECOVER, "basketId": new["id"], "reminder": 1,
            "idleSeconds": settings.basket_idle_seconds(),
            "secondReminderSeconds": settings.basket_second_reminder_seconds()})
        _record_session(new["id"], name, version)
        return "recovery started" if started else "recovery already started"
    queued = None
    if domain.assistance_accepted(old, new):
        assert new is not None
        queued = "queued for an agent" if _enqueue_work(new["id"], version) else "no worklist queue"
    if domain.session_ends(old, new, at):
        basket_id = (new or old or {})["id"]
        reason = ("the basket is gone" if not new else "the basket has no known customer"
                  if basket.customer_of(new) is None else "the basket was emptied" if not basket.item_count(new)
                  else f"the basket is {basket.effective_status(new, at)}")
        # (never also a hand-back or an approval: those start from withAgent / awaitingApproval)
        ended = "recovery stopped" if stop_recovery(basket_id, reason) else "recovery already ended"
        return f"{ended}; {queued}" if queued else ended
    if queued:
        return queued
    if domain.handed_back(old, new):
        assert new is not None
        started = workflows.start_once(MACHINE, domain.execution_name(new["id"], version, domain.APPROVAL),
                                       {"phase": domain.APPROVAL, "basketId": new["id"], "version": version})
        return "approval started" if started else "approval already started"
    if domain.approved(old, new):
        assert new is not None
        return submit_order(new, version)
    return None


def restart_sessions() -> int:
    """Start the recovery workflow of every basket a session may still be looking after again
    (the local runtime, after a restart: its executions did not survive), under the session's
    own execution name; a basket offered assistance waits for its second reminder, a basket
    handed back for approval gets its approval workflow. Messages go out once per message id
    (notify), so nothing already sent is sent again. How many started."""
    at, started = tmf.now(), 0
    for session in RecoverySession.scan(RecoverySession.execution.exists()):   # not the CAP# items
        found = baskets.load(session.pk)
        doc = found.doc if found else None
        if found is None or doc is None:
            continue
        status = basket.effective_status(doc, at)
        if status == basket.AWAITING:
            started += workflows.start_once(MACHINE, domain.execution_name(session.pk, found.version, domain.APPROVAL),
                                            {"phase": domain.APPROVAL, "basketId": session.pk,
                                             "version": found.version})
        elif domain.in_recovery(doc, at):
            offered = status == basket.OFFERED   # the first reminder went out: wait for the second
            started += workflows.start_once(MACHINE, session.execution, {
                "phase": domain.RECOVER, "basketId": session.pk, "reminder": 2 if offered else 1,
                "idleSeconds": settings.basket_idle_seconds(),
                "secondReminderSeconds": settings.basket_second_reminder_seconds(),
                **({"since": doc.get("lastUpdate"), "sentAt": doc.get("lastUpdate")} if offered else {})})
    return started


def _enqueue_work(basket_id: str, version: int) -> bool:
    """Put the basket on the worklist queue. A standard queue: a duplicate message (a repeated
    stream record) is harmless, `next_work` skips a basket already claimed or no longer waiting.
    The message names the basket and version only (no personal data)."""
    url = settings.queue_url(WORKLIST_QUEUE)
    if not url:
        logger.warning("no worklist queue configured", extra={"basketId": basket_id})
        return False
    work_id = f"{basket_id}-v{version}"
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"basketId": basket_id, "version": version,
                                                                         "workId": work_id}),
                                   MessageAttributes={"workId": {"DataType": "String", "StringValue": work_id}})
    return True


def on_customer_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> int:
    """From the customer stream: consent withdrawn ends the recovery session of each of her open
    baskets at once (one Query, then one read per basket). Safe to repeat. Returns how many stopped."""
    if not domain.consent_withdrawn(old, new):
        return 0
    assert new is not None
    return sum(stop_recovery(b["id"], "the customer withdrew consent") for b in baskets.open_baskets(new["id"]))


def place_approved(doc: Mapping[str, Any], version: int) -> dict[str, Any]:
    """Order the basket the customer approved, for her (the same basket is the same order, so a
    repeat is harmless). What came of it: {"productOrder": ref} or {"notOrdered": the reason,
    "status": where the basket went}; {} when the basket is gone or no longer approved. When it
    cannot become an order (qualification, prices, routing), the basket leaves `approved` with
    the reason (to the agent who handled it, else to her), she is told by the channel she
    approved it from, and the agent sees it on the worklist. A write racing the capture raises
    (409 while still approved: the stream, or the sweep, tries again)."""
    from chalicelib import ordering
    from chalicelib.ordering import domain as ordering_domain   # only here: ordering is loading anyway

    context = doc.get("context") or {}
    actor = Actor.system(context.get("currentChannel") or LINK_CHANNEL)   # the platform, in her channel
    try:
        order, _, created = ordering.order_basket(doc["id"], basket.customer_of(doc), actor, context.get("journeyKey"),
                                                  only_approved=True)
    except ApiError as exc:
        still = baskets.load(doc["id"])
        if still is None or still.doc.get("status") != basket.APPROVED or isinstance(exc, NotFound):
            logger.info("approved basket not ordered: it changed meanwhile", extra={"basketId": doc["id"],
                                                                                     "code": exc.code})
            return {}
        if exc.code not in ordering_domain.REFUSALS:
            raise    # a race, a conflict or a fault: the stream or the sweep tries again (same order id)
        return not_ordered(still.doc, version, exc)
    logger.info("approved basket ordered", extra={"basketId": doc["id"], "orderId": order["id"], "newOrder": created})
    return {"productOrder": order_ref(order)}


def submit_order(doc: Mapping[str, Any], version: int = 0) -> str:
    """From the basket stream: the customer approved her basket (place_approved), for the log."""
    outcome = place_approved(doc, version)
    if "productOrder" in outcome:
        return f"ordered {outcome['productOrder']['id']}"
    if "notOrdered" in outcome:
        return f"not ordered ({outcome['notOrdered']['code']}): basket {outcome['status']}"
    return "not ordered: the basket changed meanwhile"


def sweep_approved(older_than: int | None = None) -> dict[str, int]:
    """Scheduled: every basket approved longer than OMNISHOP_APPROVED_UNORDERED_SECONDS ago and
    still without an order is taken up again: ordered, or returned with the reason. One that
    stays approved (a fault) is counted `stuck` (metric ApprovedBasketStuck, alarmed)."""
    at = tmf.now()
    cutoff = tmf.iso(at - dt.timedelta(seconds=settings.approved_unordered_seconds() if older_than is None
                                       else older_than))
    counts = {"ordered": 0, "returned": 0, "changed": 0, "stuck": 0}
    for listed in baskets.approved_before(cutoff):
        found = baskets.load(listed["id"])
        if found is None or found.doc.get("status") != basket.APPROVED:
            counts["changed"] += 1
            continue
        try:
            outcome = place_approved(found.doc, found.version)
        except Exception as exc:   # one basket's fault must not stop the sweep: counted, alarmed
            logger.error("approved basket still not ordered", extra={"basketId": listed["id"], "error": str(exc)[:300]})
            counts["stuck"] += 1
            continue
        counts["ordered" if "productOrder" in outcome else "returned" if "notOrdered" in outcome else "changed"] += 1
    return counts
