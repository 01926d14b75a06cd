"""Scheduled: cancel the appointment bookings whose hold expired without an order (their slots
freed), and send each confirmed appointment's day-before SMS (once)."""
from __future__ import annotations

from chalicelib.appointment import service
from chalicelib.observability import logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    done = service.sweep()
    logger.info("appointment sweep", extra=done)
    return done
