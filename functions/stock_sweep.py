"""Scheduled: end the stock reservations whose hold has expired, their stock back (once)."""
from __future__ import annotations

from chalicelib.observability import logger, traced
from chalicelib.stock import service


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    ended = service.sweep()
    logger.info("stock reservation sweep", extra={"expired": ended})
    return {"expired": ended}
