"""Scheduled: payments whose customer step expired end failed; their orders stay pending and
their handsets go back (once)."""
from __future__ import annotations

from chalicelib.observability import logger, traced
from chalicelib.payment import service


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    ended = service.sweep()
    logger.info("payment sweep", extra={"expired": ended})
    return {"expired": ended}
