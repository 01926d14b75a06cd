"""The Actor value and the basket's typed view: what every context records and decides with."""
import dataclasses

import pytest

from chalicelib.actor import SYSTEM, Actor
from chalicelib.auth import Caller
from chalicelib.basket import domain as basket


def test_an_actor_is_who_a_token_names_and_is_recorded_without_empty_fields():
    actor = Actor.of(Caller(sub="agent-7", role="agent", channel="callcenter", customer_id=None))
    assert actor == Actor("agent", "agent-7", "callcenter")
    assert actor.by == {"id": "agent-7", "role": "agent", "channel": "callcenter"}
    assert Actor("customer", "c1").by == {"id": "c1", "role": "customer"}      # no "channel": None
    with pytest.raises(dataclasses.FrozenInstanceError):
        actor.role = "customer"  # type: ignore[misc]


def test_the_platform_acts_as_system_optionally_in_a_channels_name():
    assert Actor.system().by == {"id": "omnishop", "role": SYSTEM}
    assert Actor.system("web").by == {"id": "omnishop", "role": SYSTEM, "channel": "web"}


def test_the_basket_view_reads_the_document_without_copying_or_guessing():
    doc = {"id": "b1", "status": "withAgent", "cartItem": [{"id": "i1"}],
           "relatedParty": [{"id": "cust-a", "role": "customer"}, {"id": "v9", "role": "visitor"}],
           "context": {"journeyKey": "jrn-1", "currentChannel": "app", "originatingChannel": "web",
                       "campaignCode": "cmp-1", "agent": {"id": "agent-7", "role": "agent"},
                       "changes": [{"by": {"id": "agent-7", "role": "agent"}}]}}
    view = basket.Basket(doc)
    assert (view.id, view.status, view.customer_id, view.visitor_id) == ("b1", "withAgent", "cust-a", "v9")
    assert (view.journey_key, view.current_channel, view.originating_channel, view.campaign_code) == \
        ("jrn-1", "app", "web", "cmp-1")
    assert view.agent_id == "agent-7" and view.items == [{"id": "i1"}] and len(view.changes) == 1


def test_the_basket_view_of_a_bare_document_has_no_owner_context_or_items():
    view = basket.Basket({"id": "b2", "context": None, "cartItem": None, "relatedParty": None})
    assert (view.customer_id, view.journey_key, view.agent_id, view.items, view.changes) == (None, None, None, [], [])
    assert basket.owner_key({"id": "b2"}) == "VISITOR#b2"


def test_the_order_view_names_customer_stack_family_visits_and_whether_in_flight():
    from chalicelib.ordering import domain as ordering

    parent = {"id": "o1", "@type": "ProductOrder", "state": "inProgress",
              "relatedParty": [{"id": "cust-a", "role": "Customer"}],
              "orderRelationship": [{"id": "c1", "relationshipType": "child"}, {"id": "c2", "relationshipType": "child"}],
              "productOrderItem": [{"id": "1", "appointment": {"id": "apt-9"}}, {"id": "2"}]}
    child = {"id": "c1", "@type": "ProductOrder", "state": "completed",
             "relatedParty": [{"id": "broadband-stack", "role": "fulfilmentStack"}],
             "orderRelationship": [{"id": "o1", "relationshipType": "parent"}]}
    order, part = ordering.Order(parent), ordering.Order(child)
    assert (order.id, order.state, order.customer_id, order.child_ids) == ("o1", "inProgress", "cust-a", ["c1", "c2"])
    assert order.visits == [("1", {"id": "apt-9"})] and len(order.items) == 2 and order.in_flight
    assert (part.stack, part.parent_id, part.items, part.in_flight) == ("broadband-stack", "o1", [], False)
    assert not ordering.Order({**parent, "state": "completed"}).in_flight
