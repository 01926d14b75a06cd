"""Anonymous visitor -> known customer: whatever the visitor did becomes the customer's, through
the customer table's stream (real records, delivered by the pump)."""
import pytest

from chalicelib.customer import identity, store
from tests.customer.conftest import BASE, PI

ANDREA = "cust-andrea"
VISITOR = "visitor-3f9a"


@pytest.fixture
def web(token):
    return {"Authorization": f"Bearer {token('channel', channel='web', sub='portal')}", "Content-Type": "application/json"}


def visit(api, web, reason, journey="jrn-anon-1"):
    status, doc, _ = api.call("POST", f"{PI}/partyInteraction", {**web, "X-Journey-Key": journey},
                              {"reason": reason, "direction": "inbound",
                               "relatedParty": [{"id": VISITOR, "role": "visitor"}]})
    assert status == 201
    return doc


def reasons(api, headers, query=""):
    _, items, _ = api.call("GET", f"{PI}/partyInteraction{query}", headers)
    return [i["reason"] for i in items]


def test_visitor_history_becomes_the_customers(api, web, agent, as_customer, demo, pump):
    first = visit(api, web, "browsed Home Security")
    visit(api, web, "compared alarm kits")
    andrea = as_customer(ANDREA)
    assert api.call("GET", f"{PI}/partyInteraction/{first['id']}", andrea)[0] == 404  # not hers yet
    assert len(store.interactions(store.visitor_pk(VISITOR))) == 2

    status, link, _ = api.call("POST", f"{BASE}/customer/{ANDREA}/identityLink", web, {"visitorId": VISITOR})
    assert status == 201 and link["customerId"] == ANDREA and link["linkedBy"] == {"id": "portal", "role": "channel",
                                                                                   "channel": "web"}
    pump.drain()
    assert pump.errors == []
    assert store.interactions(store.visitor_pk(VISITOR)) == []
    status, moved, _ = api.call("GET", f"{PI}/partyInteraction/{first['id']}", andrea)
    assert status == 200 and {"id": ANDREA, "role": "customer"}.items() <= moved["relatedParty"][-1].items()
    mine = reasons(api, andrea)
    assert {"browsed Home Security", "compared alarm kits", "visitor identified as a customer"} <= set(mine)
    _, view, _ = api.call("GET", f"{BASE}/customer/{ANDREA}/view360", andrea)
    assert view["interactions"][0]["reason"] == "visitor identified as a customer"

    # later touches under the visitor id go straight to Andrea
    later = visit(api, web, "came back from the email link")
    assert api.call("GET", f"{PI}/partyInteraction/{later['id']}", andrea)[0] == 200

    # linking again is harmless; another customer cannot claim the visitor
    assert api.call("POST", f"{BASE}/customer/{ANDREA}/identityLink", web, {"visitorId": VISITOR})[0] == 200
    status, error, _ = api.call("POST", f"{BASE}/customer/cust-stacy/identityLink", web, {"visitorId": VISITOR})
    assert status == 409 and error["code"] == "visitorLinked"


def test_hand_over_is_safe_to_repeat(api, web, demo, pump):
    visit(api, web, "browsed")
    identity.link(VISITOR, ANDREA, {"id": "portal", "role": "channel"})
    pump.drain()
    before = store.interactions(store.customer_pk(ANDREA))
    identity.hand_over(VISITOR, ANDREA)  # a redelivered record runs it again
    assert store.interactions(store.customer_pk(ANDREA)) == before


def test_bad_identity_links(api, web, as_customer, demo):
    for body in ({}, {"visitorId": ""}, {"visitorId": "has space"}, {"visitorId": "x" * 200}):
        status, error, _ = api.call("POST", f"{BASE}/customer/{ANDREA}/identityLink", web, body)
        assert status == 400 and error["@type"] == "Error", body
    # a customer token cannot claim a visitor id (it could take someone else's history)
    assert api.call("POST", f"{BASE}/customer/{ANDREA}/identityLink", as_customer(ANDREA), {"visitorId": VISITOR})[0] == 403
    assert store.load_link(VISITOR) is None
