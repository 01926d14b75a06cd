"""A business order splits by stack and by the customer's site each item is for; a site the
customer does not have is a 422 before anything is written (issue 13 part 3)."""
from __future__ import annotations

import pytest

from chalicelib.customer import domain as customer_domain
from chalicelib.errors import Unprocessable
from chalicelib.ordering import domain


def _item(iid, site=None):
    product = {"place": [{"id": site, "role": "site"}]} if site else {}
    return {"id": iid, "action": "add", "product": product}


def _part(iid, stack, spec, site=None):
    return domain.Part(iid, iid, spec, stack, _item(iid, site))


def test_children_are_one_per_stack_and_site():
    parts = [_part("1", "broadband", "spec-fibre", "hq"), _part("2", "broadband", "spec-fibre", "depot"),
             _part("3", "broadband", "spec-fibre", "hq"), _part("4", "mobile", "spec-sim", "hq"),
             _part("5", "mobile", "spec-sim")]
    plans = domain.decompose(parts, domain.Routing((), ()))
    assert {(p.stack, p.site, tuple(x.item_id for x in p.parts)) for p in plans} == {
        ("broadband", "hq", ("1", "3")), ("broadband", "depot", ("2",)), ("mobile", "hq", ("4",)),
        ("mobile", None, ("5",))}
    child = domain.child_order({"id": "o1", "href": "/o1"}, next(p for p in plans if p.site == "depot"),
                               "c1", "/c1", "2026-12-01T00:00:00Z", [])
    assert child["description"].endswith("for site depot")
    assert child["productOrderItem"][0]["product"]["place"] == [{"id": "depot", "role": "site"}]


def test_a_dependency_waits_for_its_own_site():
    routing = domain.Routing((), ({"specification": "spec-sim", "after": "spec-handset", "reason": "after the phone"},))
    parts = [_part("1", "devices", "spec-handset", "hq"), _part("2", "devices", "spec-handset", "depot"),
             _part("3", "mobile", "spec-sim", "hq"), _part("4", "mobile", "spec-sim", "depot")]
    plans = {p.key: p for p in domain.decompose(parts, routing)}
    assert plans["mobile@hq~after~spec-handset"].depends_on == ["devices@hq"]
    assert plans["mobile@depot~after~spec-handset"].depends_on == ["devices@depot"]


def test_only_the_customers_own_sites():
    org = {"site": [{"id": "hq", "name": "Head office"}]}
    customer_domain.check_sites([_item("1", "hq"), _item("2")], org, "productOrderItem")
    with pytest.raises(Unprocessable) as refused:
        customer_domain.check_sites([_item("1", "hq"), _item("2", "elsewhere")], org, "productOrderItem")
    assert refused.value.code == "unknownSite" and "productOrderItem.1" in refused.value.message
    with pytest.raises(Unprocessable):
        customer_domain.check_sites([_item("1", "hq")], {"name": "a person"}, "productOrderItem")


ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


def _site_item(iid, offering, site):
    return {"id": iid, "action": "add", "productOffering": {"id": offering},
            "product": {"place": [{"id": site, "role": "site"}]}}


def test_acmes_buyer_orders_for_two_sites_and_gets_a_child_order_per_site(api, demo, headers, agent, stacks, pump,
                                                                          business_mobile):
    from tests.support.orders import settle
    from tests.support.stored import stored_items

    raj = headers("customer", channel="web", customerId="cust-acme", sub="raj", partyId="party-acme-raj")
    tom = headers("customer", channel="web", customerId="cust-acme", sub="tom", partyId="party-acme-tom")
    body = {"productOrderItem": [_site_item("1", business_mobile, "acme-bristol"),
                                 _site_item("2", business_mobile, "acme-bath"),
                                 _site_item("3", business_mobile, "acme-bristol")]}
    before = len(stored_items("order"))
    status, refused, _ = api.call("POST", ORDERS, raj, {"productOrderItem": [
        _site_item("1", business_mobile, "acme-bristol"), _site_item("2", business_mobile, "acme-leeds")]})
    assert (status, refused["code"]) == (422, "unknownSite") and "acme-leeds" in refused["message"]
    status, refused, _ = api.call("POST", ORDERS, tom, body)          # a technical contact does not order
    assert (status, refused["code"]) == (403, "contactRoleRequired")
    assert len(stored_items("order")) == before

    status, order, _ = api.call("POST", ORDERS, raj, body)
    assert status == 201, order
    assert {"id": "party-acme-raj", "role": "orderedBy", "@referredType": "Individual"} in order["relatedParty"]
    done = settle(pump, order["id"])
    assert done["state"] == "completed"
    children = [api.call("GET", f"{ORDERS}/{r['id']}", agent)[1] for r in done["orderRelationship"]
                if r["relationshipType"] == "child"]
    by_site = {c["description"].rsplit(" ", 1)[-1]: sorted(i["id"] for i in c["productOrderItem"]) for c in children}
    assert by_site == {"acme-bristol": ["1", "3"], "acme-bath": ["2"]}


@pytest.fixture
def business_mobile(demo):
    """The demo's business-only offering (marketSegment business): Acme qualifies, Andrea does not."""
    return "po-business-mobile"


def test_a_business_only_offering_is_not_sold_to_a_residential_customer(api, andrea, business_mobile):
    body = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": business_mobile}}],
            "relatedParty": [{"id": "cust-andrea", "role": "customer"}]}
    status, refused, _ = api.call("POST", ORDERS, andrea, body)
    assert (status, refused["code"]) == (422, "notQualified") and "business" in refused["message"]


def test_a_child_order_holds_at_most_a_page_of_items_and_what_waits_waits_for_every_part():
    """1,000 lines for one stack at one site arrive at the stack as ten child orders of 100 (each
    one record, chalicelib/pages.py); a child that waited for them waits for all ten."""
    routing = domain.Routing((), ({"specification": "spec-sim", "after": "spec-handset", "reason": "after the phone"},))
    parts = [_part(f"h{n}", "devices", "spec-handset", "hq") for n in range(250)] + \
        [_part("s1", "mobile", "spec-sim", "hq")]
    plans = {p.key: p for p in domain.decompose(parts, routing)}
    assert sorted((k, len(p.parts)) for k, p in plans.items()) == [
        ("devices@hq", 100), ("devices@hq#2", 100), ("devices@hq#3", 50), ("mobile@hq~after~spec-handset", 1)]
    assert [x.item_id for k in ("devices@hq", "devices@hq#2", "devices@hq#3") for x in plans[k].parts] == \
        [f"h{n}" for n in range(250)]
    assert plans["mobile@hq~after~spec-handset"].depends_on == ["devices@hq", "devices@hq#2", "devices@hq#3"]
    assert domain.waves(list(plans.values())) == [["devices@hq", "devices@hq#2", "devices@hq#3"],
                                                   ["mobile@hq~after~spec-handset"]]
    from chalicelib import pages
    assert domain.CHILD_MAX_ITEMS == pages.PER_PAGE   # a child order is never paged
