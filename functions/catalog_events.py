"""Catalogue table stream -> TMF620 hub events, job starts, and the cache stamp.

Duplicate records are harmless: event ids come from the stream record, deliveries are
deduplicated by id, and job executions are named after the job.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import deferred, streams
from chalicelib.catalog import domain, store
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import logger, metrics, traced

if TYPE_CHECKING:
    from chalicelib.catalog import jobs
else:   # by the first import job inserted: a catalogue change only publishes (cold start)
    jobs = deferred.module("chalicelib.catalog.jobs")

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    kind_name, rid = store.split_pk(streams.key(record, "pk"))
    k = domain.KINDS.get(kind_name)
    if k is None:
        return  # the stamp item and anything that is not a resource
    if k.is_job:
        if record.event_name is DynamoDBRecordEventName.INSERT:
            jobs.start(k.name, rid)
        return
    old, new = streams.old_body(record), streams.new_body(record)
    events = hub_domain.events_for_change(k.name, k.type_name, old, new, streams.event_id(record),
                                          streams.event_time(record))
    sent = hub.publish(domain.API_NAME, events)
    metrics.add_metric(name="CatalogChanges", unit=MetricUnit.Count, value=1)
    logger.info("catalogue change", extra={"kind": k.name, "id": rid, "events": len(events), "deliveries": sent,
                                           "published": domain.became_published(k, old, new)})


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="CatalogStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                      context=context)
    changes = [r for r in event.get("Records") or []
               if r.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S") != store.STAMP_KEY]
    if changes:
        # Every container's cache checks this stamp: a change here invalidates them all. (The
        # stamp's own records are not changes, or it would chase its tail.)
        store.move_stamp(changes[-1]["eventID"])
    return result
