"""TMF683 interactions, the agent audit trail, interactions the platform records from the stream,
hub events, and the 360 view (bounded DynamoDB calls whatever the history)."""

from bench.harness import measure
from chalicelib.customer import interactions, store
from functions import customer_events
from infra import resources
from infra.local import lambdas
from infra.local.listener import Listener
from tests.customer.conftest import BASE, PI, andrea_body
from tests.support.streams import stream_records
from tests.support.concurrency import at_once

ANDREA = "cust-andrea"


def history(api, headers, customer_id=ANDREA):
    _, items, _ = api.call("GET", f"{PI}/partyInteraction?relatedParty.id={customer_id}", headers)
    return items


def agent_touches(items, agent_id="agent-007"):
    return [i for i in items if any(p["id"] == agent_id and p["role"] == "agent" for p in i["relatedParty"])]


def test_each_agent_open_is_recorded_with_the_agents_id(api, agent, as_customer, demo):
    opens = [f"customer/{ANDREA}", f"customer/{ANDREA}/view360", f"customer/{ANDREA}/product",
             f"customer/{ANDREA}/consentAudit", f"customer/{ANDREA}"]
    for path in opens:
        assert api.call("GET", f"{BASE}/{path}", {**agent, "X-Journey-Key": "jrn-call-1"})[0] == 200
    touches = agent_touches(history(api, agent))
    assert len(touches) == len(opens)
    assert {t["reason"] for t in touches} == {"agent opened the customer record", "agent opened the 360 view",
                                              "agent opened the products held", "agent opened the consent audit"}
    assert all(t["channel"] == [{"id": "callcenter", "name": "callcenter"}] and t["journeyKey"] == "jrn-call-1"
               for t in touches)
    # the customer opening its own record leaves no agent trail
    api.call("GET", f"{BASE}/customer/{ANDREA}/view360", as_customer(ANDREA))
    assert len(agent_touches(history(api, agent))) == len(opens)


def test_channels_record_interactions_with_journey_and_items(api, token, agent, demo):
    web = {"Authorization": f"Bearer {token('channel', channel='web')}", "Content-Type": "application/json"}
    body = {"reason": "added Home Security to basket", "direction": "inbound",
            "relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}],
            "interactionItem": [{"item": {"id": "basket-1", "@referredType": "ShoppingCart", "role": "basket"}}]}
    status, doc, headers = api.call("POST", f"{PI}/partyInteraction", {**web, "X-Journey-Key": "jrn-andrea-home-security"}, body)
    assert status == 201 and headers["Location"] == doc["href"]
    assert doc["channel"] == [{"id": "web", "name": "web"}] and doc["journeyKey"] == "jrn-andrea-home-security"
    status, read, _ = api.call("GET", f"{PI}/partyInteraction/{doc['id']}", agent)
    assert status == 200 and read == doc
    _, view, _ = api.call("GET", f"{BASE}/customer/{ANDREA}/view360", agent)
    assert view["interactions"][0]["id"] == doc["id"]
    assert view["currentJourney"]["journeyKey"] == "jrn-andrea-home-security"
    assert [i["reason"] for i in view["currentJourney"]["interactions"]] == [
        "added Home Security to basket", "viewed the Home Security offer", "Home Security promotion sent"]


def test_a_customer_records_only_about_itself(api, as_customer, demo):
    andrea = as_customer(ANDREA, channel="app")
    body = {"reason": "chat with the assistant", "direction": "inbound"}
    status, doc, _ = api.call("POST", f"{PI}/partyInteraction", andrea, body)
    assert status == 201 and doc["relatedParty"][0]["id"] == ANDREA and doc["channel"][0]["id"] == "app"
    status, _, _ = api.call("POST", f"{PI}/partyInteraction", andrea,
                            {**body, "relatedParty": [{"id": "cust-stacy", "role": "customer"}]})
    assert status == 403


def test_bad_interactions_write_nothing(api, agent):
    from tests.support.stored import stored_items

    before = len(stored_items())
    for body in ({"reason": "x", "direction": "diagonal", "channel": [{"id": "web"}]},
                 {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}], "interactionDate": {"startDateTime": "today"}},
                 {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}], "status": "closed"},
                 {"direction": "inbound", "channel": [{"id": "web"}]},
                 {"reason": "x" * 2000, "direction": "inbound", "channel": [{"id": "web"}]},
                 {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}], "note": [{"text": 5}]}):
        status, error, _ = api.call("POST", f"{PI}/partyInteraction", agent, body)
        assert status == 400 and error["@type"] == "Error", body
    assert len(stored_items()) == before


def test_record_interaction_is_idempotent_on_its_id(aws):
    values = dict(reason="order submitted", channel="web", direction="inbound", customer_id=ANDREA,
                  items=[{"id": "order-1", "@referredType": "ProductOrder"}], journey_key="jrn-x",
                  occurred_at="2026-06-01T10:00:00Z")
    first = interactions.record_interaction("order-1-submitted", **values)
    second = interactions.record_interaction("order-1-submitted", **values)
    assert first == second and first["interactionItem"] == [{"item": {"id": "order-1", "@referredType": "ProductOrder"}}]
    assert [i["id"] for i in store.interactions(store.customer_pk(ANDREA))] == ["order-1-submitted"]


def test_twenty_concurrent_repeats_of_one_interaction_store_exactly_one(aws):
    values = dict(reason="order placed", channel="web", direction="inbound", customer_id=ANDREA,
                  occurred_at="2026-06-01T10:00:00Z")
    results = at_once(20, lambda _: interactions.record_interaction("order-7-placed", **values))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r == results[0] for r in results)   # every caller gets the one stored interaction
    assert [i["id"] for i in store.interactions(store.customer_pk(ANDREA))] == ["order-7-placed"]
    assert len([i for i in store.all_interactions() if i["id"] == "order-7-placed"]) == 1


def test_a_repeat_costs_no_idempotency_record_and_writes_nothing(aws):
    values = dict(reason="order placed", channel="web", direction="inbound", customer_id=ANDREA,
                  occurred_at="2026-06-01T10:00:00Z")
    first = measure(lambda: interactions.record_interaction("order-8-placed", **values))
    again = measure(lambda: interactions.record_interaction("order-8-placed", **values))
    assert first.counts == {"dynamodb:PutItem": 1}, first.summary()
    assert again.counts == {"dynamodb:PutItem": 1, "dynamodb:GetItem": 1}, again.summary()   # refused, then read


def test_an_interaction_without_its_time_is_refused_before_anything_is_written(aws):
    import pytest

    with pytest.raises(ValueError, match="occurred_at"):
        interactions.record_interaction("order-9-placed", occurred_at="", reason="x", channel="web",
                                        direction="inbound", customer_id=ANDREA)
    assert store.interactions(store.customer_pk(ANDREA)) == []


def test_consent_change_becomes_an_interaction_from_the_stream(api, agent, pump):
    _, doc, _ = api.call("POST", f"{BASE}/customer", agent, andrea_body())
    api.call("PATCH", f"{BASE}/customer/{doc['id']}", agent, {"contactPreference": {"consent": {"sms": {"marketing": False}}}})
    pump.drain()
    assert pump.errors == []
    consent = [i for i in history(api, agent, doc["id"]) if i["reason"] == "contact preferences changed"]
    assert len(consent) == 2 and consent[0]["description"] == "changed: consent.sms.marketing"
    assert all(agent_touches([i]) for i in consent)


def test_duplicate_stream_delivery_has_one_effect(api, agent, pump):
    with Listener() as listener:
        api.call("POST", f"{BASE}/hub", agent, {"callback": listener.url})
        api.call("POST", f"{PI}/hub", agent, {"callback": listener.url})
        _, doc, _ = api.call("POST", f"{BASE}/customer", agent, andrea_body())
        records = stream_records("customer")
        function = resources.function("customer-events")
        for _ in range(2):
            assert customer_events.handler({"Records": records}, lambdas.context_for(function)) == {"batchItemFailures": []}
        pump.drain()  # and the pump delivers them a third time
        assert pump.errors == []
        assert sorted(listener.event_types()) == ["CustomerCreateEvent", "PartyInteractionCreateEvent"]
    assert [i["reason"] for i in history(api, agent, doc["id"])] == ["contact preferences changed"]


def test_view_360(api, agent, as_customer, demo):
    status, view, _ = api.call("GET", f"{BASE}/customer/{ANDREA}/view360?interactions=2", as_customer(ANDREA))
    assert status == 200 and view["@type"] == "Customer360View" and view["customer"]["id"] == ANDREA
    assert view["contact"]["channels"]["sms"] == {"reachable": True, "service": True, "marketing": True}
    assert view["contact"]["channels"]["email"] == {"reachable": True, "service": True, "marketing": True}
    assert [p["id"] for p in view["productsHeld"]] == ["prod-andrea-broadband"]
    assert view["contractEnding"] == ["prod-andrea-broadband"] and 0 < view["productsHeld"][0]["contractDaysLeft"] <= 60
    assert view["openBaskets"] == [] and view["ordersInFlight"] == []
    assert len(view["interactions"]) == 2
    assert view["currentJourney"]["journeyKey"] == "jrn-andrea-home-security"
    _, stacy, _ = api.call("GET", f"{BASE}/customer/cust-stacy/view360", agent)
    assert stacy["contact"]["channels"]["sms"]["marketing"] and not stacy["contact"]["channels"]["email"]["reachable"]
    assert not any(stacy["contact"]["channels"]["email"][p] for p in ("service", "marketing"))
    assert stacy["contractEnding"] == []
    for bad in ("0", "101", "ten"):
        assert api.call("GET", f"{BASE}/customer/{ANDREA}/view360?interactions={bad}", agent)[0] == 400


def test_view_360_costs_the_same_whatever_the_history(api, agent, as_customer, demo):
    from chalicelib.customer import service

    # The profile (GetItem), 2 Queries of ours (products held in the inventory, the newest
    # interactions: they hold the current journey's newest touches here), and one per section
    # another context fills in (open baskets, orders in flight).
    ours = {"dynamodb:GetItem": 1, "dynamodb:Query": 2 + sum(1 for path in service.VIEW_SECTIONS.values() if path)}
    path = f"{BASE}/customer/{ANDREA}/view360"
    # A customer token's first request in a container also reads whether the customer is an
    # organisation acting through contacts (chalicelib/customer/contacts.py); warm it first.
    assert api.call("GET", path, as_customer(ANDREA))[0] == 200
    for size in (3, 120):
        for n in range(size):
            interactions.save(interactions.build(f"bulk-{size}-{n}", reason="page view", channel="web",
                                                 direction="inbound", customer_id=ANDREA, journey_key="jrn-bulk"))
        assert dict(measure(lambda: api.call("GET", path, as_customer(ANDREA))).counts) == ours
        # an agent's view also writes its audit trail
        assert dict(measure(lambda: api.call("GET", path, agent)).counts) == {**ours, "dynamodb:PutItem": 1}


def test_view_360_reads_the_same_items_whatever_the_orders_and_baskets_before(api, as_customer, demo):
    """A customer with 2 orders in flight and 1 open basket; then 150 orders finished and 60
    baskets ordered or expired: the view shows the same, with the same calls and the same
    number of items read (sparse open-by-owner indexes, read with a limit)."""
    from chalicelib.basket import store as baskets
    from chalicelib.ordering import store as orders

    def order(n, state):
        oid = f"ord-bulk-{n}"
        return {"id": oid, "href": f"/o/{oid}", "@type": "ProductOrder", "state": state,
                "orderDate": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z", "productOrderItem": [{"id": "1"}],
                "relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]}

    def basket(n, status):
        bid = f"bsk-bulk-{n}"
        return {"id": bid, "href": f"/b/{bid}", "status": status, "lastUpdate": f"2026-01-01T00:00:{n:02d}Z",
                "creationDate": "2026-01-01T00:00:00Z", "cartItem": [],
                "relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]}

    for n, state in enumerate(("acknowledged", "inProgress")):
        orders.insert(order(n, state))
    baskets.write(basket(0, "active"), None, None, 4102444800, None)
    path = f"{BASE}/customer/{ANDREA}/view360"
    assert api.call("GET", path, as_customer(ANDREA))[0] == 200   # warms the contact check (customer/contacts.py)

    def look():
        result = {}
        calls = measure(lambda: result.update(view=api.call("GET", path, as_customer(ANDREA))[1]))
        view = result["view"]
        return calls, sorted(o["id"] for o in view["ordersInFlight"]), [b["id"] for b in view["openBaskets"]]

    before, in_flight, open_baskets = look()
    assert in_flight == ["ord-bulk-0", "ord-bulk-1"] and open_baskets == ["bsk-bulk-0"]
    for n in range(2, 152):
        orders.insert(order(n, ("completed", "cancelled", "failed")[n % 3]))
    for n in range(1, 61):
        baskets.write(basket(n, ("ordered", "expired")[n % 2]), None, None, 4102444800, None)
    after, in_flight_after, open_after = look()
    assert (in_flight_after, open_after) == (in_flight, open_baskets)
    assert dict(after.counts) == dict(before.counts)
    assert dict(after.counts)["dynamodb:Query"] <= 4, after.summary()
    assert after.items_read == before.items_read, (before.items_read, after.items_read)
