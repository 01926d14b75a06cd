"""The agents' worklist, called by the API: baskets whose customer accepted assistance, one
work item, a claim, the next basket from the worklist queue.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from chalicelib import aws, campaign, settings, tmf
from chalicelib import customer as customers
from chalicelib import basket as baskets
from chalicelib.auth import Caller
from chalicelib.basket import domain as basket
from chalicelib.customer import access
from chalicelib.errors import Conflict, NotFound, Stale, Unavailable, conflict, not_found
from chalicelib.observability import logger
from chalicelib.recovery import domain
from chalicelib.recovery.service import WORKLIST_QUEUE

NEXT_TRIES = 10                          # stale messages skipped per POST /worklist/next at most


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
    answer = campaign.recommend({"relatedParty": [{"id": customer_id, "role": "customer"}],
                                   "shoppingCart": [{"id": basket_id}]}, caller)
    return answer.get("recommendationItem") or []


def claim(basket_id: str, caller: Caller) -> dict[str, Any]:
    """An agent takes a basket off the worklist: it is theirs to edit (basket hand-over rules).
    Claiming one's own again is fine; one claimed by another agent is 409."""
    access.check_roles(caller, "agent")
    found = baskets.load(basket_id)
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
        found = baskets.load(basket_id) if basket_id else None
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
