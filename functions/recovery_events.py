"""Basket table stream -> the abandoned-basket process (a second consumer of the basket stream,
beside basket_events).

- A basket becoming recoverable (a customer's, active, with items) starts one recovery workflow,
  named after the basket and that version: later edits start nothing (the workflow waits for
  the basket to go idle), a duplicate record starts nothing (ExecutionAlreadyExists).
- An agent handing a basket back for approval starts the approval-email workflow (same machine,
  named after the version handed back).
- A basket approved by its customer is submitted through the ordering API (idempotent per basket).
- A basket leaving recovery (ordered, emptied, deleted, with an agent) stops its running
  execution at once (StopExecution; a finished one is left alone).
- A customer accepting assistance queues the basket on the `worklist` queue for agents.
Most records need no AWS call at all.
"""
from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import streams
from chalicelib.observability import logger, metrics
from chalicelib.recovery import service

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    old, new = streams.old_body(record), streams.new_body(record)
    version = int((record.dynamodb.new_image or {}).get("version") or 0)
    done = service.on_change(old, new, version)
    if done:
        logger.info("basket recovery", extra={"basketId": streams.key(record, "pk"), "did": done,
                                              "journey_key": ((new or {}).get("context") or {}).get("journeyKey")})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    metrics.add_metric(name="RecoveryStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
