"""A logged-in customer's offering lists and searches show her market segment's offerings and
everyone's, never another segment's (issue 15: visibility before ranking, segment included;
issue 13: business-only offers). An anonymous visitor's channel and agents see every segment.
Segments come from the customer's record (customer.domain.segment: an organisation is business)."""
import json

import pytest

from tests.catalog.test_search import counts, get  # noqa: F401


@pytest.fixture
def customers(demo):
    from chalicelib.customer import demo as customer_demo

    customer_demo.load()


@pytest.fixture
def andrea(token):
    return {"Authorization": f"Bearer {token('customer', channel='web', customerId='cust-andrea', sub='andrea')}"}


@pytest.fixture
def raj(token):
    claims = {"channel": "web", "customerId": "cust-acme", "sub": "raj", "partyId": "party-acme-raj"}
    return {"Authorization": f"Bearer {token('customer', **claims)}"}


def _ids(client, query, who):
    status, body, _ = get(client, query, who)
    assert status == 200, body
    return {o["id"] for o in (body["items"] if isinstance(body, dict) else body)}


def test_each_customer_lists_her_segments_offerings_and_a_visitor_every_one(client, customers, web, andrea, raj):
    everyone = _ids(client, "fields=id", web)
    assert "po-business-mobile" in everyone and "po-broadband-500" in everyone
    residential = _ids(client, "fields=id", andrea)
    assert "po-business-mobile" not in residential and "po-broadband-500" in residential
    business = _ids(client, "fields=id", raj)
    assert "po-business-mobile" in business and "po-broadband-500" not in business
    assert residential | business == everyone and not residential & business   # each offering names its segment


def test_search_and_facets_count_only_her_segment(client, customers, web, andrea, raj):
    assert "po-business-mobile" in _ids(client, "q=mobile", web)
    assert "po-business-mobile" not in _ids(client, "q=mobile", andrea) and _ids(client, "q=mobile", andrea)
    assert "po-business-mobile" in _ids(client, "q=mobile", raj)
    _, body, _ = get(client, "facets=category", andrea)
    _, visitor, _ = get(client, "facets=category", web)
    assert counts(body["facets"], "category")["cat-mobile"] == counts(visitor["facets"], "category")["cat-mobile"] - 1
    assert "po-business-mobile" not in {o["id"] for o in body["items"]}


# --- business prices in the price-range facet (issue 13) -------------------------------------------
SHARED = "Zephyr Shared Plan"


@pytest.fixture
def shared_plan(client, admin, demo):
    """An offering for every segment: 25 EUR/month for everyone, 15 EUR/month for business customers
    (a segment price, as pricing.prices_for chooses it for baskets)."""
    from chalicelib.catalog import store
    from tests.catalog.test_api import post

    def price(value, **extra):
        r = post(client, "productOfferingPrice", {"name": f"{SHARED} {value}", "priceType": "recurring",
                                                  "price": {"unit": "EUR", "value": value}, "lifecycleStatus": "active",
                                                  "recurringChargePeriodType": "month", **extra}, admin)
        assert r.status_code == 201, r.body
        return {"id": json.loads(r.body)["id"]}

    prices = [price(25), price(15, marketSegment=[{"id": "business", "name": "Business"}])]
    r = post(client, "productOffering", {"name": SHARED, "lifecycleStatus": "active", "productOfferingPrice": prices,
                                         "channel": [{"id": "web"}]}, admin)
    assert r.status_code == 201, r.body
    store.cache.clear()
    return json.loads(r.body)["id"]


def _bands(client, query, who):
    status, body, _ = get(client, query, who)
    assert status == 200, body
    return counts(body["facets"], "priceRange")


def test_a_business_customer_sees_the_business_price_range_and_a_consumer_does_not(
        client, customers, web, andrea, raj, shared_plan):
    query = "q=zephyr+shared&facets=priceRange"
    assert _bands(client, query, raj) == {"10-20": 1}          # 15 EUR/month: the business price
    assert _bands(client, query, andrea) == {"20-50": 1}       # 25 EUR/month: the general price
    assert _bands(client, query, web) == {"20-50": 1}          # an anonymous visitor: general prices
    # each band's filter narrows to the same offerings for the same searcher
    assert [o["id"] for o in get(client, "q=zephyr+shared&priceRange=10-20", raj)[1]] == [shared_plan]
    assert get(client, "q=zephyr+shared&priceRange=10-20", andrea)[1] == []
    assert [o["id"] for o in get(client, "q=zephyr+shared&priceRange=20-50", andrea)[1]] == [shared_plan]


def test_an_agent_searching_for_a_customer_sees_that_customers_prices(client, customers, agent, shared_plan):
    query = "q=zephyr+shared&facets=priceRange"
    assert _bands(client, query, agent) == {"20-50": 1}                          # for no one: general
    assert _bands(client, f"{query}&customer=cust-acme", agent) == {"10-20": 1}
    assert _bands(client, f"{query}&customer=cust-andrea", agent) == {"20-50": 1}
    status, body, _ = get(client, f"{query}&customer=cust-nobody", agent)
    assert status == 404 and body["@type"] == "Error", body


def test_only_an_agent_names_the_customer_it_searches_for(client, customers, web, andrea, raj, shared_plan):
    query = "q=zephyr+shared&facets=priceRange"
    status, body, _ = get(client, f"{query}&customer=cust-acme", web)
    assert status == 403 and body["@type"] == "Error", body
    status, body, _ = get(client, "customer=cust-acme", web)                     # no search: refused alike
    assert status == 403, body
    status, body, _ = get(client, f"{query}&customer=cust-acme", andrea)         # not hers: as unknown
    assert status == 404, body
    assert _bands(client, f"{query}&customer=cust-acme", raj) == {"10-20": 1}    # her own: as without it
