"""hub-delivery queue -> POST each event to its listener's callback.

A listener that fails or does not answer is retried (the message is reported as a batch item
failure) until the queue moves it to its dead-letter queue. Each delivery is made once.
"""
from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import idempotency, outbound, settings
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import logger, metrics, traced

processor = BatchProcessor(event_type=EventType.SQS)


class DeliveryFailed(Exception):
    pass


def post(callback: str, event: dict) -> dict:
    """POST one event through the outbound guard. A callback the guard refuses (it may have been
    re-pointed since registration, or its name now resolves elsewhere) is not retried: the outcome
    says why and the delivery is done. Redirects are not followed."""
    try:
        answer = outbound.request("POST", callback, json.dumps(event).encode(),
                                  {"Content-Type": "application/json"},
                                  timeout=settings.hub_delivery_timeout_seconds(), max_bytes=0)
    except outbound.Refused as exc:
        metrics.add_metric(name="HubDeliveriesRefused", unit=MetricUnit.Count, value=1)
        logger.warning("callback refused by the outbound guard", extra={"reason": exc.reason})
        return {"refused": exc.reason}
    except outbound.Unreachable as exc:
        raise DeliveryFailed(f"listener unreachable: {exc}") from None
    if not 200 <= answer.status < 300:
        raise DeliveryFailed(f"listener answered {answer.status}")
    return {"status": answer.status}


def record_handler(record: SQSRecord) -> None:
    delivery = json.loads(record.body)
    outcome = idempotency.once("hub-delivery", delivery["deliveryId"],
                               lambda: post(delivery["callback"], delivery["event"]))
    delivered = "refused" not in outcome
    if delivered:
        metrics.add_metric(name="HubEventsDelivered", unit=MetricUnit.Count, value=1)
    logger.info("event delivered" if delivered else "event not delivered",
                extra={"deliveryId": delivery["deliveryId"], "eventType": delivery["event"].get("eventType"), **outcome})


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    metrics.add_metric(name="HubDeliveryMessages", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
