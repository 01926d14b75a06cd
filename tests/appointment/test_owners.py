"""Who reads which appointment resource: a searchTimeSlot (it names a place: a postcode) and an
appointment answer only to their owner, or to the roles chalicelib/access.py lets read them all
(agents). Another customer, or a channel, gets 404 as for one that does not exist (never a 403 that
confirms it exists); a role the table does not list gets 403 whatever the id; no token is 401."""
import pytest

from tests.appointment.conftest import APPOINTMENTS, SEARCH, book, free_slots, valid

PLACE = {"relatedPlace": {"id": "BS8 1TH", "role": "installationAddress"}}
ANDREA = {"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}


@pytest.fixture
def raj(headers):
    return headers("customer", channel="web", customerId="cust-acme", sub="raj", partyId="party-acme-raj")


@pytest.fixture
def app_channel(headers):
    return headers("channel", channel="app", sub="app-backend")


def _search(api, who, body):
    status, doc, _ = api.call("POST", SEARCH, who, body)
    assert status == 201, doc
    return doc


def _read(api, who, sid):
    status, doc, _ = api.call("GET", f"{SEARCH}/{sid}", who)
    if status != 401:
        assert valid(doc, "SearchTimeSlot" if status == 200 else "Error")
    return status, doc


def test_her_search_answers_to_her_and_agents_only(api, demo, andrea, agent, raj, web, headers):
    hers = _search(api, andrea, {})
    assert hers["relatedPlace"]["id"] == "BS1 4DJ"
    assert _read(api, andrea, hers["id"]) == (200, hers)
    assert _read(api, agent, hers["id"]) == (200, hers)
    for enemy in (raj, web):                        # another customer; a channel, even hers (web)
        status, error = _read(api, enemy, hers["id"])
        assert status == 404 and "BS1" not in str(error), error
    stack = headers("stack", sub="csp-stack-a", stack="csp-stack-a")
    assert _read(api, stack, hers["id"])[0] == 403   # a role that reads no search: before any lookup
    assert _read(api, stack, "nope")[0] == 403
    assert _read(api, {"Content-Type": "application/json"}, hers["id"])[0] == 401


def test_an_agents_search_for_her_is_hers_too_and_not_anothers(api, demo, andrea, agent, raj):
    made = _search(api, agent, {"relatedParty": ANDREA})
    assert _read(api, andrea, made["id"])[0] == 200
    assert _read(api, raj, made["id"])[0] == 404
    by_postcode = _search(api, agent, PLACE)        # names no customer: the agent's own
    assert _read(api, agent, by_postcode["id"])[0] == 200
    assert _read(api, andrea, by_postcode["id"])[0] == 404


def test_a_channels_search_answers_to_that_channel_only(api, demo, andrea, web, app_channel, raj):
    visitor = _search(api, web, PLACE)
    assert _read(api, web, visitor["id"]) == (200, visitor)
    for enemy in (app_channel, andrea, raj):        # another channel; customers (not theirs)
        assert _read(api, enemy, visitor["id"])[0] == 404


def test_a_channel_or_customer_cannot_search_for_another_customer(api, demo, web, raj):
    """Naming a customer (even with a postcode) would store a search about her: refused, nothing stored."""
    for who in (web, raj):
        for body in ({"relatedParty": ANDREA}, {"relatedParty": ANDREA, **PLACE}):
            status, error, _ = api.call("POST", SEARCH, who, body)
            assert status == 403 and valid(error, "Error") and "BS1" not in str(error), (body, error)


def test_appointments_answer_to_her_and_agents_only(api, demo, andrea, agent, raj, web, headers):
    slot = free_slots(api, andrea)[0]
    mine = book(api, andrea, slot)
    path = f"{APPOINTMENTS}/{mine['id']}"
    assert api.call("GET", path, agent)[0] == 200
    for method, body in (("GET", None), ("PATCH", {"status": "cancelled"}),
                         ("PATCH", {"validFor": free_slots(api, andrea)[1]["validFor"]})):
        status, error, _ = api.call(method, path, raj, body)
        assert status == 404 and valid(error, "Error") and "BS1" not in str(error), (method, error)
    assert api.call("GET", APPOINTMENTS, raj)[1] == []
    assert api.call("GET", f"{APPOINTMENTS}?relatedParty.id=cust-andrea", raj)[1] == []
    stack = headers("stack", sub="csp-stack-a", stack="csp-stack-a")
    for who in (web, stack):   # roles that read no appointment: 403 before any lookup, same for a missing one
        for target in (path, f"{APPOINTMENTS}/nope", APPOINTMENTS):
            assert api.call("GET", target, who)[0] == 403
        assert api.call("PATCH", path, who, {"status": "cancelled"})[0] == 403
    assert api.call("GET", path, {"Content-Type": "application/json"})[0] == 401
    assert api.call("GET", path, andrea)[1]["status"] == "initialized"
