"""Scheduled: retire published catalogue entries whose validFor has ended (emits StateChange)."""
from __future__ import annotations

from chalicelib.catalog import jobs
from chalicelib.observability import logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    retired = jobs.sweep()
    logger.info("catalogue sweep", extra={"retired": retired})
    return {"retired": retired}
