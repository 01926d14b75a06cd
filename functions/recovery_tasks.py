"""Step Functions tasks of the abandoned-basket workflow (infra/statemachines/abandoned_basket.asl.json).

Input: {"action": "check" | "sent" | "failed", "state": {...the execution's state...}}
- check: read the basket, decide -> the state with next = wait (until) | send (message) | end
- sent: after a message: offer assistance and schedule the second reminder, or end
- failed: raise OutreachFailed with the basket id (the execution fails; an alarm watches it)
Each is safe to repeat (a retried task does the same thing again).
"""
from __future__ import annotations

from typing import Any

from chalicelib.observability import bind_request, logger, traced
from chalicelib.recovery import workflow


@traced
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: object) -> dict[str, Any] | None:
    state = event.get("state") or {}
    bind_request(getattr(context, "aws_request_id", None), None)
    action = event.get("action")
    if action == "check":
        return workflow.check(state)
    if action == "sent":
        return workflow.sent(state)
    if action == "failed":
        workflow.failed(state)
    raise ValueError(f"unknown action {action!r}")
