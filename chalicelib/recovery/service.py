"""Abandoned-basket recovery: what the basket stream consumer, the workflow's tasks and the API
call. State changes of baskets go through chalicelib.basket.service (its ownership rules and
hand-over interactions); messages through chalicelib.notify (consent, quiet hours, once per id,
a TMF681 communicationMessage and a TMF683 interaction each).

    stream: basket becomes recoverable  -> start_recovery   (one execution per session, named in
                                           the recovery table)
            leaves recovery (ordered, emptied, deleted, with an agent) -> StopExecution at once
            agent hands it back          -> start_approval   (approval email workflow)
            customer approved it         -> submit_order     (ordering API, idempotent per basket)
    workflow tasks: check (wait | send | end), sent (offer assistance, schedule the next), failed
    API: link (what it offers), accept, resume, approve; worklist list / item / claim
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from pynamodb.expressions.condition import Condition

from chalicelib import aws, db, deferred, settings, tmf, workflows
from chalicelib.auth import Caller
from chalicelib.basket import domain as basket
from chalicelib.basket import store as basket_store
from chalicelib.customer import access
from chalicelib.db import written
from chalicelib.errors import ApiError, Conflict, Gone, NotFound, Stale, Unavailable, conflict, not_found
from chalicelib.notify import links
from chalicelib.observability import logger
from chalicelib.ordering import domain as ordering_domain
from chalicelib.recovery import domain
from chalicelib.recovery.models import RecoverySession

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
baskets = deferred.module("chalicelib.basket.service")
customers = deferred.module("chalicelib.customer.service")

MACHINE = "abandoned-basket"
NOTIFY_MACHINE = "order-notify"   # one message through notify-send, waiting out quiet hours
STOP_ERROR = "RecoveryEnded"   # the error a stopped session ends with
LINK_PATH = "/recovery/link"
LINK_CHANNEL = "web"   # a link lands in the self-care portal
WORKLIST_QUEUE = "worklist"
NEXT_TRIES = 10                          # stale messages skipped per POST /worklist/next at most
SESSION_KEEP_SECONDS = 30 * 24 * 3600   # the session item outlives any execution (TTL)


class OutreachFailed(Exception):
    """The workflow gave up sending a message (the provider kept failing or refused it). The
    execution fails with this error and the basket id in its cause (an alarm watches failed
    executions); the basket is left as it was, so the process can be run again."""


# --- from the basket stream -------------------------------------------------------------------
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
                  if basket.customer_of(new) is None else "the basket was emptied" if not domain.active_items(new)
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
        found = basket_store.load(session.pk)
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
    from chalicelib.ordering import capture as ordering   # lazily: only approvals need it

    customer_id = basket.customer_of(doc)
    caller = Caller(sub=customer_id or "", role="customer", channel=(doc.get("context") or {}).get("currentChannel")
                    or LINK_CHANNEL, customer_id=customer_id)
    try:
        order, _, created = ordering.create({"shoppingCart": {"id": doc["id"]}}, caller,
                                            (doc.get("context") or {}).get("journeyKey"), only_approved=True)
    except ApiError as exc:
        still = basket_store.load(doc["id"])
        if still is None or still.doc.get("status") != basket.APPROVED or isinstance(exc, NotFound):
            logger.info("approved basket not ordered: it changed meanwhile", extra={"basketId": doc["id"],
                                                                                     "code": exc.code})
            return {}
        if exc.code not in ordering_domain.REFUSALS:
            raise    # a race, a conflict or a fault: the stream or the sweep tries again (same order id)
        return _not_ordered(still.doc, version, exc)
    logger.info("approved basket ordered", extra={"basketId": doc["id"], "orderId": order["id"], "newOrder": created})
    return {"productOrder": _order_ref(order)}


def _not_ordered(doc: Mapping[str, Any], version: int, exc: ApiError, awaiting: bool = False) -> dict[str, Any]:
    items = list(exc.items)   # the items ordering named (none: the basket as a whole)
    after, _, changed = baskets.return_unordered(doc["id"], exc.message, exc.code, items,
                                                 version if awaiting else None)
    to_agent = after.get("status") == basket.WITH_AGENT
    if changed:
        message = domain.not_ordered_request(doc, version, exc.message, to_agent, _recover_link(doc["id"]))
        customer_id = basket.customer_of(doc)
        if customer_id:
            workflows.start_once(NOTIFY_MACHINE, message["messageId"], {**message, "customerId": customer_id})
    logger.warning("approved basket not ordered: returned with the reason",
                   extra={"basketId": doc["id"], "code": exc.code, "reason": exc.message,
                          "returnedTo": "agent" if to_agent else "customer", "changed": changed})
    return {"notOrdered": {"code": exc.code, "reason": exc.message, "cartItem": items}, "status": after.get("status")}


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
        found = basket_store.load(listed["id"])
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


# --- the workflow's tasks ---------------------------------------------------------------------
def _recover_link(basket_id: str) -> str:
    return links.url(links.sign(domain.LINK_RECOVER, basket_id, settings.recovery_link_seconds()), LINK_PATH)


def _approval_link(basket_id: str, version: int) -> str:
    token = links.sign(domain.LINK_APPROVE, domain.approval_subject(basket_id, version),
                       settings.approval_link_seconds())
    return links.url(token, LINK_PATH)


def check(state: Mapping[str, Any]) -> dict[str, Any]:
    """Task `check`: read the basket and decide. Returns the state with `next` (wait | send |
    end), `reason`, `until` (wait) and `message` (send: notify-send's input)."""
    basket_id = state["basketId"]
    found = basket_store.load(basket_id)
    doc = found.doc if found else None
    at = tmf.now()
    step = domain.next_step({**state, "currentVersion": found.version if found else None}, doc, at)
    step = domain.after_quiet_hours(step, state.get("sent"), at)
    out = {k: v for k, v in state.items() if k not in ("next", "reason", "until", "waitSeconds", "message", "sent",
                                                        "error")}
    out.update({"next": step.next, "reason": step.reason})
    if step.until:
        out.update(until=step.until, waitSeconds=domain.seconds_until(step.until, at))
    if step.next == "send" and state.get("phase") != domain.APPROVAL:
        assert doc is not None
        step = _one_voice(doc, at) or step
    if step.next == "send":
        assert doc is not None and found is not None
        customer_id = basket.customer_of(doc)
        if state.get("phase") == domain.APPROVAL:
            message = domain.approval_request(doc, int(state["version"]), _approval_link(basket_id, int(state["version"])))
        else:
            reminder = int(state.get("reminder") or 1)
            message = domain.reminder_request(basket_id, reminder, _recover_link(basket_id),
                                              (doc.get("context") or {}).get("journeyKey"), doc.get("href"))
        out["message"] = {**message, "customerId": customer_id}
    logger.info("recovery check", extra={"basketId": basket_id, "phase": state.get("phase"),
                                         "reminder": state.get("reminder"), "next": step.next, "reason": step.reason})
    return out


def _one_voice(doc: Mapping[str, Any], at: dt.datetime) -> domain.Step | None:
    """One reminder per customer at a time: the newest of her recoverable baskets speaks for all
    (one Query of her baskets), and at most OMNISHOP_RECOVERY_BASKETS_PER_CUSTOMER baskets are
    reminded about per OMNISHOP_RECOVERY_CAP_SECONDS (a conditional write). An end step, or None
    to send."""
    customer_id = basket.customer_of(doc)
    assert customer_id is not None
    newer = domain.speaker(doc, basket_store.by_owner(f"CUSTOMER#{customer_id}"), at)
    if newer:
        return domain.Step("end", f"a newer basket ({newer}) speaks for the customer")
    window, cap = settings.recovery_cap_seconds(), settings.recovery_baskets_per_customer()
    if _cap_admits(customer_id, doc["id"], int(at.timestamp()), window, cap):
        return None
    return domain.Step("end", f"the customer was reminded about another basket (at most {cap} per "
                              f"{window} s)")


CAP_PREFIX, CAP_ATTEMPTS = "CAP#", 10


def _cap_admits(customer_id: str, basket_id: str, at: int, window: int, cap: int) -> bool:
    """The rolling-window cap (domain `cap_admits`) on her CAP# item, a db.change: read, decide,
    and write back only if nobody wrote it meanwhile (otherwise read again; 409 busy after
    CAP_ATTEMPTS lost writes)."""
    key = f"{CAP_PREFIX}{customer_id}"
    admitted: list[bool] = [True]

    def load() -> tuple[RecoverySession | None, int]:
        try:
            item = RecoverySession.get(key, consistent_read=True)
        except RecoverySession.DoesNotExist:
            return None, 0
        return item, int(item.cap_version or 0)

    def mutate(item: RecoverySession | None, version: int) -> tuple[RecoverySession, Condition] | None:
        before = {k: int(v) for k, v in ((item.reminded.as_dict() if item and item.reminded else {}).items())}
        after = domain.cap_admits(before, basket_id, at, window, cap)
        admitted[0] = after is not None
        if after is None or (item is not None and after == before):
            return None
        fresh = RecoverySession(key, reminded=after, cap_version=version + 1, expires=max(after.values()) + window)
        return fresh, (RecoverySession.pk.does_not_exist() if item is None
                       else RecoverySession.cap_version == version if item.cap_version is not None
                       else RecoverySession.cap_version.does_not_exist())

    def write(new: tuple[RecoverySession, Condition], version: int) -> int:
        fresh, expected = new
        with db.versioned():
            fresh.save(condition=expected)
        return version + 1

    db.change(f"the outreach cap of {customer_id}", load, mutate, write, attempts=CAP_ATTEMPTS)
    return admitted[0]


def sent(state: Mapping[str, Any]) -> dict[str, Any]:
    """Task `sent`: a message went out (or had gone out before). After the first reminder the
    basket is offered assistance (it shows on the agents' assistanceOffered list) and the second
    reminder is scheduled; after the second, or the approval email, the workflow ends."""
    basket_id, outcome = state["basketId"], state.get("sent") or {}
    out = {k: v for k, v in state.items() if k not in ("next", "reason", "until", "waitSeconds", "message", "sent")}
    reminder = int(state.get("reminder") or 1)
    if state.get("phase") == domain.APPROVAL or reminder >= domain.REMINDERS:
        out.update({"next": "end", "reason": f"{'approval email' if state.get('phase') == domain.APPROVAL else 'last reminder'} sent"})
        return out
    if outcome.get("duplicate"):
        out.update({"next": "end", "reason": "this basket was reminded before: not again"})
        return out
    try:
        doc, _ = baskets.system_move(basket_id, basket.OFFERED, outcome.get("channel"))
    except ApiError as exc:   # changed meanwhile (ordered, handed over...): the next check ends it
        logger.info("assistance not offered", extra={"basketId": basket_id, "reason": exc.message})
        found = basket_store.load(basket_id)
        doc = found.doc if found else {}
    at = tmf.now()
    until = tmf.iso(at + dt.timedelta(seconds=int(state["secondReminderSeconds"])))
    out.update({"reminder": reminder + 1, "sentAt": tmf.iso(at), "since": doc.get("lastUpdate"), "next": "wait",
                "reason": "waiting for an answer", "until": until, "waitSeconds": domain.seconds_until(until, at)})
    return out


def failed(state: Mapping[str, Any]) -> None:
    """Task `failed`: raise OutreachFailed naming the basket (the execution fails: alarm)."""
    error = state.get("error") or {}
    cause = str(error.get("Cause") or error.get("Error") or "unknown")[:500]
    logger.error("recovery outreach failed", extra={"basketId": state.get("basketId"), "phase": state.get("phase"),
                                                    "error": error.get("Error")})
    raise OutreachFailed(f"basket {state.get('basketId')}: the {state.get('phase')} message could not be sent "
                         f"({error.get('Error')}); the basket is unchanged and can be recovered. Cause: {cause}")


# --- links --------------------------------------------------------------------------------------
def _link(token: str, purpose: str | None = None) -> tuple[links.Link, str]:
    link = links.verify(token, purpose)
    if link.purpose == domain.LINK_RECOVER:
        return link, link.subject
    if link.purpose == domain.LINK_APPROVE:
        parsed = domain.parse_approval_subject(link.subject)
        if parsed:
            return link, parsed[0]
    raise links.invalid_link("it is not a basket link")


def _loaded(basket_id: str) -> basket_store.Stored:
    found = basket_store.load(basket_id)
    if found is None or basket.customer_of(found.doc) is None:
        raise Gone("this basket no longer exists", "basketGone")
    return found


def _as_customer(doc: Mapping[str, Any]) -> Caller:
    cid = basket.customer_of(doc)
    return Caller(sub=cid or "", role="customer", channel=LINK_CHANNEL, customer_id=cid)


def link_view(token: str) -> dict[str, Any]:
    """What a link offers: the basket's summary (no personal data) and the actions it allows."""
    link, basket_id = _link(token)
    found = _loaded(basket_id)
    status = basket.effective_status(found.doc, tmf.now())
    base = f"{LINK_PATH}/{token}"
    actions = ([{"name": "accept", "href": f"{base}/accept", "description": "ask an adviser to help"},
                {"name": "resume", "href": f"{base}/resume", "description": "carry on yourself"}]
               if link.purpose == domain.LINK_RECOVER else
               [{"name": "approve", "href": f"{base}/approve", "description": "approve the basket and order it"}])
    return {"purpose": link.purpose, "expires": tmf.iso(dt.datetime.fromtimestamp(link.expires, dt.timezone.utc)),
            "shoppingCart": {**domain.basket_summary(found.doc), "status": status,
                             "href": baskets.href(basket_id)}, "actions": actions}


def accept(token: str) -> dict[str, Any]:
    """The customer accepts assistance: the basket goes to the agents' worklist (withAgent, no
    agent yet). Repeating it changes nothing."""
    _, basket_id = _link(token, domain.LINK_RECOVER)
    found = _loaded(basket_id)
    status = basket.effective_status(found.doc, tmf.now())
    if status == basket.WITH_AGENT:
        return {"shoppingCart": domain.basket_summary(found.doc), "status": status, "changed": False}
    if status not in (basket.ACTIVE, basket.OFFERED):
        raise conflict(f"this basket is {status}: assistance can no longer be accepted", "basketNotOpen")
    doc, _ = baskets.update(basket_id, {"status": basket.WITH_AGENT}, _as_customer(found.doc))
    logger.info("assistance accepted", extra={"basketId": basket_id})
    return {"shoppingCart": domain.basket_summary(doc), "status": doc["status"], "changed": True}


def resume(token: str) -> dict[str, Any]:
    """The customer carries on herself: the basket is hers again (active)."""
    _, basket_id = _link(token, domain.LINK_RECOVER)
    found = _loaded(basket_id)
    status = basket.effective_status(found.doc, tmf.now())
    if status == basket.OFFERED:
        doc, _ = baskets.update(basket_id, {"status": basket.ACTIVE}, _as_customer(found.doc))
        status, changed = doc["status"], True
    elif status == basket.ACTIVE:
        doc, changed = found.doc, False
    else:
        raise conflict(f"this basket is {status}: it cannot be resumed from this link", "basketNotOpen")
    return {"shoppingCart": {**domain.basket_summary(doc), "href": baskets.href(basket_id)}, "status": status,
            "changed": changed}


def approve(token: str) -> dict[str, Any]:
    """The customer approves the basket she was emailed (that version only) and it is ordered in
    the same write (the basket goes from awaitingApproval to ordered with its order): the answer
    has the order. When it cannot be ordered (qualification, a price changed since the email,
    routing) the approval is recorded and the basket returned with the reason (place_approved's
    rules): the answer has the reason and where the basket went."""
    from chalicelib.ordering import capture as ordering   # lazily: only approvals need it

    link, basket_id = _link(token, domain.LINK_APPROVE)
    parsed = domain.parse_approval_subject(link.subject)
    assert parsed is not None
    found = _loaded(basket_id)
    status = basket.effective_status(found.doc, tmf.now())
    issue = (found.doc.get("context") or {}).get("orderIssue")
    if status in (basket.APPROVED, basket.ORDERED) or (issue and found.version > parsed[1]):
        outcome = _known_outcome(found.doc, status, issue)
        return {"shoppingCart": domain.basket_summary(found.doc), "status": status, "changed": False, **outcome}
    if status != basket.AWAITING or found.version != parsed[1]:
        raise conflict(f"this basket changed since the email was sent (it is {status}); review it in self-care",
                       "basketChanged")
    customer = _as_customer(found.doc)
    try:
        order, _, _ = ordering.create({"shoppingCart": {"id": basket_id}}, customer,
                                      (found.doc.get("context") or {}).get("journeyKey"), approving=parsed[1])
        outcome = {"productOrder": _order_ref(order)}
        logger.info("approved basket ordered", extra={"basketId": basket_id, "orderId": order["id"]})
    except ApiError as exc:
        if exc.code not in ordering_domain.REFUSALS:
            raise
        outcome = _not_ordered(found.doc, parsed[1], exc, awaiting=True)   # back with the reason
    latest = basket_store.load(basket_id)
    now = latest.doc if latest else found.doc
    return {"shoppingCart": domain.basket_summary(now), "status": basket.effective_status(now, tmf.now()),
            "changed": True, **{k: v for k, v in outcome.items() if k != "status"}}


def _order_ref(order: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": order["id"], "href": order.get("href"), "state": order.get("state"), "@referredType": "ProductOrder"}


def _known_outcome(doc: Mapping[str, Any], status: str, issue: Mapping[str, Any] | None) -> dict[str, Any]:
    if status == basket.ORDERED:
        from chalicelib.ordering import service as ordering

        found = ordering.store.load(ordering.basket_order_id(doc["id"]))
        if found is not None:
            return {"productOrder": _order_ref(found.doc)}
    if issue and status != basket.APPROVED:
        return {"notOrdered": {"code": issue.get("code"), "reason": issue.get("reason"),
                               "cartItem": issue.get("cartItem") or []}}
    return {}


def link_action(token: str, action: str) -> dict[str, Any]:
    actions = {"accept": accept, "resume": resume, "approve": approve}
    if action not in actions:
        raise not_found("link action", action[:40])
    return actions[action](token)


# --- the agents' worklist ---------------------------------------------------------------------
def worklist(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """Baskets whose customer accepted assistance (withAgent), unclaimed first, then the caller's
    own; one Query on the basket's worklist index."""
    access.check_roles(caller, "agent")
    q = tmf.list_query(params, tmf.attributes("worklist item", extras=WORK_ITEM_ATTRIBUTES), route_params=("claimed",))
    docs, _ = baskets.search({"status": basket.WITH_AGENT, "limit": str(settings.max_page_limit())}, caller)
    mine = [d for d in docs if basket.agent_of(d) == caller.sub]
    free = [d for d in docs if not basket.agent_of(d)]
    wanted = params.get("claimed")
    picked = free if wanted == "false" else mine if wanted == "true" else free + mine
    items = [_work_item(d) for d in sorted(picked, key=lambda d: d.get("lastUpdate") or "")]
    return tmf.page([i for i in items if tmf.matches(i, q.filters)], q.offset, q.limit)


WORK_ITEM_ATTRIBUTES = ("id", "@type", "shoppingCart.id", "shoppingCart.href", "customer.id", "journeyKey",
                        "since", "claimedBy", "state", "orderIssue.*")


def _work_item(doc: Mapping[str, Any]) -> dict[str, Any]:
    agent = basket.agent_of(doc)
    return {"id": doc["id"], "shoppingCart": {"id": doc["id"], "href": baskets.href(doc["id"]),
                                              "@referredType": basket.TYPE},
            "customer": {"id": basket.customer_of(doc), "@referredType": "Customer"},
            "journeyKey": (doc.get("context") or {}).get("journeyKey"), "since": doc.get("lastUpdate"),
            "claimedBy": agent, "state": "claimed" if agent else "waiting",
            "summary": domain.basket_summary(doc), "@type": "WorkItem",
            **({"orderIssue": issue} if (issue := (doc.get("context") or {}).get("orderIssue")) else {})}


def work_item(basket_id: str, caller: Caller) -> dict[str, Any]:
    """Everything the agent needs for one basket: the basket, the customer's 360 view and the
    recommendations for this customer and basket."""
    access.check_roles(caller, "agent")
    doc, version = baskets.read(basket_id, caller)
    customer_id = basket.customer_of(doc)
    if customer_id is None:
        raise not_found("workItem", basket_id)
    item = _work_item(doc)
    item["shoppingCart"] = doc
    item["version"] = version
    item["customer360"] = customers.view(customer_id, {}, caller, (doc.get("context") or {}).get("journeyKey"))
    item["recommendation"] = recommendations(customer_id, basket_id, caller)
    return item


def recommendations(customer_id: str, basket_id: str, caller: Caller) -> list[dict[str, Any]]:
    """TMF680 recommendations for the customer and her basket."""
    from chalicelib.campaign import recommendation   # lazily: only the agent's work item needs it

    answer = recommendation.query({"relatedParty": [{"id": customer_id, "role": "customer"}],
                                   "shoppingCart": [{"id": basket_id}]}, caller)
    return answer.get("recommendationItem") or []


def claim(basket_id: str, caller: Caller) -> dict[str, Any]:
    """An agent takes a basket off the worklist: it is theirs to edit (basket hand-over rules).
    Claiming one's own again is fine; one claimed by another agent is 409."""
    access.check_roles(caller, "agent")
    found = basket_store.load(basket_id)
    if found is None or basket.customer_of(found.doc) is None:
        raise not_found("workItem", basket_id)
    status = basket.effective_status(found.doc, tmf.now())
    if status != basket.WITH_AGENT:
        raise conflict(f"basket {basket_id} is {status}, not waiting for an agent", "notOnWorklist")
    holder = basket.agent_of(found.doc)
    if holder == caller.sub:
        return _work_item(found.doc)
    if holder:
        raise conflict(f"basket {basket_id} was claimed by another agent", "alreadyClaimed")
    try:
        doc, _ = baskets.update(basket_id, {"status": basket.WITH_AGENT}, caller, if_match=tmf.etag(found.version))
    except Stale:
            raise conflict(f"basket {basket_id} changed while claiming it (claimed by someone else?); "
                           "read the worklist again", "alreadyClaimed") from None
    logger.info("work item claimed", extra={"basketId": basket_id, "agent": caller.sub})
    return _work_item(doc)


def _queued_basket(message: Mapping[str, Any]) -> str | None:
    try:
        basket_id = json.loads(message.get("Body") or "{}").get("basketId")
    except (ValueError, AttributeError):
        return None
    return basket_id if isinstance(basket_id, str) and basket_id else None


def next_work(caller: Caller) -> dict[str, Any] | None:
    """An agent claims the next basket from the worklist queue: receive, claim (the claim rules
    above), delete. A message whose basket is gone, already claimed or no longer waiting is
    deleted and the next one tried. None when nothing is waiting. An unexpected error leaves the
    message to come back (and, after repeated failures, go to the DLQ)."""
    access.check_roles(caller, "agent")
    url = settings.queue_url(WORKLIST_QUEUE)
    if not url:
        raise Unavailable("the worklist queue is not configured", "noWorklist")
    sqs = aws.client("sqs")
    for _ in range(NEXT_TRIES):
        # a short wait: SQS short polling samples some servers only and can miss a waiting message
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages") or []
        if not messages:
            return None
        message = messages[0]
        basket_id, item = _queued_basket(message), None
        found = basket_store.load(basket_id) if basket_id else None
        if basket_id and found is not None and basket.effective_status(found.doc, tmf.now()) == basket.WITH_AGENT \
                and not basket.agent_of(found.doc):
            try:
                item = claim(basket_id, caller)
            except (NotFound, Conflict):
                pass   # gone, or claimed by another agent meanwhile: the next message
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if item is not None:
            return item
        logger.info("stale work item skipped", extra={"basketId": basket_id})
    return None
