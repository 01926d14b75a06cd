import pytest

from chalicelib.errors import ApiError
from chalicelib.hub import domain

AT = "2026-11-22T10:00:00.000Z"


def kinds(events):
    return [e["eventType"] for e in events]


def test_create_change_state_delete_events():
    a = {"id": "1", "name": "a", "lifecycleStatus": "inDesign", "lastUpdate": "t1"}
    b = {**a, "lifecycleStatus": "active", "lastUpdate": "t2"}
    c = {**b, "name": "b"}
    assert kinds(domain.events_for_change("productOffering", "ProductOffering", None, a, "e", AT)) == [
        "ProductOfferingCreateEvent"]
    state = domain.events_for_change("productOffering", "ProductOffering", a, b, "e", AT)
    assert kinds(state) == ["ProductOfferingStateChangeEvent"] and state[0]["fieldPath"] == "lifecycleStatus"
    assert state[0]["event"]["productOffering"]["lifecycleStatus"] == "active"
    assert kinds(domain.events_for_change("productOffering", "ProductOffering", b, c, "e", AT)) == [
        "ProductOfferingAttributeValueChangeEvent"]
    assert kinds(domain.events_for_change("productOffering", "ProductOffering", c, None, "e", AT)) == [
        "ProductOfferingDeleteEvent"]
    assert domain.events_for_change("productOffering", "ProductOffering", a, {**a, "lastUpdate": "t9"}, "e", AT) == []


def test_event_ids_are_stable_for_the_same_record():
    a = {"id": "1", "name": "a"}
    one = domain.events_for_change("productOffering", "ProductOffering", None, a, "rec-1", AT)
    two = domain.events_for_change("productOffering", "ProductOffering", None, a, "rec-1", AT)
    assert one == two


def test_subscription_query_filters_events():
    event = {"eventType": "ProductOfferingStateChangeEvent",
             "event": {"productOffering": {"lifecycleStatus": "active"}}}
    assert domain.wants(None, event)
    assert domain.wants("eventType=ProductOfferingStateChangeEvent", event)
    assert domain.wants("eventType=ProductOfferingStateChangeEvent&event.productOffering.lifecycleStatus=active", event)
    assert not domain.wants("eventType=ProductOfferingCreateEvent", event)


@pytest.mark.parametrize("body", [{}, {"callback": "ftp://x"}, {"callback": "not a url"},
                                  {"callback": "http://x", "query": 5}])
def test_bad_subscriptions(body):
    with pytest.raises(ApiError):
        domain.check_subscription(body)
