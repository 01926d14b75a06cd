"""GET /local/outbox (local mode only): the SMS, emails and social posts moto recorded as sent,
newest first, filterable by recipient and kind, paged; bad filters are TMF 400s. (The deployed
API has no /local routes: tests/infra's synthesis checks it.)"""
from __future__ import annotations

import json

import pytest

from chalicelib import aws as aws_clients
from chalicelib import settings
from infra.resources import EMAIL_SENDER


def _get(client, query=""):
    response = client.http.get(f"/local/outbox{query}")
    return response.status_code, json.loads(response.body), response.headers


def _sms(number, text):
    aws_clients.client("sns").publish(PhoneNumber=number, Message=text)


def _email(address, subject, text):
    aws_clients.client("ses").send_email(Source=EMAIL_SENDER, Destination={"ToAddresses": [address]},
                                         Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}})


def _social(network_id, text):
    aws_clients.client("sqs").send_message(
        QueueUrl=settings.queue_url("campaign-social"),
        MessageBody=json.dumps({"content": text, "receiver": [{"id": "cust-1", "socialNetworkId": network_id}]}))


def test_sent_messages_newest_first_filtered_and_paged(client):
    assert _get(client)[:2] == (200, [])
    _sms("+447700900001", "first SMS")
    _get(client)   # each read stamps what it sees first: the order below is the order of sending
    _email("Someone@Example.org", "Hello", "an email")
    _get(client)
    _social("@someone", "a post")
    _get(client)
    _sms("+447700900002", "second SMS")
    status, items, headers = _get(client)
    assert status == 200 and headers["X-Total-Count"] == "4"
    assert [(i["kind"], i.get("text")) for i in items] == [
        ("sms", "second SMS"), ("social", "a post"), ("email", "an email"), ("sms", "first SMS")]
    assert items[2]["to"] == ["Someone@Example.org"] and items[2]["subject"] == "Hello"
    assert items[2]["from"] == EMAIL_SENDER and items[1]["to"] == ["@someone"]
    assert all(i["sentAt"].endswith("Z") for i in items)
    assert [i["text"] for i in _get(client, "?to=%2B447700900001")[1]] == ["first SMS"]
    assert [i["text"] for i in _get(client, "?to=someone@example.ORG")[1]] == ["an email"]   # any case
    assert [i["text"] for i in _get(client, "?kind=sms")[1]] == ["second SMS", "first SMS"]
    status, page, headers = _get(client, "?limit=1&offset=1")
    assert [i["text"] for i in page] == ["a post"] and headers["X-Total-Count"] == "4"
    assert _get(client, "?to=%2B440000000000")[1] == []


@pytest.mark.parametrize("query", ["?limit=abc", "?limit=0", "?limit=-1", "?offset=x", "?kind=fax",
                                   "?kind=" + "x" * 5000])
def test_bad_filters_are_tmf_400s(client, query):
    status, body, _ = _get(client, query)
    assert status == 400 and body["@type"] == "Error" and body["code"] == "invalidInput", body
    assert len(json.dumps(body)) < 500   # the answer does not echo a huge value back

