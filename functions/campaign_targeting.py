"""Inventory table stream -> the customer's campaign targeting facts (what it holds, with contract
ends) projected on its customer item, so a campaign run filters customers on the page it reads
(chalicelib.campaign.targeting.project_targeting). A second consumer of the inventory stream, beside
inventory-events: the inventory context is not touched. Each customer of a batch is projected once,
from the inventory as it is now, so redelivery and reordering are harmless."""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import streams
from chalicelib.campaign import targeting
from chalicelib.inventory import domain as inventory_domain
from chalicelib.observability import logger, traced

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_done: set[str] = set()   # customers projected in this batch (their later records add nothing)


def record_handler(record: DynamoDBRecord) -> None:
    product = streams.new_body(record) or streams.old_body(record) or {}
    customer_id = inventory_domain.customer_of(product)
    if customer_id and customer_id not in _done:
        targeting.project_targeting(customer_id)
        _done.add(customer_id)


@traced
@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    _done.clear()
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                      context=context)
    logger.info("campaign targeting facts projected", extra={"customers": len(_done)})
    return result
