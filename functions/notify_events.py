"""Notify table stream -> TMF681 hub events (CommunicationMessageCreateEvent, StateChangeEvent,
AttributeValueChangeEvent, DeleteEvent). Event ids come from the stream record, so a record
delivered twice produces the same deliveries, which hub delivery makes once. The SmsSent business
count is not made here: notify counts it with the write that completes the message, once."""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import streams
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.notify import domain
from chalicelib.observability import logger, traced

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _visible(image: dict | None) -> dict | None:
    """The message as the API shows it; a tombstone (deleted message) is not one."""
    return streams.body(image) if image and image.get("kind") else None


def record_handler(record: DynamoDBRecord) -> None:
    old, new = _visible(streams.change(record).old_image), _visible(streams.change(record).new_image)
    events = hub_domain.events_for_change("communicationMessage", domain.MESSAGE_TYPE, old, new,
                                          streams.event_id(record), streams.event_time(record))
    sent = hub.publish(domain.API_NAME, events)
    logger.info("message change", extra={"messageId": streams.key(record, "pk"), "deliveries": sent})


@traced
@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
