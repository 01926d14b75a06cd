"""The recommendation's bundle saving is priced for the customer it recommends to (issue 13):
her market segment's prices (business prices), as her basket would charge them; a residential
customer keeps the general prices."""
from __future__ import annotations

import pytest

from tests.campaign.conftest import make_customer
from tests.support.campaigns import recommend

PC = "/tmf-api/productCatalogManagement/v4"
BUNDLE = "po-extreme-bundle"   # 60 EUR/month; its parts 30 + 20 + 25 = 75 apart: saves 15


@pytest.fixture
def business_prices(api, admin, demo):
    """Business prices for the bundle (50) and one part (Mobile Unlimited, 20): a business customer
    saves 30 + 20 + 20 - 50 = 20 a month. The demo bundle is for residential customers only; here
    it is for every segment, so the central rules let a business customer have it."""
    from chalicelib.catalog import store

    for offering, value in ((BUNDLE, 50), ("po-mobile-unlimited", 20)):
        pop = {"name": f"{offering} business", "priceType": "recurring", "lifecycleStatus": "active",
               "price": {"unit": "EUR", "value": value}, "recurringChargePeriodType": "month",
               "marketSegment": [{"id": "business", "name": "Business"}]}
        status, created, _ = api.call("POST", f"{PC}/productOfferingPrice", admin, pop)
        assert status == 201, created
        _, doc, _ = api.call("GET", f"{PC}/productOffering/{offering}", admin)
        patch = {"productOfferingPrice": [*doc["productOfferingPrice"], {"id": created["id"]}]}
        if offering == BUNDLE:
            patch["marketSegment"] = []
        status, body, _ = api.call("PATCH", f"{PC}/productOffering/{offering}", admin, patch)
        assert status == 200, body
    store.cache.clear()


def _bundle(doc):
    (item,) = [i for i in doc["recommendationItem"] if i["productOffering"]["id"] == BUNDLE]
    return item


def test_a_business_customer_is_shown_the_business_saving_and_a_residential_one_the_general(
        api, agent, business_prices):
    # a sole trader (the bundle's rules: individuals only, an upgrade within 60 days of the contract end)
    make_customer("cust-bizz", segment="business", held=(("po-broadband-500", 30),))
    business = _bundle(recommend(api, agent, customer="cust-bizz"))
    assert business["saving"] == {"value": 20, "unit": "EUR", "recurringChargePeriod": "month"}
    assert "together for 50 EUR/month instead of 70 EUR/month (save 20 EUR/month)" in business["reason"][0]["label"]
    residential = _bundle(recommend(api, agent, customer="cust-andrea"))            # holds Broadband 500 too
    assert residential["saving"] == {"value": 15, "unit": "EUR", "recurringChargePeriod": "month"}
    assert "together for 60 EUR/month instead of 75 EUR/month" in residential["reason"][0]["label"]
