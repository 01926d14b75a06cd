"""campaign-send queue -> one batch of customers sent to (or a run carried on) per message, with
partial batch failures: a message whose send failed for now (provider throttling) is retried by
SQS and, retried too often, lands in the DLQ. Every step is once per campaign + customer, so a
redelivered message sends nothing twice."""
from __future__ import annotations

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import idempotency
from chalicelib.campaign import sender
from chalicelib.observability import logger, metrics, traced

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    counts = sender.send_batch(json.loads(record.body))
    for name, value in counts.items():
        metrics.add_metric(name=f"Campaign_{name}", unit=MetricUnit.Count, value=value)


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
