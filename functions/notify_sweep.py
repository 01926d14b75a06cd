"""Scheduled: send the API messages the platform owes (held by quiet hours, or refused by the
provider for now) whose time has come."""
from __future__ import annotations

from chalicelib.notify import service
from chalicelib.observability import logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    counts = service.sweep()
    logger.info("notification sweep", extra=counts)
    return counts
