"""One basket across channels: an anonymous web basket becomes the customer's at login (merged
with the basket she had), she hands it to an agent, the agent takes it over and adds an item,
hands it back for approval, and she sees and approves the agent's change. Every hand-over is an
interaction in her history, recorded from the basket stream (real records, via the pump)."""
from chalicelib.basket import service
from chalicelib.customer import store as customer_store
from functions import basket_events
from infra import resources
from infra.local import lambdas
from infra.local.listener import Listener
from tests.basket.conftest import BASE, CARTS, CUSTOMER
from tests.support.streams import stream_records
from tests.support.appointments import installed
from tests.support.orders import item
from tests.support.stored import stored_items

ANDREA = "cust-andrea"
VISITOR = "visitor-9c1e"
JOURNEY = "jrn-andrea-home-security"


def reasons_about(basket_id):
    return [i["reason"] for i in reversed(customer_store.interactions(customer_store.customer_pk(ANDREA)))
            if any(x["item"].get("id") == basket_id for x in i.get("interactionItem") or [])]


def test_the_basket_follows_andrea_from_web_to_agent_and_back(api, web, headers, agent, demo, pump):
    andrea_app = headers("customer", channel="app", customerId=ANDREA, sub=ANDREA)
    andrea_web = headers("customer", channel="web", customerId=ANDREA, sub=ANDREA)
    with Listener() as listener:
        assert api.call("POST", f"{BASE}/hub", agent, {"callback": listener.url})[0] == 201
        # Andrea already had a basket (app); later she browses anonymously on the web.
        status, mine, _ = api.call("POST", CARTS, andrea_app, {"cartItem": [item("po-home-security")]})
        assert status == 201
        status, anon, _ = api.call("POST", CARTS, {**web, "X-Journey-Key": JOURNEY},
                                   {"relatedParty": [{"id": VISITOR, "role": "visitor"}],
                                    "cartItem": [item("po-broadband-500")],
                                    "context": {"campaignCode": "camp-home-security", "device": "tablet"}})
        assert status == 201 and anon["relatedParty"][0]["id"] == VISITOR
        assert api.call("GET", f"{CARTS}/{anon['id']}", andrea_web)[0] == 404     # not hers yet

        # She logs in on the web: the portal links the visitor to her; the stream hands over.
        assert api.call("POST", f"{CUSTOMER}/customer/{ANDREA}/identityLink", web, {"visitorId": VISITOR})[0] == 201
        pump.drain()
        assert pump.errors == []
        status, baskets, _ = api.call("GET", CARTS, andrea_web)
        assert [b["id"] for b in baskets] == [mine["id"]]                        # merged into the one she had
        assert sorted(i["productOffering"]["id"] for i in baskets[0]["cartItem"]) == [
            "po-broadband-500", "po-home-security"]
        assert api.call("GET", f"{CARTS}/{anon['id']}", web)[0] == 404          # the visitor's basket is gone
        assert baskets[0]["context"]["campaignCode"] == "camp-home-security"
        basket = f"{CARTS}/{mine['id']}"

        # She asks for help from the app: the basket goes to the agents' worklist.
        status, doc, _ = api.call("PATCH", basket, andrea_app, {"status": "withAgent"})
        assert status == 200 and doc["status"] == "withAgent" and "agent" not in doc["context"]
        status, worklist, _ = api.call("GET", f"{CARTS}?status=withAgent", agent)
        assert [b["id"] for b in worklist] == [mine["id"]]

        # The agent takes it over and adds an item in one change; she can only watch.
        status, doc, _ = api.call("PATCH", basket, agent, {"status": "withAgent", "cartItem": [item("po-tv-max")]})
        assert status == 200 and doc["context"]["agent"]["id"] == "agent-007"
        assert doc["context"]["currentChannel"] == "callcenter"
        status, error, _ = api.call("PATCH", basket, andrea_web, {"cartItem": [item("po-phone-x")]})
        assert status == 409 and error["code"] == "withAgent"
        other_agent = headers("agent", channel="callcenter", sub="agent-008")
        assert api.call("PATCH", basket, other_agent, {"cartItem": [item("po-phone-x")]})[1]["code"] == "notYourBasket"

        # The agent hands it back for approval; she sees the agent's change on the web and approves.
        status, doc, _ = api.call("PATCH", basket, agent, {"status": "awaitingApproval"})
        assert status == 200, doc
        status, seen, _ = api.call("GET", basket, andrea_web)
        assert seen["status"] == "awaitingApproval"
        installed(ANDREA, *[i["productOffering"]["id"] for i in seen["cartItem"]])   # the engineers' visits
        assert "po-tv-max" in [i["productOffering"]["id"] for i in seen["cartItem"]]
        assert seen["context"]["changes"][-2]["by"] == {"id": "agent-007", "role": "agent", "channel": "callcenter"}
        status, doc, _ = api.call("PATCH", basket, andrea_web, {"status": "approved"})
        assert status == 200 and doc["status"] == "approved" and doc["qualificationResult"] == "qualified"
        pump.drain()
        # Approval places the order; its child orders then go to the stacks' adapters, which have
        # no stack to talk to in-process (fulfilment is tested in tests/ordering and the journeys).
        assert [e for e in pump.errors if not e[0].startswith("stack-")] == []
        events = listener.event_types()

    # Approval submits the order (issue 5), so the journey ends with the basket ordered.
    assert reasons_about(mine["id"]) == ["basket handed to an agent", "an agent took over the basket",
                                         "agent handed the basket back for approval", "basket approved by the customer",
                                         "basket ordered"]
    took_over = [i for i in customer_store.interactions(customer_store.customer_pk(ANDREA))
                 if i["reason"] == "an agent took over the basket"][0]
    assert {"id": "agent-007", "role": "agent"}.items() <= took_over["relatedParty"][-1].items()
    assert took_over["channel"] == [{"id": "callcenter", "name": "callcenter"}]
    assert took_over["journeyKey"] == JOURNEY          # the visitor's journey and campaign came along at login
    assert "ShoppingCartCreateEvent" in events and "ShoppingCartStateChangeEvent" in events
    assert "ShoppingCartDeleteEvent" in events          # the merged visitor basket
    _, view, _ = api.call("GET", f"{CUSTOMER}/customer/{ANDREA}/view360", andrea_web)
    # Approved means ordered: the basket has left the open baskets and its order is in flight.
    assert view["openBaskets"] == [] and len(view["ordersInFlight"]) == 1


def test_stream_redelivery_and_repeated_hand_over_have_one_effect(api, web, headers, demo, pump):
    andrea = headers("customer", channel="web", customerId=ANDREA, sub=ANDREA)
    _, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")]})
    api.call("PATCH", f"{CARTS}/{doc['id']}", andrea, {"status": "withAgent"})
    records = stream_records("basket")
    function = resources.function("basket-events")
    for _ in range(2):
        assert basket_events.handler({"Records": records}, lambdas.context_for(function)) == {"batchItemFailures": []}
    pump.drain()
    assert pump.errors == []
    assert reasons_about(doc["id"]) == ["basket handed to an agent"]
    # the login hand-over step run again (a redelivered customer record) changes nothing
    _, anon, _ = api.call("POST", CARTS, web, {"relatedParty": [{"id": VISITOR, "role": "visitor"}],
                                               "cartItem": [item("po-phone-x")]})
    assert service.adopt_visitor_baskets(VISITOR, ANDREA) == 1
    before = stored_items("basket")
    assert service.adopt_visitor_baskets(VISITOR, ANDREA) == 0
    assert stored_items("basket") == before
