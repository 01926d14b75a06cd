"""The Lambda handler of a table whose stream only becomes hub events (inventory, promotions):
each record's change as TMF events to the subscribers of `api_name`, partial batch failures
through Powertools. Duplicate records are harmless: event ids come from the stream record and
deliveries are deduplicated by id."""
from __future__ import annotations

from typing import Any, Callable

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import streams
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.observability import logger, metrics, traced


def resource_events(resource: str, type_name: str, api_name: str, *, status: str,
                    metric: str) -> tuple[Callable[[DynamoDBRecord], None], Callable[[dict, Any], PartialItemFailureResponse]]:
    """(record_handler, handler) for a stream of `resource` documents of `type_name`; `status`
    names the document's state attribute (logged), `metric` the count of records per batch."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> None:
        old, new = streams.old_body(record), streams.new_body(record)
        events = hub_domain.events_for_change(resource, type_name, old, new, streams.event_id(record),
                                              streams.event_time(record))
        sent = hub.publish(api_name, events)
        logger.info(f"{resource} change", extra={"id": (new or old or {}).get("id"),
                                                 "status": (new or {}).get(status), "events": len(events),
                                                 "deliveries": sent})

    @traced
    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict, context: Any) -> PartialItemFailureResponse:
        hub.new_batch()  # subscriptions changed since the last batch are seen in this one
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=len(event.get("Records") or []))
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    return record_handler, handler
