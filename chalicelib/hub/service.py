"""Subscriptions and the one way to publish an event: `publish(api, events)` puts one delivery
message per interested subscription on the hub-delivery queue. Only stream consumers publish."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from pynamodb.exceptions import DoesNotExist

from chalicelib import aws, settings, tmf
from chalicelib.auth import Caller, require
from chalicelib.errors import not_found
from chalicelib.hub import domain
from chalicelib.hub.models import Subscription

SUBSCRIBERS = ("channel", "agent", "marketing", "catalog-admin", "stack")
QUEUE = "hub-delivery"


def _view(sub: Subscription) -> dict[str, Any]:
    out = {"id": sub.id, "callback": sub.callback, "@type": "EventSubscription"}
    if sub.event_query:
        out["query"] = sub.event_query
    return out


def subscribe(api: str, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    require(caller, *SUBSCRIBERS)
    callback, query = domain.check_subscription(body)
    sub = Subscription(api, tmf.new_id(), callback=callback, event_query=query, owner=caller.sub,
                       created=tmf.now_iso())
    sub.save()
    return _view(sub)


def _owned(api: str, sid: str, caller: Caller) -> Subscription:
    require(caller, *SUBSCRIBERS)
    try:
        sub = Subscription.get(api, sid)
    except DoesNotExist:
        raise not_found("hub subscription", sid) from None
    if sub.owner != caller.sub and caller.role != "catalog-admin":
        raise not_found("hub subscription", sid)
    return sub


def get(api: str, sid: str, caller: Caller) -> dict[str, Any]:
    return _view(_owned(api, sid, caller))


def unsubscribe(api: str, sid: str, caller: Caller) -> None:
    _owned(api, sid, caller).delete()


def deliveries(api: str, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One delivery per (event, interested subscription); its id makes redelivery harmless."""
    subs = list(Subscription.query(api))
    return [{"deliveryId": f"{event['eventId']}:{sub.id}", "callback": sub.callback, "event": event}
            for event in events for sub in subs if domain.wants(sub.event_query, event)]


def publish(api: str, events: Iterable[Mapping[str, Any]]) -> int:
    events = list(events)
    if not events:
        return 0
    messages = deliveries(api, events)
    sqs = aws.client("sqs")
    url = settings.queue_url(QUEUE)
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        result = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)])
        if result.get("Failed"):
            raise RuntimeError(f"hub queue refused {len(result['Failed'])} deliveries: {result['Failed']}")
    return len(messages)
