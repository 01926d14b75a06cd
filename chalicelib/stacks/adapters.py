"""The default stack adapter: a child order goes to its stack's own TMF622 API
(OMNISHOP_STACK_URL_<STACK>), POST productOrder, and a cancellation to POST cancelProductOrder.
Idempotent: the child order's id is sent as the Idempotency-Key, and a stack answering 409 (it has
that order already) counts as delivered. Milestones come back on Omnishop's listener
(POST .../listener/productOrderStateChangeEvent with a `stack` token)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Mapping

from chalicelib import settings
from chalicelib.observability import logger
from chalicelib.ordering import domain, store


class StackError(Exception):
    """The stack could not be reached or refused the request: retried by SQS, then dead-lettered."""


def _post(url: str, body: Mapping[str, Any], key: str) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=settings.stack_timeout_seconds()) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            return exc.code
        raise StackError(f"{url} answered {exc.code}") from None
    except OSError as exc:
        raise StackError(f"{url} could not be reached: {exc}") from None


def handle(stack: str, action: str, order_id: str) -> None:
    found = store.load(order_id)
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
        status = _post(f"{root}/productOrder", child, order_id)
    else:
        status = _post(f"{root}/cancelProductOrder", {
            "productOrder": {"id": order_id, "@referredType": domain.TYPE},
            "cancellationReason": child.get("cancellationReason") or "cancelled by the customer"}, f"cancel-{order_id}")
    logger.info("child order sent to its stack", extra={"orderId": order_id, "stack": stack, "action": action,
                                                        "status": status})
