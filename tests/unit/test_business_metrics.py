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
