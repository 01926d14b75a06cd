"""The business counts (chalicelib/observability.py BUSINESS_METRICS) the stream handlers emit:
which change counts as what, and the EMF line each count writes."""
from __future__ import annotations

import json

import pytest

from chalicelib import observability
from chalicelib.recovery import domain as recovery_domain
from functions import basket_events, notify_events, order_events


def test_count_writes_one_emf_line_with_its_dimension(capsys):
    observability.count("OrdersByState", dimension="completed")
    observability.count("SmsSent")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    by_state, sms = lines[-2], lines[-1]
    (directive,) = by_state["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Omnishop"
    assert sorted(directive["Dimensions"][0]) == ["service", "state"]
    assert (by_state["OrdersByState"], by_state["state"], by_state["service"]) == ([1.0], "completed", "omnishop")
    assert sms["SmsSent"] == [1.0] and "state" not in sms


@pytest.mark.parametrize("name,dimension", [("OrdersByState", None), ("SmsSent", "x"), ("Unknown", None)])
def test_count_refuses_a_wrong_dimension_or_name(name, dimension):
    with pytest.raises((ValueError, KeyError)):
        observability.count(name, dimension=dimension)


def test_every_count_the_handlers_make_is_a_business_metric():
    names = {"BasketsCreated", "BasketsRecovered", "OrdersByState", "ChildOrders", "SmsSent"}
    assert set(observability.BUSINESS_METRICS) == names


def test_basket_counts():
    active = {"id": "b-1", "status": "active"}
    assert basket_events.business_counts(None, active) == ["BasketsCreated"]
    assert basket_events.business_counts(active, {**active, "status": "ordered"}) == []   # plain checkout
    for engaged in recovery_domain.ENGAGED:
        assert basket_events.business_counts({**active, "status": engaged}, {**active, "status": "ordered"}) == [
            "BasketsRecovered"], engaged
    assert basket_events.business_counts({**active, "status": "withAgent"}, {**active, "status": "active"}) == []
    assert basket_events.business_counts(active, None) == []


def test_order_counts():
    order = {"id": "o-1", "@type": "ProductOrder", "state": "acknowledged"}
    assert order_events.business_counts(None, order) == [("OrdersByState", "acknowledged")]
    assert order_events.business_counts(order, {**order, "state": "inProgress"}) == [("OrdersByState", "inProgress")]
    assert order_events.business_counts(order, {**order, "description": "x"}) == []   # no state change
    child = {"id": "o-1-1", "@type": "ProductOrder", "state": "acknowledged",
             "relatedParty": [order_events.domain.stack_party("csp-stack-a")],
             "orderRelationship": [{"id": "o-1", "relationshipType": "parent"}]}
    assert order_events.business_counts(None, child) == [("ChildOrders", "csp-stack-a")]
    assert order_events.business_counts(child, {**child, "state": "completed"}) == []
    assert order_events.business_counts(None, {"id": "c-1", "@type": "CancelProductOrder", "state": "acknowledged"}) == []


def test_sms_counts():
    sms = {"id": "m-1", "messageType": "SMS", "state": "inProgress"}
    assert notify_events.business_counts(sms, {**sms, "state": "completed"}) == ["SmsSent"]
    assert notify_events.business_counts({**sms, "state": "completed"}, {**sms, "state": "completed"}) == []
    assert notify_events.business_counts(sms, {**sms, "messageType": "Email", "state": "completed"}) == []
    assert notify_events.business_counts(sms, None) == []


def _emitted(capsys, name: str) -> int:
    return sum(1 for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and name in json.loads(line))


def _sms_record(event_id: str) -> dict:
    """A notify-table stream record: an SMS message completing."""
    sms = {"id": "m-redelivered", "messageType": "SMS", "state": "inProgress"}
    image = lambda doc: {"pk": {"S": doc["id"]}, "kind": {"S": "message"}, "body": {"S": json.dumps(doc)}}  # noqa: E731
    return {"eventID": event_id, "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": {"S": sms["id"]}}, "OldImage": image(sms),
                         "NewImage": image({**sms, "state": "completed"})}}


def test_a_redelivered_record_counts_once(aws, capsys):
    """AWS delivers a stream record again (a later record of its batch failed, a bisected batch,
    a timeout): its work is idempotent and so are its counts; another record counts again."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    capsys.readouterr()
    notify_events.record_handler(DynamoDBRecord(_sms_record("e-1")))
    assert _emitted(capsys, "SmsSent") == 1
    notify_events.record_handler(DynamoDBRecord(_sms_record("e-1")))   # the same record again
    assert _emitted(capsys, "SmsSent") == 0
    notify_events.record_handler(DynamoDBRecord(_sms_record("e-2")))   # another change
    assert _emitted(capsys, "SmsSent") == 1


def test_count_once_per_record_id(aws, capsys):
    capsys.readouterr()
    for _ in range(2):
        observability.count_once("rec-1", [("OrdersByState", "completed"), ("ChildOrders", "csp-stack-a")])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [name for line in lines for name in ("OrdersByState", "ChildOrders") if name in line] == [
        "OrdersByState", "ChildOrders"]
    observability.count_once("rec-2", [])   # nothing to count: nothing written, no idempotency record
    from chalicelib import aws as clients
    from chalicelib import settings

    items = clients.client("dynamodb").scan(TableName=settings.table_name("idempotency"))["Items"]
    assert sum("business-count" in json.dumps(item) for item in items) == 1
