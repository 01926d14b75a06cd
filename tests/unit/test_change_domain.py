"""Changing what a customer holds, as plain functions (no AWS): the promotions a modify item asks
for and their prices from the catalogue, the contract rules' early termination fee and its
waivers, the order total with fees, and a product's prices after a promotion."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from chalicelib.basket import pricing
from chalicelib.errors import ApiError
from chalicelib.inventory import domain as inventory
from chalicelib.ordering import domain as ordering
from chalicelib.rules import domain as rules
from chalicelib.rules import places
from tests.support.catalogue import OFFERINGS, Cat

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
RULES = places.contract_rules()


def product(ends_in_days, offering="po-mobile-unlimited", **extra):
    end = (NOW + dt.timedelta(days=ends_in_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": "p1", "name": "Mobile Unlimited", "productOffering": {"id": offering},
            "productTerm": [{"name": "24 months", "validFor": {"startDateTime": "2025-01-01T00:00:00Z",
                                                              "endDateTime": end}}], **extra}


def test_a_modify_item_names_promotions_by_reference_only():
    item = {"itemPrice": [{"price": {"taxIncludedAmount": {"value": 0}}, "productOfferingPrice": {"id": "a"},
                           "priceAlteration": [{"productOfferingPrice": {"id": "b"}}, {"productOfferingPrice": {"id": "a"}}]}]}
    assert ordering.promotions_asked(item, "i") == ["a", "b"]
    assert ordering.promotions_asked({}, "i") == []
    for bad in ("x", ["x"], [{"productOfferingPrice": {"id": ""}}], [{"priceAlteration": "x"}],
                [{"productOfferingPrice": {"id": str(n)}} for n in range(11)]):
        with pytest.raises(ApiError) as caught:
            ordering.promotions_asked({"itemPrice": bad}, "i")
        assert caught.value.status == 400


def test_a_subscriber_promotion_is_offered_on_request_only():
    mobile = OFFERINGS["po-mobile-unlimited"]
    assert set(pricing.promotions_offered(mobile, Cat(), "web")) == {"pop-mobile-half-price-6"}
    # a new sale of Mobile Unlimited does not get it: it is added to a subscription held
    assert all(not ln.alterations for ln in pricing.lines(mobile, Cat(), "web"))
    [price] = pricing.promotion_prices(mobile, Cat(), "web", ["pop-mobile-half-price-6"])
    assert price["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 25}
    [alt] = price["priceAlteration"]
    assert (alt["applicationDuration"], alt["price"]["taxIncludedAmount"]["value"], alt["price"]["percentage"]) == \
        (6, 12.5, 50)
    assert price["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    # a promotion of another offering's price prices nothing here
    assert pricing.promotion_prices(mobile, Cat(), "web", ["pop-promo-6-months-free"]) == []


@pytest.mark.parametrize("days, fee, waiver", [
    (430, 120, None),                 # 15 months left: 150, at most 120
    (200, 70, None),                  # 7 months left (rounded up)
    (91, 40, None),                   # just outside the 90-day waiver
    (90, 30, "contractEndNear"),
    (1, 10, "contractEndNear"),
])
def test_the_early_termination_fee_and_the_end_of_contract_waiver(days, fee, waiver):
    out = rules.early_termination({"action": "delete"}, product(days), NOW, None, RULES)
    assert out["fee"] == Decimal(fee) and (out["waiver"] or {}).get("code") == waiver


def test_what_the_fee_applies_to():
    held = product(300)
    upgrade = {"action": "modify", "productOffering": {"id": "po-phone-x-plan-24"}}
    assert rules.early_termination(upgrade, held, NOW, None, RULES)["kind"] == "upgrade"
    # a promotion or a characteristic on the same offering is no upgrade: no fee
    assert rules.early_termination({"action": "modify"}, held, NOW, None, RULES) is None
    assert rules.early_termination({"action": "modify", "productOffering": {"id": "po-mobile-unlimited"}}, held, NOW,
                                   None, RULES) is None
    # no contract, or a contract that has ended: no fee
    assert rules.early_termination({"action": "delete"}, {"id": "p"}, NOW, None, RULES) is None
    assert rules.early_termination({"action": "delete"}, product(-3), NOW, None, RULES) is None
    # the half-price upgrade campaign waives it
    waived = rules.early_termination(upgrade, held, NOW, "cmp-half-price-upgrade", RULES)
    assert waived["waiver"]["code"] == "halfPriceUpgrade"
    assert rules.early_termination(upgrade, held, NOW, "cmp-spring", RULES)["waiver"] is None


def test_the_rules_are_data():
    data = json.loads((places.DATA_DIR / "contract.json").read_text())
    changed = {**data, "earlyTermination": {**data["earlyTermination"], "appliesTo": ["delete"], "waivers": [],
                                            "fee": {"perRemainingMonth": 5, "unit": "EUR"}}}
    assert rules.early_termination({"action": "delete"}, product(430), NOW, None, changed)["fee"] == Decimal(75)
    assert rules.early_termination({"action": "modify", "productOffering": {"id": "x"}}, product(430), NOW, None,
                                   changed) is None


def test_a_waived_fee_is_shown_whole_and_the_total_counts_only_what_is_charged():
    waiver = {"code": "contractEndNear", "label": "waived: the contract ends within 90 days"}
    shown = ordering.order_price(pricing.fee_price("Early termination fee", Decimal(20), "EUR", "ending early", waiver))
    charged = ordering.order_price(pricing.fee_price("Early termination fee", Decimal(120), "EUR", "ending early", None))
    assert shown["price"]["taxIncludedAmount"]["value"] == 20 and shown["priceAlteration"][0]["name"] == waiver["label"]
    totals = [{"name": "Order total one-off", "priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": "EUR",
                                                                                                      "value": 49}}}]
    assert ordering.with_fees(totals, [shown]) == totals
    assert ordering.with_fees(totals, [shown, charged])[0]["price"]["taxIncludedAmount"]["value"] == 169
    assert ordering.with_fees([], [charged])[0]["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 120}
    assert totals[0]["price"]["taxIncludedAmount"]["value"] == 49   # not changed in place


def test_a_product_keeps_its_other_prices_and_gets_the_promotion_with_its_end():
    at = "2026-06-01T12:00:00Z"
    held = [{"name": "Mobile Unlimited monthly fee", "priceType": "recurring", "recurringChargePeriod": "month",
             "price": {"taxIncludedAmount": {"unit": "EUR", "value": 25}}, "productPriceAlteration": []},
            {"name": "SIM", "priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": "EUR", "value": 5}}}]
    [promo] = pricing.promotion_prices(OFFERINGS["po-mobile-unlimited"], Cat(), "web", ["pop-mobile-half-price-6"])
    fee = pricing.fee_price("Early termination fee", Decimal(10), "EUR", "x", None)
    merged = inventory.merged_prices(held, inventory.prices([promo, fee], at), at)
    assert [p["name"] for p in merged] == ["Mobile Unlimited monthly fee", "SIM"]
    [alt] = merged[0]["productPriceAlteration"]
    assert alt["validFor"] == {"startDateTime": at, "endDateTime": "2026-12-01T12:00:00.000Z"}
    assert merged[0]["description"] == "12.5 EUR/month for 6 months, then 25 EUR/month"
    assert ordering.promotion_running({"productPrice": merged}, "pop-mobile-half-price-6", "2026-11-30T00:00:00Z")
    assert not ordering.promotion_running({"productPrice": merged}, "pop-mobile-half-price-6", "2026-12-02T00:00:00Z")


def test_a_promotion_running_is_not_started_again_by_a_second_order():
    at, later = "2026-06-01T12:00:00Z", "2026-08-01T12:00:00Z"
    [promo] = pricing.promotion_prices(OFFERINGS["po-mobile-unlimited"], Cat(), "web", ["pop-mobile-half-price-6"])
    first = inventory.merged_prices([], inventory.prices([promo], at), at)
    again = inventory.merged_prices(first, inventory.prices([promo], later), later)
    assert again == first
    # once it has ended, a new order starts it again
    ended = "2027-01-01T12:00:00Z"
    restarted = inventory.merged_prices(first, inventory.prices([promo], ended), ended)
    assert restarted[0]["productPriceAlteration"][0]["validFor"]["startDateTime"].startswith("2027-01-01")
