"""Basket table stream -> campaign attribution: a basket that arrives with a campaign's tracking
code (context.campaignCode) counts for the campaign once, and once more as an order, with its
revenue, when it is ordered (chalicelib.campaign.attribution.attribute). A second consumer of the
basket stream, beside basket-events: the basket context is not touched. Redelivery is harmless
(every count is a conditional write keyed on the basket)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import streams
from chalicelib.campaign import attribution
from chalicelib.observability import logger, traced

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    done = attribution.attribute(streams.old_body(record), streams.new_body(record))
    if done:
        logger.info("campaign attribution", extra={"basketId": streams.key(record, "pk"), "counted": done})


@traced
@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
