"""Step Functions tasks of the order-fulfilment workflow (infra/statemachines/order_fulfilment.asl.json).

Input: {"action": ..., "orderId": ...} and, per action:
- decompose: -> {"waves": [[child order id, ...], ...]} (child orders written with the parent)
- prepare: -> {"go": bool} (false when the child was cancelled, or what it waits for did not complete)
- dispatch (lambda:invoke.waitForTaskToken): "taskToken"; sends the child order to its stack's
  queue and keeps the token; the listener resumes the workflow when the stack reports a final state
- hold: "seconds" (the stack never answered; emits the ChildOrderHeld metric, which has an alarm)
- childFailed: "error"; finish; fail: "error"
Every action is safe to repeat (Step Functions Retry, or a redelivered invocation).
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import bind_request, logger, metrics, traced
from chalicelib.ordering import fulfilment


def _hold(event: dict) -> dict:
    metrics.add_metric(name="ChildOrderHeld", unit=MetricUnit.Count, value=1)
    return fulfilment.hold(event["orderId"], event.get("seconds"))


ACTIONS = {
    "decompose": lambda e: fulfilment.decompose(e["orderId"]),
    "prepare": lambda e: fulfilment.prepare(e["orderId"]),
    "dispatch": lambda e: fulfilment.dispatch(e["orderId"], e["taskToken"]),
    "hold": _hold,
    "childFailed": lambda e: fulfilment.child_failed(e["orderId"], e.get("error")),
    "finish": lambda e: fulfilment.finish(e["orderId"]),
    "fail": lambda e: fulfilment.fail(e["orderId"], e.get("error")),
}


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    bind_request(getattr(context, "aws_request_id", None))
    logger.append_keys(orderId=event.get("orderId"), action=event.get("action"))
    return ACTIONS[event["action"]](event)
