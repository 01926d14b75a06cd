"""Promotion table stream -> TMF671 hub events (PromotionCreateEvent, PromotionStateChangeEvent,
PromotionAttributeValueChangeEvent, PromotionDeleteEvent).

Duplicate records are harmless: event ids come from the stream record and deliveries are
deduplicated by id.
"""
from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import streams
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.observability import logger, metrics, traced
from chalicelib.promotion import domain

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    old, new = streams.old_body(record), streams.new_body(record)
    events = hub_domain.events_for_change(domain.RESOURCE, domain.TYPE, old, new, streams.event_id(record),
                                          streams.event_time(record))
    sent = hub.publish(domain.API_NAME, events)
    logger.info("promotion change", extra={"promotionId": (new or old or {}).get("id"),
                                           "status": (new or {}).get("lifecycleStatus"), "events": len(events),
                                           "deliveries": sent})


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="PromotionStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
