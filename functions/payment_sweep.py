"""Scheduled: payments whose customer step expired end failed, and orders nobody paid within
their payment window are refused the same way: their orders stay pending, their handsets and
slots go back (once); refunds the provider has not done are asked again."""
from __future__ import annotations

from chalicelib.observability import logger, traced
from chalicelib.payment import service


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    ended = service.sweep()
    logger.info("payment sweep", extra={"expired": ended})
    return {"expired": ended}
