"""The default stack adapter: a child order goes to its stack's own TMF622 API
(OMNISHOP_STACK_URL_<STACK>), POST productOrder (without items cancelled before it left), an
amendment as PATCH productOrder/{id} (its items as they stand), a cancellation as POST
cancelProductOrder.
Idempotent: the child order's id is sent as the Idempotency-Key, and a stack answering 409 (it has
that order already) counts as delivered. Milestones come back on Omnishop's listener
(POST .../listener/productOrderStateChangeEvent with a `stack` token)."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from chalicelib import ordering, outbound, settings
from chalicelib.observability import logger
from chalicelib.ordering import domain


class StackError(Exception):
    """The stack could not be reached or refused the request: retried by SQS, then dead-lettered."""


def _post(url: str, body: Mapping[str, Any], key: str, method: str = "POST", unknown_ok: bool = False) -> int:
    """POST (or PATCH) through the outbound guard (redirects are not followed); 409 means the
    stack has it; 404 (`unknown_ok`) that the stack has not got the order yet."""
    try:
        answer = outbound.request(method, url, json.dumps(body).encode(), {
            "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key},
            timeout=settings.stack_timeout_seconds(), max_bytes=0)
    except (outbound.Refused, outbound.Unreachable) as exc:
        raise StackError(f"{url} could not be called: {exc}") from None
    if answer.status == 409 or 200 <= answer.status < 300 or (unknown_ok and answer.status == 404):
        return answer.status
    raise StackError(f"{url} answered {answer.status}")


def _digest(items: Any) -> str:
    """The Idempotency-Key part of a change: the same items are the same change (a replayed
    record), any other content a new one (an amendment, a visit moved)."""
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()[:16]


def handle(stack: str, action: str, order_id: str) -> None:
    found = ordering.load(order_id)
    if found is None or domain.stack_of(found.doc) != stack:
        raise StackError(f"{order_id} is not a child order for {stack}")
    root = settings.stack_url(stack)
    if root is None:
        raise StackError(f"no TMF622 endpoint is configured for {stack} (OMNISHOP_STACK_URL_...)")
    child = found.doc
    if action == "create":
        if child.get("state") == domain.CANCELLED:
            logger.info("child order cancelled before it reached its stack", extra={"orderId": order_id})
            return
        live = [i for i in domain.Order(child).items if i.get("state") != domain.CANCELLED]
        status = _post(f"{root}/productOrder", {**child, "productOrderItem": live}, order_id)
    elif action == "change":
        # the child order's items as they stand (cancelled ones say so, added ones are new); a
        # stack that has not got the order yet gets it whole from its `create`, unless that left
        # already (dispatched): then SQS retries until the stack has it
        status = _post(f"{root}/productOrder/{order_id}", {
            "id": order_id, "@type": domain.TYPE, "productOrderItem": domain.Order(child).items},
            f"change-{order_id}-{_digest(child.get('productOrderItem'))}", "PATCH", unknown_ok=not found.dispatched)
    else:
        status = _post(f"{root}/cancelProductOrder", {
            "productOrder": {"id": order_id, "@referredType": domain.TYPE},
            "cancellationReason": child.get("cancellationReason") or "cancelled by the customer"}, f"cancel-{order_id}",
            unknown_ok=not found.dispatched)
    logger.info("child order sent to its stack", extra={"orderId": order_id, "stack": stack, "action": action,
                                                        "status": status})
