"""A logged-in customer's offering lists and searches show her market segment's offerings and
everyone's, never another segment's (issue 15: visibility before ranking, segment included;
issue 13: business-only offers). An anonymous visitor's channel and agents see every segment.
Segments come from the customer's record (customer.domain.segment: an organisation is business)."""
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
