"""Accepting assistance queues the basket for agents (from the basket stream); an agent claims
the next one with POST /recovery/worklist/next; stale messages are skipped and deleted."""
import json

import pytest

from chalicelib import aws as clients
from chalicelib import settings
from tests.recovery.conftest import CARTS
from tests.support.orders import item

NEXT = "/recovery/worklist/next"


@pytest.fixture
def waits_long(recovery, monkeypatch):
    monkeypatch.setenv("OMNISHOP_BASKET_IDLE_SECONDS", "3600")


def queued():
    attrs = clients.client("sqs").get_queue_attributes(
        QueueUrl=settings.queue_url("worklist"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def accepted_basket(api, andrea, pump):
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    assert status == 201, cart
    pump.drain()
    status, body, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"status": "withAgent"})
    assert status == 200, body
    pump.drain()
    pump.drain()   # nothing more
    return cart


def test_an_agent_claims_the_next_basket_from_the_queue(waits_long, api, andrea, agent, pump):
    cart = accepted_basket(api, andrea, pump)
    assert queued() == 1
    status, work, _ = api.call("POST", NEXT, agent)
    assert status == 200, work
    assert work["id"] == cart["id"] and work["state"] == "claimed" and work["claimedBy"] == "agent-007"
    assert queued() == 0
    status, body, _ = api.call("POST", NEXT, agent)
    assert status == 204, body
    _, listed, _ = api.call("GET", "/recovery/worklist?claimed=true", agent)
    assert [w["id"] for w in listed] == [cart["id"]]   # the list (from the index) is unchanged


def test_duplicate_and_stale_messages_are_skipped(waits_long, api, andrea, agent, headers, pump):
    cart = accepted_basket(api, andrea, pump)
    sqs, url = clients.client("sqs"), settings.queue_url("worklist")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"basketId": cart["id"], "version": 3}))  # a duplicate
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"basketId": "no-such-basket"}))
    status, work, _ = api.call("POST", NEXT, agent)
    assert status == 200 and work["id"] == cart["id"]
    other = headers("agent", channel="callcenter", sub="agent-008")
    status, body, _ = api.call("POST", NEXT, other)   # only stale messages are left
    assert status == 204, body
    assert queued() == 0


def test_a_basket_taken_back_is_not_handed_out(waits_long, api, andrea, agent, pump):
    cart = accepted_basket(api, andrea, pump)
    status, body, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"status": "active"})
    assert status == 200, body
    status, body, _ = api.call("POST", NEXT, agent)
    assert status == 204, body
    assert queued() == 0


def test_next_is_for_agents(waits_long, api, andrea):
    status, body, _ = api.call("POST", NEXT, andrea)
    assert status == 403, body
