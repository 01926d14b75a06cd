"""Catalogue changes become TMF events on the hub: real stream records and real queue messages,
delivered by the local runtime's pump."""
import json

import pytest

from chalicelib import aws, settings
from functions import catalog_events
from infra import resources
from infra.local import lambdas
from infra.local.listener import Listener
from infra.local.pump import stream_record

BASE = "/tmf-api/productCatalogManagement/v4"


@pytest.fixture
def listener():
    with Listener() as server:
        yield server


def subscribe(client, headers, callback, query=None):
    body = {"callback": callback, **({"query": query} if query else {})}
    r = client.http.post(f"{BASE}/hub", headers=headers, body=json.dumps(body))
    assert r.status_code == 201, r.body
    return json.loads(r.body)


def create_offering(client, headers, **body):
    r = client.http.post(f"{BASE}/productOffering", headers=headers, body=json.dumps({"name": "Fibre", **body}))
    assert r.status_code == 201, r.body
    return json.loads(r.body)


def test_listener_receives_create_state_change_and_delete(client, admin, pump, listener):
    subscribe(client, admin, listener.url)
    offer = create_offering(client, admin)
    pump.drain()
    assert listener.event_types() == ["ProductOfferingCreateEvent"]
    client.http.patch(f"{BASE}/productOffering/{offer['id']}", headers=admin,
                      body=json.dumps({"lifecycleStatus": "active"}))
    pump.drain()
    published = listener.events[-1]
    assert published["eventType"] == "ProductOfferingStateChangeEvent"
    assert published["event"]["productOffering"]["lifecycleStatus"] == "active"
    client.http.patch(f"{BASE}/productOffering/{offer['id']}", headers=admin,
                      body=json.dumps({"lifecycleStatus": "retired", "description": "gone"}))
    client.http.delete(f"{BASE}/productOffering/{offer['id']}", headers=admin)
    pump.drain()
    assert listener.event_types()[2:] == ["ProductOfferingStateChangeEvent",
                                          "ProductOfferingAttributeValueChangeEvent",
                                          "ProductOfferingDeleteEvent"]


def test_query_narrows_what_a_listener_gets(client, admin, pump, listener):
    subscribe(client, admin, listener.url, "eventType=ProductOfferingStateChangeEvent")
    offer = create_offering(client, admin)
    client.http.patch(f"{BASE}/productOffering/{offer['id']}", headers=admin,
                      body=json.dumps({"lifecycleStatus": "active"}))
    pump.drain()
    assert listener.event_types() == ["ProductOfferingStateChangeEvent"]


def test_unsubscribed_listener_gets_nothing(client, admin, pump, listener):
    sub = subscribe(client, admin, listener.url)
    assert client.http.delete(f"{BASE}/hub/{sub['id']}", headers=admin).status_code == 204
    assert client.http.delete(f"{BASE}/hub/{sub['id']}", headers=admin).status_code == 404
    create_offering(client, admin)
    pump.drain()
    assert listener.events == []


def test_duplicate_stream_delivery_sends_each_event_once(client, admin, pump, listener):
    subscribe(client, admin, listener.url)
    create_offering(client, admin)
    # Read the real stream record and hand the same batch to the consumer twice, as Lambda may.
    table = aws.client("dynamodb").describe_table(TableName=settings.table_name("catalog"))["Table"]
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = [stream_record(r, table["LatestStreamArn"]) for r in streams.get_records(ShardIterator=iterator)["Records"]]
    function = resources.function("catalog-events")
    for _ in range(2):
        catalog_events.handler({"Records": records}, lambdas.context_for(function))
    pump.drain()  # the pump delivers the same records a third time
    assert listener.event_types() == ["ProductOfferingCreateEvent"]


def test_failing_listener_is_retried_then_dead_lettered(client, admin, pump, listener):
    subscribe(client, admin, listener.url)
    listener.fail_next = -1  # fail forever
    create_offering(client, admin)
    pump.drain()
    queue = resources.QUEUES[0]
    assert listener.attempts == queue.max_receive_count
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{settings.resource_name(queue.name)}-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["event"]["eventType"] for m in dead] == ["ProductOfferingCreateEvent"]


def test_listener_recovering_gets_the_event_once(client, admin, pump, listener):
    subscribe(client, admin, listener.url)
    listener.fail_next = 2
    create_offering(client, admin)
    pump.drain()
    assert listener.attempts == 3 and listener.event_types() == ["ProductOfferingCreateEvent"]


def test_subscribing_needs_a_role_and_a_valid_callback(client, token):
    customer = {"Authorization": f"Bearer {token('customer', channel='web', customerId='c')}",
                "Content-Type": "application/json"}
    r = client.http.post(f"{BASE}/hub", headers=customer, body=json.dumps({"callback": "http://127.0.0.1:1/x"}))
    assert r.status_code == 403
    agent = {"Authorization": f"Bearer {token('agent', channel='callcenter')}", "Content-Type": "application/json"}
    r = client.http.post(f"{BASE}/hub", headers=agent, body=json.dumps({"callback": "gopher://x"}))
    assert r.status_code == 400 and "callback" in json.loads(r.body)["message"]


def test_a_change_moves_the_cache_stamp(client, admin, pump):
    from chalicelib.catalog import store

    before = store.read_stamp()
    create_offering(client, admin)
    pump.drain()
    assert store.read_stamp() not in (None, before)
