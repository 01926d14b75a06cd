"""Hub subscriptions are cached per container and moved by a stamp: a batch of stream records
costs no subscription read per record, and a subscription made or deleted elsewhere (another
container) is seen from the next batch on. AWS calls are counted, per table."""
from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

import pytest

from bench.harness import Calls
from chalicelib import auth, settings

API = "productCatalogManagement"
BASE = "/tmf-api/productCatalogManagement/v4"


@contextlib.contextmanager
def hub_reads() -> Iterator[dict[str, int]]:
    """The DynamoDB calls made on the hub table ({"GetItem": n, "Query": n}), filled in on exit."""
    calls, reads = Calls(), {}
    with calls.counting():
        yield reads
    reads.update(calls.on_table(settings.table_name("hub")))


def event(n: int) -> dict[str, Any]:
    return {"eventId": f"e{n}", "eventType": "ProductOfferingCreateEvent",
            "event": {"productOffering": {"id": f"po-{n}", "name": "x", "lifecycleStatus": "active"}}}


ADMIN = auth.Caller(sub="admin-1", role="catalog-admin", channel=None, stack=None)


@pytest.fixture
def service(aws, monkeypatch):
    from chalicelib.hub import service
    from tests.security.servers import fake_dns

    fake_dns(monkeypatch, {"listener.example.com": ["93.184.216.34"]})
    service.cache.clear()
    return service


def elsewhere(service, monkeypatch, action):
    """Run `action` as another container would: its own cache, not this one's."""
    mine = service.cache
    monkeypatch.setattr(service, "cache", service.SubscriptionCache())
    try:
        return action()
    finally:
        monkeypatch.setattr(service, "cache", mine)


def test_a_batch_reads_the_subscriptions_once_not_per_record(service):
    service.subscribe(API, {"callback": "https://listener.example.com/a"}, ADMIN)
    service.new_batch()
    with hub_reads() as reads:
        deliveries = [service.deliveries(API, [event(n)]) for n in range(20)]
    assert all(len(d) == 1 for d in deliveries)
    assert dict(reads) == {"GetItem": 1, "Query": 1}   # the stamp, then the subscriptions
    service.new_batch()
    with hub_reads() as reads:
        for n in range(20):
            service.deliveries(API, [event(n)])
    assert dict(reads) == {"GetItem": 1}   # the stamp has not moved: the copy is still good


def test_a_subscription_made_or_deleted_elsewhere_is_seen_on_the_next_batch(service, monkeypatch):
    first = service.subscribe(API, {"callback": "https://listener.example.com/a"}, ADMIN)
    service.new_batch()
    assert len(service.deliveries(API, [event(1)])) == 1
    second = elsewhere(service, monkeypatch, lambda: service.subscribe(
        API, {"callback": "https://listener.example.com/b"}, ADMIN))
    assert len(service.deliveries(API, [event(2)])) == 1   # the same batch: the cached copy
    service.new_batch()
    got = service.deliveries(API, [event(3)])
    assert sorted(d["callback"] for d in got) == ["https://listener.example.com/a", "https://listener.example.com/b"]
    elsewhere(service, monkeypatch, lambda: service.unsubscribe(API, first["id"], ADMIN))
    service.new_batch()
    assert [d["deliveryId"] for d in service.deliveries(API, [event(4)])] == [f"e4:{second['id']}"]


def test_the_cache_is_trusted_for_a_bounded_time_without_a_new_batch(service, monkeypatch):
    service.subscribe(API, {"callback": "https://listener.example.com/a"}, ADMIN)
    service.deliveries(API, [event(1)])
    elsewhere(service, monkeypatch, lambda: service.subscribe(
        API, {"callback": "https://listener.example.com/b"}, ADMIN))
    monkeypatch.setenv("OMNISHOP_CATALOG_CACHE_SECONDS", "0")
    assert len(service.deliveries(API, [event(2)])) == 2


def test_the_stamp_is_no_subscription(service):
    from chalicelib.errors import ApiError

    service.subscribe(API, {"callback": "https://listener.example.com/a"}, ADMIN)
    with pytest.raises(ApiError) as refused:
        service.get(API, "stamp", ADMIN)
    assert refused.value.status == 404


def test_stream_consumer_publishes_a_batch_with_one_subscription_read(client, token, aws, monkeypatch):
    """20 offerings created, their stream records delivered by a pump of catalog-events alone (the
    deliveries stay on the queue): the hub table is read once per batch, never once per record."""
    from chalicelib.hub import service
    from infra import resources
    from infra.local.listener import Listener
    from infra.local.pump import Pump

    admin = {"Authorization": f"Bearer {token('catalog-admin')}", "Content-Type": "application/json"}
    with Listener() as listener:
        r = client.http.post(f"{BASE}/hub", headers=admin, body=json.dumps({"callback": listener.url}))
    assert r.status_code == 201, r.body
    for n in range(20):
        r = client.http.post(f"{BASE}/productOffering", headers=admin, body=json.dumps({"name": f"Fibre {n}"}))
        assert r.status_code == 201, r.body
    published = []
    real_publish = service.publish
    monkeypatch.setattr(service, "publish", lambda api, evs: published.append(real_publish(api, evs)) or published[-1])
    with hub_reads() as reads:
        Pump([resources.function("catalog-events")], retry_delay=0).drain()
    assert len(published) == 20 and sum(published) == 20
    # one batch here (20 records, batch size 50): the stamp once, the subscriptions once
    assert dict(reads) == {"GetItem": 1, "Query": 1}
