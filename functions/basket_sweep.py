"""Scheduled: no approved basket stays without an order. Every basket approved longer than
OMNISHOP_APPROVED_UNORDERED_SECONDS ago is ordered now, or returned with the reason (to the agent
who handled it, else to the customer, who is told); one that still cannot be resolved emits
ApprovedBasketStuck (alarmed: infra/resources.py ALARMS)."""
from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import logger, metrics, traced
from chalicelib.recovery import sweep_approved   # its public surface; loaded at import


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    counts = sweep_approved()
    if counts["stuck"]:
        metrics.add_metric(name="ApprovedBasketStuck", unit=MetricUnit.Count, value=counts["stuck"])
    logger.info("approved basket sweep", extra=counts)
    return counts
