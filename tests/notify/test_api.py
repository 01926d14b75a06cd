"""TMF681 communicationMessage over HTTP (chalice test client, moto in-process): sending to a
customer or an address, roles, customers see their own messages only, cancel and delete, the
sweep sends what quiet hours held, and bad input is a clear 4xx with nothing written or sent."""
import json

import pytest

from chalicelib.notify import service
from tests.notify.conftest import ANDREA_EMAIL, STACY_MOBILE
from tests.support.fixtures import NIGHT, NOON
from tests.support.stored import emails_sent, sms_sent, stored_items

BASE = "/tmf-api/communicationManagement/v4"


@pytest.fixture
def call(client):
    def do(method, path, headers, body=None):
        raw = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        r = getattr(client.http, method.lower())(f"{BASE}{path}", headers=headers,
                                                 **({"body": raw} if raw is not None else {}))
        return r.status_code, (json.loads(r.body) if r.body else None), r.headers
    return do


@pytest.fixture
def who(token):
    def headers(role, **claims):
        return {"Authorization": f"Bearer {token(role, **claims)}", "Content-Type": "application/json"}
    return {"agent": headers("agent", channel="callcenter", sub="agent-7"),
            "marketing": headers("marketing", sub="mkt-1"),
            "channel": headers("channel", channel="sms", sub="sms-gw"),
            "stacy": headers("customer", channel="app", customerId="cust-stacy", sub="cust-stacy"),
            "andrea": headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea"),
            "admin": headers("catalog-admin", sub="cat")}


def to_party(customer_id, message_type="SMS", content="Hello {firstName}", **extra):
    return {"content": content, "messageType": message_type, "sender": {},
            "receiver": [{"party": {"id": customer_id, "@referredType": "Customer"}}], **extra}


def test_agent_sends_sms_to_a_customer(call, who, demo, clock):
    status, doc, headers = call("POST", "/communicationMessage", {**who["agent"], "X-Journey-Key": "jrn-9"},
                                to_party("cust-stacy"))
    assert status == 201 and headers["Location"] == doc["href"] and headers["ETag"] == '"2"'
    assert doc["state"] == "completed" and doc["content"] == "Hello Stacy" and doc["journeyKey"] == "jrn-9"
    assert doc["sender"]["party"] == {"id": "agent-7", "role": "agent", "@referredType": "Individual"}
    assert sms_sent() == [(STACY_MOBILE, "Hello Stacy")]
    status, read, _ = call("GET", f"/communicationMessage/{doc['id']}", who["agent"])
    assert status == 200 and read == doc


def test_email_and_raw_address(call, who, demo, clock):
    status, doc, _ = call("POST", "/communicationMessage", who["marketing"],
                          to_party("cust-andrea", "Email", "New for you, {firstName}", subject="Home Security"))
    assert status == 201 and doc["state"] == "completed" and doc["messageType"] == "Email"
    assert emails_sent()[0][1:3] == ([ANDREA_EMAIL], "Home Security")
    status, doc, _ = call("POST", "/communicationMessage", who["channel"], {
        "content": "Your code is 1234", "messageType": "SMS", "receiver": [{"phoneNumber": "+447700900999"}]})
    assert status == 201 and doc["state"] == "completed" and sms_sent() == [("+447700900999", "Your code is 1234")]


def test_no_consent_is_stored_cancelled_with_the_reason(call, who, demo, clock):
    status, doc, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-stacy", "Email"))
    assert status == 201 and doc["state"] == "cancelled"
    assert doc["stateReason"] == "not sent: no service consent for email" and emails_sent() == []
    status, doc, _ = call("POST", "/communicationMessage", who["agent"], to_party("456-dd-df45"))
    assert status == 201 and doc["stateReason"] == "not sent: unknown customer"   # a reference, kept as given


def test_quiet_hours_hold_then_the_sweep_sends(call, who, demo, clock):
    clock(NIGHT)
    status, doc, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-andrea"))
    assert status == 201 and doc["state"] == "initial" and doc["scheduledSendTime"] == "2026-06-02T07:00:00.000Z"
    assert service.sweep() == {"sent": 0, "deferred": 0, "skipped": 0, "retrying": 0, "failed": 0}
    clock(NOON.replace(day=2))
    assert service.sweep()["sent"] == 1 and service.sweep()["sent"] == 0
    _, doc, _ = call("GET", f"/communicationMessage/{doc['id']}", who["agent"])
    assert doc["state"] == "completed" and len(sms_sent()) == 1


def test_provider_failure_is_retried_by_the_sweep(call, who, demo, clock, failing, monkeypatch):
    monkeypatch.setenv("OMNISHOP_NOTIFY_RETRY_SECONDS", "0")
    failing("sns", "publish", "Throttling", times=1)
    status, doc, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-stacy"))
    assert status == 201 and doc["state"] == "failed" and doc["stateReason"].endswith("will be retried")
    assert service.sweep()["sent"] == 1 and len(sms_sent()) == 1


def test_customers_read_their_own_messages_only(call, who, demo, clock):
    _, mine, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-stacy"))
    _, hers, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-andrea"))
    status, items, headers = call("GET", "/communicationMessage", who["stacy"])
    assert status == 200 and [m["id"] for m in items] == [mine["id"]] and headers["X-Total-Count"] == "1"
    assert call("GET", f"/communicationMessage/{hers['id']}", who["stacy"])[0] == 404
    assert call("GET", f"/communicationMessage?id={hers['id']}", who["stacy"])[1] == []
    assert call("GET", f"/communicationMessage/{mine['id']}", who["stacy"])[0] == 200
    _, items, _ = call("GET", "/communicationMessage?messageType=SMS&fields=state", who["agent"])
    assert {m["id"] for m in items} == {mine["id"], hers["id"]} and set(items[0]) == {"id", "state"}


@pytest.mark.parametrize("role,method,path,code", [
    ("stacy", "POST", "/communicationMessage", 403), ("admin", "POST", "/communicationMessage", 403),
    ("admin", "GET", "/communicationMessage", 403), ("channel", "GET", "/communicationMessage", 403),
    ("stacy", "DELETE", "/communicationMessage/x", 403), ("stacy", "PATCH", "/communicationMessage/x", 403),
])
def test_roles(call, who, demo, role, method, path, code):
    assert call(method, path, who[role], to_party("cust-stacy") if method != "GET" else None)[0] == code
    assert call(method, path, {"Content-Type": "application/json"}, {})[0] == 401


def test_cancel_and_delete(call, who, demo, clock):
    clock(NIGHT)
    _, held, _ = call("POST", "/communicationMessage", who["agent"], to_party("cust-andrea"))
    status, doc, headers = call("PATCH", f"/communicationMessage/{held['id']}", {**who["agent"], "If-Match": '"7"'},
                                {"state": "cancelled"})
    assert status == 412
    status, doc, _ = call("PATCH", f"/communicationMessage/{held['id']}", who["agent"], {"state": "cancelled"})
    assert status == 200 and doc["state"] == "cancelled"
    clock(NOON.replace(day=2))
    assert service.sweep()["sent"] == 0 and sms_sent() == []
    status, _, _ = call("PATCH", f"/communicationMessage/{held['id']}", who["agent"], {"content": "other"})
    assert status == 422
    assert call("DELETE", f"/communicationMessage/{held['id']}", who["agent"])[0] == 204
    assert call("GET", f"/communicationMessage/{held['id']}", who["agent"])[0] == 404
    assert call("DELETE", f"/communicationMessage/{held['id']}", who["agent"])[0] == 404
    assert call("GET", "/communicationMessage", who["agent"])[1] == []
    # the id is kept: sending it again does nothing
    again = service.MessageRequest(customer_id="cust-andrea", purpose="service", content="x")
    assert service.send(held["id"], again).duplicate is True and sms_sent() == []


@pytest.mark.parametrize("body,code", [
    (b"not json", "malformedJson"),
    ({}, "invalidInput"),
    ({"content": "x", "messageType": "SMS", "receiver": []}, "invalidInput"),
    ({"content": "x", "messageType": "Pigeon", "receiver": [{}]}, "unknownMessageType"),
    ({"content": "x", "messageType": "SMS", "receiver": [{"phoneNumber": "07700 900999"}]}, "invalidPhoneNumber"),
    ({"content": "x", "messageType": "Email", "receiver": [{"email": "a@@b"}]}, "invalidEmail"),
    (to_party("cust-stacy", content="Hi {password}"), "invalidTemplate"),
    (to_party("cust-stacy", content="Order {orderId}"), "invalidTemplate"),
    (to_party("cust-stacy", characteristic=[{"name": "purpose", "value": "gossip"}]), "unknownPurpose"),
    (to_party("cust-stacy", content="x" * 1601), "contentTooLong"),
    (to_party("cust-stacy", state="sideways"), "invalidInput"),
    (to_party("cust-stacy", tryTimes=0), "invalidInput"),
])
def test_bad_input_is_4xx_and_nothing_written_or_sent(call, who, demo, clock, body, code):
    status, error, _ = call("POST", "/communicationMessage", who["agent"], body)
    assert 400 <= status < 500 and error["code"] == code and error["@type"] == "Error", error
    assert "07700" not in error["message"] and "a@@b" not in error["message"]
    assert stored_items("notify") == [] and sms_sent() == [] and emails_sent() == []


def test_unknown_and_overlong_ids_are_404(call, who, demo):
    for mid in ("nope", "x" * 300):
        assert call("GET", f"/communicationMessage/{mid}", who["agent"])[0] == 404
        assert call("DELETE", f"/communicationMessage/{mid}", who["agent"])[0] == 404


def test_hub_events(call, who, demo, clock, pump):
    from infra.local.listener import Listener

    with Listener() as listener:
        status, _, _ = call("POST", "/hub", who["agent"], {"callback": listener.url})
        assert status == 201
        call("POST", "/communicationMessage", who["agent"], to_party("cust-stacy"))
        pump.drain()
        pump.drain()
        types = listener.event_types()
    assert "CommunicationMessageCreateEvent" in types and "CommunicationMessageStateChangeEvent" in types
