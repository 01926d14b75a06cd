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


def test_every_aggregate_names_its_customer_through_one_view_base():
    from chalicelib.appointment.domain import Appointment
    from chalicelib.inventory.domain import Product
    from chalicelib.payment.domain import Payment
    from chalicelib.quote.domain import Quote
    from chalicelib.stock.domain import Reservation

    parties = {"relatedParty": [{"id": "stack-x", "role": "fulfilmentStack"}, {"id": "cust-a", "role": "Customer"}]}
    for view in (Quote, Appointment, Reservation, Product, basket.Basket):
        assert view({"id": "x", **parties}).customer_id == "cust-a", view
        assert view({"id": "x"}).customer_id is None and view({"id": "x", "relatedParty": "junk"}).customer_id is None
        assert view({"id": "x", "relatedParty": ["junk", {"role": "customer"}]}).customer_id is None
    assert Payment({"payer": {"id": "cust-a", "role": "customer"}}).customer_id == "cust-a"
    assert Payment({"payer": {"id": "cust-a", "role": "payer"}}).customer_id is None
    assert Payment({"payer": "junk"}).customer_id is None


def test_the_other_views_name_their_own_fields():
    from chalicelib.appointment.domain import Appointment
    from chalicelib.inventory.domain import Product
    from chalicelib.quote.domain import Quote
    from chalicelib.stock.domain import Reservation

    quote = Quote({"id": "q1", "state": "approved", "version": 3, "quoteItem": [{"id": "1"}]})
    assert (quote.state, quote.version, quote.items) == ("approved", 3, [{"id": "1"}])
    assert Quote({"id": "q2"}).version == 1
    visit = Appointment({"id": "a1", "status": "confirmed", "calendarEvent": {"id": "slot-9"},
                         "relatedEntity": [{"id": "o1", "role": "order"}]})
    assert (visit.status, visit.slot, visit.entity("order"), visit.entity("basket")) == ("confirmed", "slot-9", "o1", None)
    assert Appointment({"id": "a2", "calendarEvent": "junk"}).slot == ""
    held = Product({"id": "p1", "status": "active", "productOffering": {"id": "po-tv"},
                    "relatedParty": [{"id": "tv-stack", "role": "fulfilmentStack"}]})
    assert (held.offering_id, held.stack, held.held) == ("po-tv", "tv-stack", True)
    assert not Product({"id": "p2", "status": "terminated"}).held
    assert Reservation({"id": "r1", "status": "reserved", "channel": [{"id": "web"}]}).channel == "web"
    assert Reservation({"id": "r2", "channel": None}).channel is None
