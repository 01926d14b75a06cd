"""A message stored before MessageRequest existed (its request the dict domain.request() returned,
as the notify table keeps it: one JSON string) is read back and delivered by the sweep as it was
asked, and its stored request is left byte for byte as it was."""
import json

from chalicelib import aws, settings
from chalicelib.notify import service, store
from chalicelib.notify.domain import MessageRequest
from tests.notify.conftest import ANDREA_MOBILE, customer_interactions
from tests.support.fixtures import NIGHT, NOON
from tests.support.stored import sms_sent

# What domain.request(...) returned and notify's store kept, before issue 19 (keys and all).
STORED_BEFORE = {"customerId": "cust-andrea", "purpose": "service",
                 "templates": {"sms": "Hi {firstName}, order {orderId} ships today", "email": "Order {orderId}"},
                 "subject": "Your order {orderId}", "fields": {"orderId": "o-7"}, "channels": ["sms", "email"],
                 "journeyKey": "jrn-o7", "related": [{"id": "o-7", "@referredType": "ProductOrder"}],
                 "notBefore": None, "address": None, "resume": True, "senderParty": None, "extra": {},
                 "unaddressed": False, "reason": "order shipped"}


def _raw_request(message_id):
    item = aws.client("dynamodb").get_item(TableName=settings.table_name("notify"), Key={"pk": {"S": message_id}},
                                           ConsistentRead=True)["Item"]
    return item["request"]["S"]


def _store_raw_request(message_id, request):
    aws.client("dynamodb").update_item(
        TableName=settings.table_name("notify"), Key={"pk": {"S": message_id}},
        UpdateExpression="SET #r = :r", ExpressionAttributeNames={"#r": "request"},
        ExpressionAttributeValues={":r": {"S": json.dumps(request)}})


def test_a_request_stored_in_the_old_shape_is_read_back_and_sent(demo, clock):
    clock(NIGHT)   # quiet hours: held, on the sweep's list (resume)
    held = service.send("legacy-o7", MessageRequest(customer_id="cust-andrea", purpose="service", content="placeholder",
                                                    resume=True))
    assert held.status == "deferred" and sms_sent() == []
    _store_raw_request("legacy-o7", STORED_BEFORE)   # as an older release wrote it (key order and spacing too)
    assert store.load("legacy-o7").request == MessageRequest.from_item(STORED_BEFORE)

    clock(NOON.replace(day=2))
    assert service.sweep()["sent"] == 1
    assert sms_sent() == [(ANDREA_MOBILE, "Hi Andrea, order o-7 ships today")]
    stored = store.load("legacy-o7")
    assert stored.doc["state"] == "completed" and stored.doc["content"] == "Hi Andrea, order o-7 ships today"
    touch = next(i for i in customer_interactions("cust-andrea") if i["id"] == "message-legacy-o7")
    assert touch["reason"] == "order shipped" and touch["journeyKey"] == "jrn-o7"
    assert {i["item"]["id"] for i in touch["interactionItem"]} == {"legacy-o7", "o-7"}
    # written back in the stored form it was read in: the same JSON (the store sorts keys, compact)
    assert json.loads(_raw_request("legacy-o7")) == STORED_BEFORE
    assert _raw_request("legacy-o7") == json.dumps(STORED_BEFORE, separators=(",", ":"), sort_keys=True)
