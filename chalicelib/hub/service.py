"""Subscriptions and the one way to publish an event: `publish(api, events)` puts one delivery
message per interested subscription on the hub-delivery queue. Only stream consumers publish.

Who may subscribe to which hub, and which events each subscriber receives, is chalicelib/access.py:
the subscriber's role (with its channel or stack) is stored on the subscription and every event
is checked against it when deliveries are computed, so a subscription leaks nothing its role
may not read, whenever it was made.

Each container caches every API's subscriptions (`subscriptions`), as the catalogue cache does:
subscribe and unsubscribe move the API's stamp item in the same transaction, and the cache reads
the stamp (one GetItem) once per batch of stream records (`new_batch`, called by each stream
consumer) or after OMNISHOP_CATALOG_CACHE_SECONDS, whichever comes first, and queries the
subscriptions again only when the stamp moved. A batch of records costs no read per record; a
new or deleted subscription is seen from the next batch on."""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterable, Mapping

from pynamodb.exceptions import DoesNotExist

from chalicelib import access, aws, db, settings, tmf
from chalicelib.auth import Caller
from chalicelib.errors import not_found
from chalicelib.hub import domain
from chalicelib.hub.models import HubStamp, Subscription
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
    with db.versioned(), db.transaction() as tx:
        tx.save(sub, condition=Subscription.id.does_not_exist())
        tx.save(_new_stamp(api))
    cache.clear()
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
    sub = _owned(api, sid, caller)
    with db.versioned(), db.transaction() as tx:
        tx.delete(sub)
        tx.save(_new_stamp(api))
    cache.clear()


# --- the per-container cache --------------------------------------------------------------------
def stamp_key(api: str) -> str:
    return f"{api}#stamp"


def _new_stamp(api: str) -> HubStamp:
    return HubStamp(stamp_key(api), "stamp", stamp=tmf.new_id())


def read_stamp(api: str) -> str | None:
    try:
        return HubStamp.get(stamp_key(api), "stamp", consistent_read=True).stamp
    except DoesNotExist:
        return None


class SubscriptionCache:
    """Each API's subscriptions, checked against the API's stamp once per batch (see above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, tuple[str | None, list[Subscription]]] = {}
        self._checked: dict[str, float] = {}   # api -> when its stamp was read, in this batch

    def clear(self) -> None:
        with self._lock:
            self._subs.clear()
            self._checked.clear()

    def new_batch(self) -> None:
        """The next read of each API checks its stamp again (kept: what it holds, if unmoved)."""
        with self._lock:
            self._checked.clear()

    def get(self, api: str) -> list[Subscription]:
        with self._lock:
            checked, held = self._checked.get(api), self._subs.get(api)
        if held is not None and checked is not None and \
                time.monotonic() - checked < settings.catalog_cache_seconds():
            return held[1]
        stamp = read_stamp(api)   # before the Query: a change between them moves it again
        if held is None or held[0] != stamp:
            held = (stamp, list(Subscription.query(api, consistent_read=True)))
        with self._lock:
            self._subs[api] = held
            self._checked[api] = time.monotonic()
        return held[1]


cache = SubscriptionCache()


def new_batch() -> None:
    """Called by each stream consumer when a batch starts: subscriptions made or deleted since
    the last batch are seen in this one."""
    cache.new_batch()


def subscriber(sub: Subscription) -> dict[str, Any]:
    return {"role": sub.role, "channel": sub.channel, "stack": sub.stack}


def deliveries(api: str, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One delivery per (event, interested subscription whose role may read the event's resource),
    the event as that role may see it; the delivery id makes redelivery harmless."""
    subs = cache.get(api)
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
