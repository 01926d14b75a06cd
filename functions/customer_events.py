"""Customer table stream -> TMF629 / TMF683 hub events, the interactions the platform records
itself (consent changes, a visitor identified), and the anonymous-to-known hand-over.

Duplicate records are harmless: event ids come from the stream record (deliveries are
deduplicated by id), interactions are recorded with ids derived from what they record
(`record_interaction` is idempotent on its id), and every hand-over step is safe to repeat.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import deferred, idempotency, streams
from chalicelib.customer import domain, store
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.observability import logger, metrics, traced

if TYPE_CHECKING:
    from chalicelib.customer import identity, interactions
else:   # by the first consent change or identified visitor: a customer or interaction change needs neither
    identity = deferred.module("chalicelib.customer.identity")
    interactions = deferred.module("chalicelib.customer.interactions")

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
PLATFORM_CHANNEL = "backoffice"


def _publish(api: str, resource: str, type_name: str, record: DynamoDBRecord) -> int:
    events = hub_domain.events_for_change(resource, type_name, streams.old_body(record), streams.new_body(record),
                                          streams.event_id(record), streams.event_time(record))
    return hub.publish(api, events)


def _consent_changed(audit: dict) -> None:
    by = audit.get("changedBy") or {}
    parties = [domain.agent_party(by["id"])] if by.get("role") == "agent" else []
    interactions.record_interaction(
        f"consent-{audit['id']}", reason="contact preferences changed", channel=by.get("channel") or PLATFORM_CHANNEL,
        direction="inbound", customer_id=audit["customerId"], parties=parties, journey_key=audit.get("journeyKey"),
        occurred_at=audit["changedAt"], description="changed: " + ", ".join(c["path"] for c in audit["changes"]))


def _identified(link: dict) -> None:
    identity.hand_over(link["visitorId"], link["customerId"])
    interactions.record_interaction(
        f"identified-{link['visitorId']}", reason="visitor identified as a customer",
        channel=(link.get("linkedBy") or {}).get("channel") or PLATFORM_CHANNEL, direction="inbound",
        customer_id=link["customerId"], visitor_id=link["visitorId"], occurred_at=link["linkedAt"])


def _recovery_stopped(record: DynamoDBRecord) -> int:
    """Consent withdrawn: the abandoned-basket sessions of her baskets end at once."""
    from chalicelib import recovery   # its public surface, read on first use: only consent changes need it

    return recovery.on_customer_change(streams.old_body(record), streams.new_body(record))


def record_handler(record: DynamoDBRecord) -> None:
    sk = streams.key(record, "sk")
    inserted = record.event_name is DynamoDBRecordEventName.INSERT
    if sk == store.CUSTOMER_SK:
        sent = _publish(domain.API_NAME, "customer", domain.CUSTOMER_TYPE, record)
        stopped = _recovery_stopped(record)
        logger.info("customer change", extra={"customerId": store.customer_of(streams.key(record, "pk")),
                                              "deliveries": sent, "recoveryStopped": stopped})
    elif sk.startswith(store.INTERACTION):
        # Only new touches are events: an interaction moved by a hand-over is not a new one.
        if inserted and not (streams.change(record).new_image or {}).get("moved_from"):
            _publish(domain.INTERACTION_API_NAME, "partyInteraction", domain.INTERACTION_TYPE, record)
    elif sk.startswith(store.AUDIT) and inserted:
        _consent_changed(streams.inserted_body(record))
    elif sk == store.LINK_SK and inserted:
        _identified(streams.inserted_body(record))


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="CustomerStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
