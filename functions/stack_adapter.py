"""A fulfilment stack's queue -> that stack (one Function per stack, infra/resources.py).

Each message is {"action": "create" | "change" | "cancel", "orderId": <child order id>, "stack": <stack id>}. The default adapter (chalicelib.stacks) forwards the
child order to the stack's own TMF622 API, idempotently (the child order id is the key). A
message that cannot be read (poison) fails alone (partial batch failure): SQS retries it and
then moves it to the queue's dead-letter queue, while the rest of the batch goes on.
"""
from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib.observability import logger, traced
from chalicelib.stacks import adapters

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    if not isinstance(message, dict) or message.get("action") not in ("create", "change", "cancel") \
            or not isinstance(message.get("orderId"), str) or not isinstance(message.get("stack"), str):
        raise ValueError(f"not a child order message: {record.body[:200]!r}")
    adapters.handle(message["stack"], message["action"], message["orderId"])


@traced
@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
