"""The business counts (chalicelib/observability.py BUSINESS_METRICS) the stream handlers emit:
which change counts as what, and the EMF line each count writes."""
from __future__ import annotations

import json

import pytest

from chalicelib import observability
from chalicelib.recovery import domain as recovery_domain
from functions import basket_events, order_events


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


def _emitted(capsys, name: str) -> int:
    return sum(1 for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and name in json.loads(line))


def _order_record(event_id: str) -> dict:
    """An order-table stream record: an order entering inProgress."""
    order = {"id": "o-redelivered", "@type": "ProductOrder", "state": "acknowledged"}
    image = lambda doc: {"pk": {"S": doc["id"]}, "kind": {"S": "order"}, "body": {"S": json.dumps(doc)}}  # noqa: E731
    return {"eventID": event_id, "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": {"S": order["id"]}}, "OldImage": image(order),
                         "NewImage": image({**order, "state": "inProgress"})}}


def test_a_redelivered_record_counts_once(aws, capsys):
    """AWS delivers a stream record again (a later record of its batch failed, a bisected batch,
    a timeout): its work is idempotent and so are its counts; another record counts again."""
    capsys.readouterr()
    assert observability.count_once("e-1", order_events.business_counts(None, {"id": "o", "state": "inProgress"}))
    assert _emitted(capsys, "OrdersByState") == 1
    assert not observability.count_once("e-1", [("OrdersByState", "inProgress")])   # the same record again
    assert _emitted(capsys, "OrdersByState") == 0
    assert observability.count_once("e-2", [("OrdersByState", "inProgress")])       # another change
    assert _emitted(capsys, "OrdersByState") == 1


def test_count_once_is_one_conditional_put(aws, capsys):
    """A counted record costs one PutItem (conditional on its id being new); a repeat one refused
    PutItem, no read and no second write."""
    from bench.harness import Calls

    calls = Calls()
    with calls.counting():
        observability.count_once("e-calls", [("OrdersByState", "completed")])
    assert dict(calls.counts) == {"dynamodb:PutItem": 1}
    calls = Calls()
    with calls.counting():
        observability.count_once("e-calls", [("OrdersByState", "completed")])
    assert dict(calls.counts) == {"dynamodb:PutItem": 1}


def test_twenty_repeats_at_once_count_once(aws, capsys):
    """Twenty deliveries of one record at the same moment (concurrent retries): one counts."""
    from tests.support.concurrency import at_once

    capsys.readouterr()
    results = at_once(20, lambda n: observability.count_once("e-race", [("ChildOrders", "csp-stack-a")]))
    assert results.count(True) == 1 and results.count(False) == 19, results
    assert _emitted(capsys, "ChildOrders") == 1


def test_a_poison_record_in_a_batch_counts_the_others_once(aws, capsys):
    """A batch whose middle record fails: the records before it are counted; the whole batch is
    delivered again (bisected or retried from the failure): nothing counted twice, the rest once
    their work is done."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    failing = {"e-b2"}

    def handler(record):
        if record.event_id in failing:
            raise ValueError("poison")
        observability.count_once(record.event_id, [("OrdersByState", "inProgress")])

    event = {"Records": [_order_record(f"e-b{n}") for n in range(1, 5)]}
    capsys.readouterr()
    answer = process_partial_response(event=event, record_handler=handler,
                                      processor=BatchProcessor(event_type=EventType.DynamoDBStreams))
    assert answer["batchItemFailures"] == [{"itemIdentifier": "e-b2"}] or answer["batchItemFailures"]
    assert _emitted(capsys, "OrdersByState") == 3
    failing.clear()                  # the poison is mended; the batch comes again, whole
    process_partial_response(event=event, record_handler=handler,
                             processor=BatchProcessor(event_type=EventType.DynamoDBStreams))
    assert _emitted(capsys, "OrdersByState") == 1


def test_count_once_per_record_id(aws, capsys):
    capsys.readouterr()
    for _ in range(2):
        observability.count_once("rec-1", [("OrdersByState", "completed"), ("ChildOrders", "csp-stack-a")])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [name for line in lines for name in ("OrdersByState", "ChildOrders") if name in line] == [
        "OrdersByState", "ChildOrders"]
    assert not observability.count_once("rec-2", [])   # nothing to count: nothing written, no mark
    from chalicelib import aws as clients
    from chalicelib import settings

    items = clients.client("dynamodb").scan(TableName=settings.table_name("idempotency"))["Items"]
    assert sum("business-count" in json.dumps(item) for item in items) == 1
