"""Business prices through segments in the catalogue (issue 13): a price the catalogue admin
creates for the business segment is what a business customer's quotes and baskets are priced at;
a residential customer and an anonymous visitor keep the general price, and a bad segment list is
a 400 with nothing written."""
import pytest

from tests.quote.conftest import ACME, ANDREA, QUOTES, new_quote, total, valid
from tests.support.names import CARTS

PC = "/tmf-api/productCatalogManagement/v4"
OFFERING = "po-mobile-unlimited"    # 25 EUR/month for everyone in the demo catalogue


@pytest.fixture
def business_price(api, admin, demo):
    """A 20 EUR/month business price beside the general 25 EUR one."""
    from chalicelib.catalog import store as catalog_store

    pop = {"name": "Mobile Unlimited, business", "priceType": "recurring", "price": {"unit": "EUR", "value": 20},
           "recurringChargePeriodType": "month", "recurringChargePeriodLength": 1, "lifecycleStatus": "active",
           "marketSegment": [{"id": "business", "name": "Business"}]}
    status, created, _ = api.call("POST", f"{PC}/productOfferingPrice", admin, pop)
    assert status == 201, created
    assert created["marketSegment"] == [{"id": "business", "name": "Business"}]
    _, offering, _ = api.call("GET", f"{PC}/productOffering/{OFFERING}", admin)
    refs = [*offering["productOfferingPrice"], {"id": created["id"]}]
    status, body, _ = api.call("PATCH", f"{PC}/productOffering/{OFFERING}", admin, {"productOfferingPrice": refs})
    assert status == 200, body
    catalog_store.cache.clear()
    return created


def _charged(doc, key):
    """The recurring price ids of each line of a quote (quoteItem) or basket (cartItem)."""
    return [sorted(p["productOfferingPrice"]["id"] for p in line.get("quoteItemPrice", line.get("itemPrice", []))
                   if p["priceType"] == "recurring") for line in doc[key]]


def test_a_business_customer_is_quoted_the_business_price_and_a_residential_one_the_general(
        api, agent, business_price):
    status, business, _ = api.call("POST", QUOTES, agent, new_quote((OFFERING, 3), customer=ACME))
    assert status == 201, business
    assert valid(business) and total(business) == 60                                 # 3 x 20, not 3 x 25
    status, residential, _ = api.call("POST", QUOTES, agent, new_quote((OFFERING, 3), customer=ANDREA))
    assert status == 201, residential
    assert valid(residential) and total(residential) == 75                           # 3 x 25


def test_baskets_are_priced_for_the_segment_of_who_buys(api, headers, andrea, business_price):
    acme_buyer = headers("customer", channel="web", customerId=ACME, sub="raj", partyId="party-acme-raj")
    web = headers("channel", channel="web", sub="portal")
    line = {"cartItem": [{"productOffering": {"id": OFFERING}, "quantity": 2}]}
    priced = {}
    for who, caller in (("business", acme_buyer), ("residential", andrea), ("visitor", web)):
        status, cart, _ = api.call("POST", CARTS, caller, line)
        assert status == 201, (who, cart)
        [item] = cart["cartItem"]
        recurring = [p for p in item["itemPrice"] if p["priceType"] == "recurring"]
        assert len(recurring) == 1, (who, recurring)                                   # replaced, never both
        priced[who] = (recurring[0]["productOfferingPrice"]["id"],
                       recurring[0]["price"]["taxIncludedAmount"]["value"])
    assert priced["business"] == (business_price["id"], 20)
    assert priced["residential"][1] == priced["visitor"][1] == 25
    assert business_price["id"] not in (priced["residential"][0], priced["visitor"][0])


@pytest.mark.parametrize("segments", ["business", [{"name": 5}], [{"id": ""}], {"id": "business"}])
def test_a_bad_segment_list_on_a_price_is_a_400_and_nothing_is_written(api, admin, demo, segments):
    pop = {"name": "Broken", "priceType": "recurring", "price": {"unit": "EUR", "value": 1},
           "recurringChargePeriodType": "month", "marketSegment": segments}
    status, body, _ = api.call("POST", f"{PC}/productOfferingPrice", admin, pop)
    assert status == 400 and body["@type"] == "Error", body
    status, listed, _ = api.call("GET", f"{PC}/productOfferingPrice?name=Broken", admin)
    assert status == 200 and listed == [], listed
