"""Business customers (issue 13 part 3): an organisation acts through its contacts, each with roles
(buyer, approver, technicalContact, contact) that decide what its token may do; a contact of a
parent organisation acts for the children; contacts, parent and sites are the organisation's,
set by agents (contacts, parent) and validated."""
from __future__ import annotations

import pytest

from tests.customer.conftest import BASE, PI

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CART = "/tmf-api/shoppingCart/v4/shoppingCart"


def _person(pid, name, role):
    return {"id": pid, "name": name, "role": role, "@referredType": "Individual"}


def org_body(oid, **extra):
    return {"name": f"{oid} Ltd", "engagedParty": {"id": f"party-{oid}", "@referredType": "Organization"},
            "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": f"it@{oid}.example.com"}}],
            "relatedParty": [_person(f"{oid}-buyer", "Bea Buyer", "buyer"),
                             _person(f"{oid}-approver", "Al Approver", "approver"),
                             _person(f"{oid}-tech", "Tess Tech", "technicalContact"),
                             _person(f"{oid}-contact", "Cy Contact", "contact")],
            "site": [{"id": "hq", "name": "Head office", "postCode": "BS1 4DJ", "city": "Bristol"},
                     {"id": "depot", "name": "Depot", "postCode": "BA1 1AA", "city": "Bath"}],
            **extra}


@pytest.fixture
def orgs(aws, api, agent, monkeypatch):
    """org-a (a group), org-a-east (its subsidiary) and org-b, made by an agent."""
    monkeypatch.setenv("OMNISHOP_CONTACT_CACHE_SECONDS", "0")
    created = {}
    for name, extra in (("org-a", {}), ("org-b", {}),
                        ("org-a-east", {"relatedParty": [_person("org-a-east-buyer", "Eve East", "buyer")]})):
        body = org_body(name, **extra)
        if name == "org-a-east":
            body["relatedParty"].append({"id": created["org-a"], "role": "parentOrganization",
                                         "@referredType": "Customer"})
        status, doc, _ = api.call("POST", f"{BASE}/customer", agent, body)
        assert status == 201, doc
        created[name] = doc["id"]
    return created


@pytest.fixture
def contact(token):
    def headers(customer_id, party_id=None):
        claims = {"channel": "web", "customerId": customer_id, "sub": f"user-{party_id or customer_id}"}
        if party_id is not None:
            claims["partyId"] = party_id
        return {"Authorization": f"Bearer {token('customer', **claims)}", "Content-Type": "application/json"}
    return headers


def _interaction(customer_id):
    return {"reason": "asked about a leased line", "direction": "inbound", "channel": [{"id": "web"}],
            "relatedParty": [{"id": customer_id, "role": "customer"}]}


def test_each_contact_role_may_do_what_it_grants_and_nothing_more(api, orgs, contact):
    org = orgs["org-a"]
    buyer, approver, tech, plain = (contact(org, f"org-a-{r}") for r in ("buyer", "approver", "tech", "contact"))

    for who in (buyer, approver, tech, plain):                        # every contact reads
        assert api.call("GET", f"{BASE}/customer/{org}", who)[0] == 200
    assert api.call("POST", f"{PI}/partyInteraction", buyer, _interaction(org))[0] == 201       # buy
    assert api.call("POST", f"{PI}/partyInteraction", tech, _interaction(org))[0] == 201        # buy

    status, body, _ = api.call("POST", f"{PI}/partyInteraction", approver, _interaction(org))
    assert (status, body["code"]) == (403, "contactRoleRequired") and "buyer" in body["message"]
    status, body, _ = api.call("POST", f"{PI}/partyInteraction", plain, _interaction(org))
    assert (status, body["code"]) == (403, "contactRoleRequired")

    # ordering: the buyer and the approver get past the contact check (then the empty body is a 400)
    assert api.call("POST", ORDERS, buyer, {})[0] == 400
    assert api.call("POST", ORDERS, approver, {})[0] == 400
    for who in (tech, plain):
        status, body, _ = api.call("POST", ORDERS, who, {})
        assert (status, body["code"]) == (403, "contactRoleRequired")

    # managing the organisation's own record (its sites): the approver only
    sites = {"site": [{"id": "hq", "name": "Head office (new)"}]}
    assert api.call("PATCH", f"{BASE}/customer/{org}", approver, sites)[0] == 200
    for who in (buyer, tech, plain):
        assert api.call("PATCH", f"{BASE}/customer/{org}", who, sites)[1]["code"] == "contactRoleRequired"


def test_a_token_for_an_organisation_must_name_one_of_its_contacts(api, orgs, contact):
    org = orgs["org-a"]
    status, body, _ = api.call("GET", f"{BASE}/customer/{org}", contact(org))
    assert (status, body["code"]) == (403, "contactRequired")
    status, body, _ = api.call("GET", f"{BASE}/customer/{org}", contact(org, "org-b-buyer"))   # another org's buyer
    assert (status, body["code"]) == (403, "notAContact")
    status, body, _ = api.call("GET", f"{BASE}/customer/{org}", contact(org, "stranger"))
    assert (status, body["code"]) == (403, "notAContact")


def test_another_organisations_buyer_sees_nothing_of_this_one(api, orgs, contact):
    mine = contact(orgs["org-b"], "org-b-buyer")
    assert api.call("GET", f"{BASE}/customer/{orgs['org-a']}", mine)[0] in (403, 404)
    status, found, _ = api.call("GET", f"{BASE}/customer", mine)
    assert status == 200 and [c["id"] for c in found] == [orgs["org-b"]]


def test_a_contact_of_the_parent_acts_for_the_subsidiary_not_the_other_way(api, orgs, contact):
    east, group = orgs["org-a-east"], orgs["org-a"]
    assert api.call("POST", f"{PI}/partyInteraction", contact(east, "org-a-buyer"), _interaction(east))[0] == 201
    assert api.call("POST", f"{PI}/partyInteraction", contact(east, "org-a-east-buyer"), _interaction(east))[0] == 201
    status, body, _ = api.call("GET", f"{BASE}/customer/{group}", contact(group, "org-a-east-buyer"))
    assert (status, body["code"]) == (403, "notAContact")
    # the parent's technical contact is still only a technical contact in the subsidiary
    assert api.call("POST", ORDERS, contact(east, "org-a-tech"), {})[1]["code"] == "contactRoleRequired"


def test_a_contact_an_agent_removes_loses_its_rights(api, orgs, contact, agent):
    org = orgs["org-a"]
    buyer = contact(org, "org-a-buyer")
    assert api.call("GET", f"{BASE}/customer/{org}", buyer)[0] == 200
    status, current, _ = api.call("GET", f"{BASE}/customer/{org}", agent)
    kept = [p for p in current["relatedParty"] if p["id"] != "org-a-buyer"]
    assert api.call("PATCH", f"{BASE}/customer/{org}", agent, {"relatedParty": kept})[0] == 200
    status, body, _ = api.call("GET", f"{BASE}/customer/{org}", buyer)
    assert (status, body["code"]) == (403, "notAContact")


def test_no_contact_can_grant_itself_or_others_a_role(api, orgs, contact):
    org = orgs["org-a"]
    approver = contact(org, "org-a-approver")
    promoted = [_person("org-a-contact", "Cy Contact", "buyer"), _person("org-a-approver", "Al", "buyer")]
    status, body, _ = api.call("PATCH", f"{BASE}/customer/{org}", approver, {"relatedParty": promoted})
    assert status == 403 and "relatedParty" in body["message"]
    # nothing changed: the plain contact still cannot buy
    status, body, _ = api.call("POST", f"{PI}/partyInteraction", contact(org, "org-a-contact"), _interaction(org))
    assert (status, body["code"]) == (403, "contactRoleRequired")


def test_an_individual_customer_is_unaffected_and_names_no_contact(api, agent, contact, aws):
    from tests.customer.conftest import andrea_body

    status, andrea, _ = api.call("POST", f"{BASE}/customer", agent, andrea_body())
    assert status == 201
    assert api.call("GET", f"{BASE}/customer/{andrea['id']}", contact(andrea["id"]))[0] == 200
    status, body, _ = api.call("GET", f"{BASE}/customer/{andrea['id']}", contact(andrea["id"], "someone"))
    assert (status, body["code"]) == (403, "notAnOrganisation")


@pytest.mark.parametrize("change, code", [
    ({"engagedParty": {"id": "p", "@referredType": "Individual"}}, "notAnOrganisation"),   # sites on a person
    ({"site": [{"id": "hq", "name": "A"}, {"id": "hq", "name": "B"}]}, "duplicateSite"),
    ({"site": [{"id": "has space", "name": "A"}]}, "invalidInput"),
    ({"relatedParty": [{"name": "No id", "role": "buyer"}]}, "invalidInput"),
    ({"relatedParty": [{"id": "p1", "role": "parentOrganization"}, {"id": "p2", "role": "parentOrganization"}]},
     "hierarchyCycle"),
])
def test_organisation_data_that_cannot_be_right_is_a_400(api, agent, aws, change, code):
    status, body, _ = api.call("POST", f"{BASE}/customer", agent, {**org_body("org-x"), **change})
    assert (status, body["code"]) == (400, code), body


def test_an_organisation_is_not_its_own_parent_and_a_parent_cycle_ends(api, agent, orgs, contact):
    a, east = orgs["org-a"], orgs["org-a-east"]
    parent = {"role": "parentOrganization", "@referredType": "Customer"}
    _, current, _ = api.call("GET", f"{BASE}/customer/{a}", agent)
    status, body, _ = api.call("PATCH", f"{BASE}/customer/{a}", agent,
                               {"relatedParty": [*current["relatedParty"], {**parent, "id": a}]})
    assert (status, body["code"]) == (400, "hierarchyCycle")
    # a cycle through two organisations is the operator's data error: the walk still ends
    assert api.call("PATCH", f"{BASE}/customer/{a}", agent,
                    {"relatedParty": [*current["relatedParty"], {**parent, "id": east}]})[0] == 200
    status, body, _ = api.call("GET", f"{BASE}/customer/{a}", contact(a, "stranger"))
    assert (status, body["code"]) == (403, "notAContact")
    assert api.call("GET", f"{BASE}/customer/{a}", contact(a, "org-a-east-buyer"))[0] == 200


def test_only_a_customer_token_names_a_contact(token):
    from chalicelib import auth
    from chalicelib.errors import Unauthorized

    with pytest.raises(Unauthorized):
        auth.caller_from_claims({"sub": "a", "role": "agent", "channel": "callcenter", "partyId": "p"})
    caller = auth.caller_from_claims({"sub": "a", "role": "customer", "channel": "web", "customerId": "c",
                                      "partyId": "p"})
    assert caller.party_id == "p"


def test_an_organisations_service_messages_go_to_its_technical_contact_marketing_to_itself():
    import datetime as dt

    from chalicelib.customer import domain
    from chalicelib.notify import domain as notify

    org = org_body("org-m", contactPreference={"consent": {"email": {"service": True, "marketing": True}}})
    org["relatedParty"][2]["contactMedium"] = [{"mediumType": "email",
                                                "characteristic": {"emailAddress": "tess@org-m.example.com"}}]
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
    service = notify.MessageRequest(customer_id="org-m", purpose="service", content={"email": "Your order shipped"})
    marketing = notify.MessageRequest(customer_id="org-m", purpose="marketing", content={"email": "New offers"})
    assert notify.plan(service, org, now).address == "tess@org-m.example.com"
    assert notify.plan(marketing, org, now).address == "it@org-m.example.com"
    # no technical contact reachable by email: the organisation's own address
    org["relatedParty"][2]["contactMedium"] = []
    assert domain.contact_address(org, "email", "service") == "it@org-m.example.com"
    person = {"engagedParty": {"@referredType": "Individual"}, "relatedParty": org["relatedParty"],
              "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "me@example.com"}}]}
    assert domain.contact_address(person, "email", "service") == "me@example.com"


def test_a_container_remembers_a_bounded_number_of_customers(monkeypatch):
    from chalicelib.customer import contacts

    monkeypatch.setenv("OMNISHOP_CONTACT_CACHE_SECONDS", "30")
    monkeypatch.setattr(contacts, "MAX_CACHED", 3)
    monkeypatch.setattr(contacts, "_read", lambda cid: contacts.Organisation(cid, False, {}, None))
    contacts.forget()
    for n in range(10):
        contacts.organisation(f"c{n}")
        assert len(contacts._cache) <= 3
    contacts.forget()
