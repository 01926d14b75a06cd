"""Order table stream -> one workflow per order, TMF622 hub events, milestone SMS, products held.

- A new top-level order (acknowledged) starts its order-fulfilment workflow, named after the
  order: a record delivered twice starts nothing more (ExecutionAlreadyExists).
- Every change becomes ProductOrder (or CancelProductOrder) Create/StateChange/AttributeValueChange
  events on the TMF622 hub; event ids come from the stream record.
- A top-level order reaching a milestone state (received, inProgress, completed, partial,
  failed, cancelled) starts the order-notify workflow for that SMS, named after the order and the
  state; the message id is the same, so nothing is ever sent twice. The order placed is an
  interaction on the customer's journey (idempotent on its id).
- An amendment (PATCH productOrder/{id}): a child order it made goes to its stack, one it changed
  gets a TMF622 change (or cancel), and the customer gets one SMS naming what changed (its message
  id names the amendment: a replay sends nothing twice).
- Completed items of a child order create or change the customer's products in the inventory
  (TMF637; product ids derive from the customer's order and the item, so a replay changes nothing).
"""
from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib import idempotency, streams
from chalicelib import customer as customers   # its public surface: only some records need it
from chalicelib.hub import domain as hub_domain
from chalicelib.hub import service as hub
from chalicelib.observability import count_once, logger, metrics, traced
from chalicelib.ordering import domain, fulfilment, store

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _placed(order: dict) -> None:
    customer_id = domain.customer_of(order)
    if not customer_id:
        return
    channel = next((c.get("id") for c in order.get("channel") or []), None) or "backoffice"
    customers.record_interaction(
        f"order-{order['id']}", reason="order placed", channel=channel, direction="inbound",
        customer_id=customer_id, journey_key=order.get("journeyKey"), occurred_at=order.get("orderDate"),
        items=[{"id": order["id"], "href": order.get("href"), "@referredType": domain.TYPE, "role": "productOrder"}],
        description=f"{len(order.get('productOrderItem') or [])} item(s), {order.get('state')}")


def business_counts(old: dict | None, new: dict | None) -> list[tuple[str, str]]:
    """The business counts of one order change (chalicelib/observability.py BUSINESS_METRICS): a
    customer's order entering a state, a child order made for a stack."""
    if new is None or new.get("@type") == domain.CANCEL_TYPE:
        return []
    if domain.parent_of(new):
        return [("ChildOrders", domain.stack_of(new) or "unknown")] if old is None else []
    state = new.get("state")
    return [("OrdersByState", state)] if state and state != (old or {}).get("state") else []


def _items_read(record: DynamoDBRecord, new: dict | None) -> dict | None:
    """An order of more than a page of items (chalicelib/pages.py) with its items read: its
    record holds the rest. Its hub events carry the rest and its href, as they must fit a queue
    message; what the customer is told names its items."""
    if new is None or not streams.attribute(streams.change(record).new_image, "pages"):
        return new
    found = store.load(new["id"])
    return {**new, "productOrderItem": found.doc.get("productOrderItem") or []} if found is not None else new


def record_handler(record: DynamoDBRecord) -> None:
    old, new = streams.old_body(record), streams.new_body(record)
    doc = new or old or {}
    cancel = doc.get("@type") == domain.CANCEL_TYPE
    events = hub_domain.events_for_change(domain.CANCEL_RESOURCE if cancel else domain.RESOURCE,
                                          domain.CANCEL_TYPE if cancel else domain.TYPE, old, new,
                                          streams.event_id(record), streams.event_time(record))
    sent = hub.publish(domain.API_NAME, events)
    if cancel or new is None or domain.parent_of(new):
        products = fulfilment.record_products(old, new) if new is not None and not cancel else 0
        if new is not None and not cancel and (new.get("amendment") != (old or {}).get("amendment")
                                               or domain.visits(new) != domain.visits(old or {})):
            fulfilment.amended_child(old, new)   # an amendment, or an engineer's visit moved
        logger.info("order change", extra={"orderId": doc.get("id"), "deliveries": sent, "productsHeld": products})
        _count(record, old, new)
        return
    state, before = new.get("state"), (old or {}).get("state")
    amended = len(new.get("amendment") or []) > len((old or {}).get("amendment") or [])
    if old is None or amended:
        new = _items_read(record, new) or new
    if old is None:
        _placed(new)
        if state == domain.ACKNOWLEDGED:
            fulfilment.start_workflow(new)
    if state != before and state in domain.MILESTONES:
        fulfilment.notify_milestone(new)
    if amended:
        fulfilment.notify_amendment(new)
    logger.info("order change", extra={"orderId": new["id"], "state": state, "deliveries": sent,
                                       "journey_key": new.get("journeyKey")})
    _count(record, old, new)


def _count(record: DynamoDBRecord, old: dict | None, new: dict | None) -> None:
    """The record's business counts, once its work is done (a retried record counted nothing)
    and once per record (a redelivered one counts nothing again)."""
    count_once(streams.event_id(record), business_counts(old, new))


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    hub.new_batch()  # subscriptions changed since the last batch are seen in this one
    metrics.add_metric(name="OrderStreamRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    idempotency.register_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
