"""hub-delivery queue -> POST each event to its listener's callback.

A listener that fails or does not answer is retried (the message is reported as a batch item
failure) until the queue moves it to its dead-letter queue. Each delivery is made once.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import idempotency, settings
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


class DeliveryFailed(Exception):
    pass


def post(callback: str, event: dict) -> dict:
    request = urllib.request.Request(callback, data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.hub_delivery_timeout_seconds()) as resp:
            return {"status": resp.status}
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"listener answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"listener unreachable: {exc}") from None


def record_handler(record: SQSRecord) -> None:
    delivery = json.loads(record.body)
    outcome = idempotency.once("hub-delivery", delivery["deliveryId"],
                               lambda: post(delivery["callback"], delivery["event"]))
    metrics.add_metric(name="HubEventsDelivered", unit=MetricUnit.Count, value=1)
    logger.info("event delivered", extra={"deliveryId": delivery["deliveryId"],
                                          "eventType": delivery["event"].get("eventType"), **outcome})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    metrics.add_metric(name="HubDeliveryMessages", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
