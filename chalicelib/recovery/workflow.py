"""The abandoned-basket workflow's tasks (functions/recovery_tasks.py,
infra/statemachines/abandoned_basket.asl.json): check (wait | send | end), sent (offer assistance,
schedule the next), failed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from pynamodb.expressions.condition import Condition

from chalicelib import db, settings, tmf
from chalicelib import basket as baskets
from chalicelib.basket import domain as basket
from chalicelib.errors import ApiError
from chalicelib.notify import links
from chalicelib.observability import logger
from chalicelib.recovery import domain
from chalicelib.recovery.models import RecoverySession
from chalicelib.recovery.service import LINK_PATH, recover_link


class OutreachFailed(Exception):
    """The workflow gave up sending a message (the provider kept failing or refused it). The
    execution fails with this error and the basket id in its cause (an alarm watches failed
    executions); the basket is left as it was, so the process can be run again."""


def _approval_link(basket_id: str, version: int) -> str:
    token = links.sign(domain.LINK_APPROVE, domain.approval_subject(basket_id, version),
                       settings.approval_link_seconds())
    return links.url(token, LINK_PATH)


def check(state: Mapping[str, Any]) -> dict[str, Any]:
    """Task `check`: read the basket and decide. Returns the state with `next` (wait | send |
    end), `reason`, `until` (wait) and `message` (send: notify-send's input)."""
    basket_id = state["basketId"]
    found = baskets.load(basket_id)
    doc = found.doc if found else None
    at = tmf.now()
    step = domain.next_step({**state, "currentVersion": found.version if found else None}, doc, at)
    step = domain.after_quiet_hours(step, state.get("sent"), at)
    if step.next == "send" and state.get("phase") != domain.APPROVAL:
        assert doc is not None
        step = _one_voice(doc, at) or step   # decided before `next` is written: a silenced basket ends
    out = {k: v for k, v in state.items() if k not in ("next", "reason", "until", "waitSeconds", "message", "sent",
                                                        "error")}
    out.update({"next": step.next, "reason": step.reason})
    if step.until:
        out.update(until=step.until, waitSeconds=domain.seconds_until(step.until, at))
    if step.next == "send":
        assert doc is not None and found is not None
        customer_id = basket.customer_of(doc)
        if state.get("phase") == domain.APPROVAL:
            message = domain.approval_request(doc, int(state["version"]), _approval_link(basket_id, int(state["version"])))
        else:
            reminder = int(state.get("reminder") or 1)
            message = domain.reminder_request(basket_id, reminder, recover_link(basket_id),
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
    newer = domain.speaker(doc, baskets.by_owner(f"CUSTOMER#{customer_id}"), at)
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
        found = baskets.load(basket_id)
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
