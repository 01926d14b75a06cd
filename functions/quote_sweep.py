"""Scheduled: cancel the open quotes whose validity (validFor) has ended (stateReason "expired")."""
from __future__ import annotations

from chalicelib.observability import logger, traced
from chalicelib.quote import service


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    ended = service.sweep()
    logger.info("quote expiry sweep", extra={"expired": ended})
    return {"expired": ended}
