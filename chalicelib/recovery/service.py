"""Abandoned-basket recovery: what its modules share. The use cases are split by their caller:
    sessions.py      the basket stream (functions/basket_events.py), the customer stream (consent
                     withdrawn), the approved-basket sweep (functions/basket_sweep.py), the local
                     runtime's restart
    workflow.py      the abandoned-basket workflow's tasks (functions/recovery_tasks.py)
    link_actions.py  the API: a recovery or approval link the customer follows
    worklist.py      the API: the agents' worklist
State changes of baskets go through chalicelib.basket's surface (its ownership rules and
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

from typing import Any, Mapping

from chalicelib import deferred, settings, workflows
from chalicelib import basket as baskets
from chalicelib.basket import domain as basket
from chalicelib.errors import ApiError
from chalicelib.observability import logger
from chalicelib.recovery import domain

# imported on first use (chalicelib/deferred.py): a signed link is made for a basket not ordered,
# not by the basket stream's usual records
links = deferred.module("chalicelib.notify.links")

MACHINE = "abandoned-basket"
NOTIFY_MACHINE = "order-notify"   # one message through notify-send, waiting out quiet hours
STOP_ERROR = "RecoveryEnded"   # the error a stopped session ends with
LINK_PATH = "/recovery/link"
LINK_CHANNEL = "web"   # a link lands in the self-care portal
WORKLIST_QUEUE = "worklist"


def recover_link(basket_id: str) -> str:
    return links.url(links.sign(domain.LINK_RECOVER, basket_id, settings.recovery_link_seconds()), LINK_PATH)


def not_ordered(doc: Mapping[str, Any], version: int, exc: ApiError, awaiting: bool = False) -> dict[str, Any]:
    items = list(exc.items)   # the items ordering named (none: the basket as a whole)
    after, _, changed = baskets.return_unordered(doc["id"], exc.message, exc.code, items,
                                                 version if awaiting else None)
    to_agent = after.get("status") == basket.WITH_AGENT
    if changed:
        message = domain.not_ordered_request(doc, version, exc.message, to_agent, recover_link(doc["id"]))
        customer_id = basket.customer_of(doc)
        if customer_id:
            workflows.start_once(NOTIFY_MACHINE, message["messageId"], {**message, "customerId": customer_id})
    logger.warning("approved basket not ordered: returned with the reason",
                   extra={"basketId": doc["id"], "code": exc.code, "reason": exc.message,
                          "returnedTo": "agent" if to_agent else "customer", "changed": changed})
    return {"notOrdered": {"code": exc.code, "reason": exc.message, "cartItem": items}, "status": after.get("status")}


def order_ref(order: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": order["id"], "href": order.get("href"), "state": order.get("state"), "@referredType": "ProductOrder"}
