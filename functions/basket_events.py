"""Basket table stream -> TMF663 hub events, the hand-over interactions and the abandoned-basket
process (chalicelib.recovery's on_change: start, stop or approve a recovery session).

One consumer for all three, because AWS advises at most two readers per stream shard (the other
is campaign attribution).

Every status change between the customer, agents and the platform (handed to an agent, handed
back for approval, approved, ...) is recorded as an interaction in the customer's history through
the customer context, with the basket's journey key. Duplicate records are harmless: event ids
come from the stream record (deliveries are deduplicated by id), interactions are recorded
with ids derived from the basket version (`record_interaction` is idempotent on its id), and
recovery executions are named after the basket version (a repeat starts nothing).
"""
from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import idempotency, streams
from chalicelib import basket as baskets   # its public surface: lines read and deleted on first use
from chalicelib import customer as customers   # its public surface: only some records need it
from chalicelib.basket import domain
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.observability import count_once, logger, metrics, traced
from chalicelib.recovery import domain as recovery_domain
from chalicelib.recovery import on_change as recovery_on_change   # loaded at import: nearly every record

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
PLATFORM_CHANNEL = "backoffice"


def _handover(old: dict | None, new: dict, version: int) -> None:
    before, after = (old or {}).get("status"), new.get("status")
    if before == after and not (after == domain.WITH_AGENT and domain.agent_of(old or {}) != domain.agent_of(new)):
        return
    what = domain.HANDOVERS.get((before, after))
    customer_id = domain.customer_of(new)
    if what is None or customer_id is None:
        return
    context = new.get("context") or {}
    by = (context.get("lastChange") or {}).get("by") or {}
    agent = domain.agent_of(new) or domain.agent_of(old or {})
    reason, direction = what
    from chalicelib.customer import domain as customer_domain   # a hand-over: recording it loads customer anyway

    customers.record_interaction(
        f"basket-{new['id']}-v{version}", reason=reason, channel=by.get("channel") or PLATFORM_CHANNEL,
        direction=direction, customer_id=customer_id,
        parties=[customer_domain.agent_party(agent)] if agent else [],
        items=[{"id": new["id"], "href": new.get("href"), "@referredType": domain.TYPE, "role": "shoppingCart"}],
        journey_key=context.get("journeyKey"), occurred_at=new.get("lastUpdate"),
        description=f"{before} -> {after} by {by.get('role', 'system')}")


def business_counts(old: dict | None, new: dict | None) -> list[str]:
    """The business counts of one basket change (chalicelib/observability.py BUSINESS_METRICS)."""
    return ((["BasketsCreated"] if old is None and new is not None else [])
            + (["BasketsRecovered"] if recovery_domain.recovered(old, new) else []))


def record_handler(record: DynamoDBRecord) -> None:
    old, new = streams.old_body(record), streams.new_body(record)
    if new is None and old is not None:   # deleted or expired: its lines go after it
        baskets.delete_lines(old["id"])
    sent = 0
    if hub.cache.get(domain.API_NAME):   # someone subscribed: the basket as events carry it (its lines read)
        shown_old, shown_new = baskets.event_bodies(streams.change(record).old_image, streams.change(record).new_image)
        events = hub_domain.events_for_change(domain.RESOURCE, domain.TYPE, shown_old, shown_new,
                                              streams.event_id(record), streams.event_time(record))
        sent = hub.publish(domain.API_NAME, events)
    version = int((streams.change(record).new_image or {}).get("version") or 0)
    if new is not None:
        _handover(old, new, version)
    did = recovery_on_change(old, new, version)
    # once the record's work is done, and once per record (a redelivered one counts nothing)
    count_once(streams.event_id(record), [(name, None) for name in business_counts(old, new)])
    logger.info("basket change", extra={"basketId": streams.key(record, "pk"), "status": (new or {}).get("status"),
                                        "deliveries": sent, "recovery": did,
                                        "journey_key": domain.Basket(new).journey_key if new else None})


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="BasketStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
