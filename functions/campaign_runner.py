"""A campaign's EventBridge schedule fired: page through the customers from the run's checkpoint
and queue them in batches on campaign-send (chalicelib.campaign.runner.run). The run id is the
scheduled time, so Scheduler's retries of one firing resume one run; with too little time left the
run hands on through the queue."""
from __future__ import annotations

from typing import Any

from chalicelib.campaign import runner
from chalicelib.observability import logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = runner.scheduled_run(event, context.get_remaining_time_in_millis)
    logger.info("campaign run", extra=result)
    return result
