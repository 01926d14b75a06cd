"""Quote table stream -> TMF648 hub events (QuoteCreateEvent, QuoteStateChangeEvent,
QuoteAttributeValueChangeEvent, QuoteDeleteEvent) and the quote's emails: the approvers when it
becomes pending, the customer (with the signed accept link) when it is approved.

Only quote items make events: the kept versions (`<id>#v<n>`) do not. Duplicate records are
harmless: event ids come from the stream record, deliveries and messages are deduplicated by id.
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
from chalicelib.quote import domain, service

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _quote(image: dict | None) -> dict | None:
    return streams.body(image) if image and image.get("kind") == domain.RESOURCE else None


def record_handler(record: DynamoDBRecord) -> None:
    part = streams.change(record)
    old, new = _quote(part.old_image), _quote(part.new_image)
    if old is None and new is None:
        return
    events = hub_domain.events_for_change(domain.RESOURCE, domain.TYPE, old, new, streams.event_id(record),
                                          streams.event_time(record))
    sent = hub.publish(domain.API_NAME, events)
    version = int((part.new_image or {}).get("version") or 0)
    messages = service.on_change(old, new, version)
    logger.info("quote change", extra={"quoteId": (new or old or {}).get("id"), "state": (new or {}).get("state"),
                                       "events": len(events), "deliveries": sent, "messages": messages})


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="QuoteStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
