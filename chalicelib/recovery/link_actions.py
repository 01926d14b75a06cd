"""The links recovery sends, called by the API: what a link offers, and its actions (accept
assistance, resume, approve and order).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from chalicelib import tmf
from chalicelib import basket as baskets
from chalicelib.actor import Actor
from chalicelib.auth import Caller
from chalicelib.basket import domain as basket
from chalicelib.errors import ApiError, Gone, conflict, not_found
from chalicelib.notify import links
from chalicelib.observability import logger
from chalicelib.ordering import domain as ordering_domain
from chalicelib.recovery import domain
from chalicelib.recovery.service import LINK_CHANNEL, LINK_PATH, not_ordered, order_ref


def _link(token: str, purpose: str | None = None) -> tuple[links.Link, str]:
    link = links.verify(token, purpose)
    if link.purpose == domain.LINK_RECOVER:
        return link, link.subject
    if link.purpose == domain.LINK_APPROVE:
        parsed = domain.parse_approval_subject(link.subject)
        if parsed:
            return link, parsed[0]
    raise links.invalid_link("it is not a basket link")


def _loaded(basket_id: str) -> baskets.Stored:
    found = baskets.load(basket_id)
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
    from chalicelib import ordering

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
    try:
        order, _, _ = ordering.order_basket(basket_id, basket.customer_of(found.doc), Actor.system(LINK_CHANNEL),
                                            (found.doc.get("context") or {}).get("journeyKey"), approving=parsed[1])
        outcome = {"productOrder": order_ref(order)}
        logger.info("approved basket ordered", extra={"basketId": basket_id, "orderId": order["id"]})
    except ApiError as exc:
        if exc.code not in ordering_domain.REFUSALS:
            raise
        outcome = not_ordered(found.doc, parsed[1], exc, awaiting=True)   # back with the reason
    latest = baskets.load(basket_id)
    now = latest.doc if latest else found.doc
    return {"shoppingCart": domain.basket_summary(now), "status": basket.effective_status(now, tmf.now()),
            "changed": True, **{k: v for k, v in outcome.items() if k != "status"}}


def _known_outcome(doc: Mapping[str, Any], status: str, issue: Mapping[str, Any] | None) -> dict[str, Any]:
    if status == basket.ORDERED:
        from chalicelib import ordering

        found = ordering.load(ordering.basket_order_id(doc["id"]))
        if found is not None:
            return {"productOrder": order_ref(found.doc)}
    if issue and status != basket.APPROVED:
        return {"notOrdered": {"code": issue.get("code"), "reason": issue.get("reason"),
                               "cartItem": issue.get("cartItem") or []}}
    return {}


def link_action(token: str, action: str) -> dict[str, Any]:
    actions = {"accept": accept, "resume": resume, "approve": approve}
    if action not in actions:
        raise not_found("link action", action[:40])
    return actions[action](token)
