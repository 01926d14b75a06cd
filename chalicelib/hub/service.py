"""Subscriptions and the one way to publish an event: `publish(api, events)` puts one delivery
message per interested subscription on the hub-delivery queue. Only stream consumers publish.

Who may subscribe to which hub, and which events each subscriber receives, is chalicelib/access.py:
the subscriber's role (with its channel or stack) is stored on the subscription and every event
is checked against it when deliveries are computed, so a subscription leaks nothing its role
may not read, whenever it was made."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from pynamodb.exceptions import DoesNotExist

from chalicelib import access, aws, settings, tmf
from chalicelib.auth import Caller
from chalicelib.errors import not_found
from chalicelib.hub import domain
from chalicelib.hub.models import Subscription
from chalicelib.observability import logger

QUEUE = "hub-delivery"


def _view(sub: Subscription) -> dict[str, Any]:
    out = {"id": sub.id, "callback": sub.callback, "@type": "EventSubscription"}
    if sub.event_query:
        out["query"] = sub.event_query
    return out


def subscribe(api: str, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    access.check(caller, f"hub:{api}", "subscribe")
    callback, query = domain.check_subscription(body)
    sub = Subscription(api, tmf.new_id(), callback=callback, event_query=query, owner=caller.sub,
                       created=tmf.now_iso(), role=caller.role, channel=caller.channel, stack=caller.stack)
    sub.save()
    return _view(sub)


def _owned(api: str, sid: str, caller: Caller) -> Subscription:
    access.check(caller, f"hub:{api}", "subscribe")
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


def subscriber(sub: Subscription) -> dict[str, Any]:
    return {"role": sub.role, "channel": sub.channel, "stack": sub.stack}


def deliveries(api: str, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One delivery per (event, interested subscription whose role may read the event's resource),
    the event as that role may see it; the delivery id makes redelivery harmless."""
    subs = list(Subscription.query(api))
    for sub in subs:
        if not sub.role:
            logger.warning("hub subscription without a role receives nothing; subscribe again",
                           extra={"api": api, "subscriptionId": sub.id})
    out = []
    for event in events:
        for sub in subs:
            seen = access.event_for(api, event, subscriber(sub))
            if seen is not None and domain.wants(sub.event_query, seen):
                out.append({"deliveryId": f"{event['eventId']}:{sub.id}", "callback": sub.callback, "event": seen})
    return out


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
