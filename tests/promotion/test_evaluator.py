"""The one promotion evaluator, through basket pricing (pricing.price_basket, the path baskets,
quotes and orders share): plain functions over the demo catalogue, no AWS. Each criterion, each
action, exclusive groups (best for the customer, explained), stacking, the channel rule, expiry,
and the competition with the bundle price."""
import datetime as dt

import pytest

from chalicelib.basket import pricing
from chalicelib.catalog.demo import CATALOGUE
from chalicelib.promotion import demo, evaluator, schemas

OFFERINGS = {o["id"]: o for o in CATALOGUE["productOffering"]}
PRICES = {p["id"]: p for p in CATALOGUE["productOfferingPrice"]}
NOW = dt.datetime(2027, 1, 15, 12, tzinfo=dt.timezone.utc)
BUNDLE = ["po-extreme-bundle"]


class Cat:
    def __init__(self, *promotions):
        self._promotions = list(promotions)

    def offering(self, oid):
        return OFFERINGS.get(oid)

    def price(self, pid):
        return PRICES.get(pid)

    def promotions(self):
        return self._promotions


def promo(pid="p1", criteria=(), actions=None, group=None, status="active", valid=None, priority=None,
          relationship=None):
    actions = actions or [{"actionType": "percentageOff", "actionValue": "10"}]
    pattern = {"criteriaGroup": [{"criteria": list(criteria), **({"criteriaLogicalRelationship": relationship}
                                                                 if relationship else {})}] if criteria else [],
               "action": actions, **({"priority": priority} if priority is not None else {})}
    out = {"id": pid, "name": f"promotion {pid}", "lifecycleStatus": status, "pattern": [pattern]}
    if group:
        out["exclusiveGroup"] = group
    if valid:
        out["validFor"] = valid
    return out


def crit(parameter, value, op="="):
    return {"criteriaParameter": parameter, "criteriaOperator": op, "criteriaValue": value}


def sell(*offerings, promotions=(), channel="web", profile=None, code=None, at=NOW, bundles=()):
    items = [{"id": str(n), "quantity": 1, "status": "active", "productOffering": {"id": o}}
             for n, o in enumerate(offerings, 1)]
    who = pricing.buyer(channel, profile, code, at)
    return pricing.price_basket(items, OFFERINGS, Cat(*promotions), channel, bundles, who)


def alterations(item, price_type="recurring"):
    """The TMF671 promotion alterations of an item's price of `price_type`."""
    price = next(p for p in item["itemPrice"] if p["priceType"] == price_type)
    return [a for a in price["priceAlteration"] if "promotion" in a]


def off(item, price_type="recurring"):
    return [a["price"]["taxIncludedAmount"]["value"] for a in alterations(item, price_type)]


HOLDER = {"segment": "residential", "held": [["po-mobile-unlimited", "2027-06-01T00:00:00Z"]]}
BUSINESS = {"segment": "business", "held": []}


# --- criteria ---------------------------------------------------------------------------------
@pytest.mark.parametrize("criterion, kwargs, applies", [
    (crit("channel", "web"), {"channel": "web"}, True),
    (crit("channel", "web"), {"channel": "store"}, False),
    (crit("channel", "store", "<>"), {"channel": "web"}, True),
    (crit("customerSegment", "business"), {"profile": BUSINESS}, True),
    (crit("customerSegment", "business"), {"profile": HOLDER}, False),
    (crit("customerStatus", "new"), {}, True),                       # an anonymous visitor is new
    (crit("customerStatus", "new"), {"profile": BUSINESS}, True),    # known, holding nothing
    (crit("customerStatus", "new"), {"profile": HOLDER}, False),
    (crit("customerStatus", "existing"), {"profile": HOLDER}, True),
    (crit("campaignCode", "camp-home-security"), {"code": "camp-home-security"}, True),
    (crit("campaignCode", "camp-home-security"), {"code": "camp-home-security.0123456789ab"}, True),  # tracking code
    (crit("campaignCode", "camp-home-security"), {"code": "camp-other"}, False),
    (crit("campaignCode", "camp-home-security"), {}, False),
    (crit("productHeld", "po-mobile-unlimited"), {"profile": HOLDER}, True),
    (crit("productHeld", "po-mobile-unlimited"), {"profile": BUSINESS}, False),
    (crit("basketOffering", "po-tv-max"), {}, True),
    (crit("basketOffering", "po-phone-x"), {}, False),
    (crit("basketCategory", "cat-tv"), {}, True),
    (crit("basketCategory", "cat-devices"), {}, False),
])
def test_each_criterion(criterion, kwargs, applies):
    items, _ = sell("po-broadband-500", "po-tv-max", promotions=[promo(criteria=[criterion])], **kwargs)
    assert bool(off(items[1])) is applies
    if applies:
        assert off(items[1]) == [2] and items[1]["promotionEvaluation"][0]["applied"] is True


def test_groups_and_or():
    either = promo(criteria=[crit("channel", "web"), crit("channel", "app")], relationship="OR")
    both = promo(criteria=[crit("channel", "web"), crit("channel", "app")])
    assert off(sell("po-tv-max", promotions=[either], channel="app")[0][0]) == [2]
    assert off(sell("po-tv-max", promotions=[both], channel="app")[0][0]) == []


def test_validity_dates_and_lifecycle():
    window = {"startDateTime": "2027-01-01T00:00:00Z", "endDateTime": "2027-02-01T00:00:00Z"}
    assert off(sell("po-tv-max", promotions=[promo(valid=window)])[0][0]) == [2]
    later = NOW + dt.timedelta(days=30)            # expired: 14 February
    assert off(sell("po-tv-max", promotions=[promo(valid=window)], at=later)[0][0]) == []
    before = NOW - dt.timedelta(days=30)
    assert off(sell("po-tv-max", promotions=[promo(valid=window)], at=before)[0][0]) == []
    for status in ("inDesign", "retired"):
        assert off(sell("po-tv-max", promotions=[promo(status=status)])[0][0]) == []


def test_the_channel_rule_web_and_app_only():
    """The demo promotion: web and app, not the store, the call centre or social."""
    example = {**demo.body(NOW - dt.timedelta(days=1)), "id": demo.PROMOTION_ID}
    for channel, applies in (("web", True), ("app", True), ("store", False), ("callcenter", False), ("social", False)):
        items, _ = sell("po-broadband-500", promotions=[example], channel=channel, code="camp-home-security")
        assert bool(off(items[0])) is applies, channel


# --- actions ----------------------------------------------------------------------------------
def test_percentage_off_a_recurring_price_for_n_months():
    p = promo(actions=[{"actionType": "percentageOff", "actionValue": "25", "priceType": "recurring",
                        "applicationDuration": 12}])
    (item,), totals = sell("po-tv-max", promotions=[p])
    (alt,) = alterations(item)
    assert alt["price"]["taxIncludedAmount"]["value"] == 5 and alt["price"]["percentage"] == 25
    assert alt["applicationDuration"] == 12 and alt["name"] == "promotion p1" and alt["reason"] == "for every sale"
    assert alt["promotion"] == {"id": "p1", "name": "promotion p1", "@referredType": "Promotion"}
    assert alt["description"] == "15 EUR/month for 12 months, then 20 EUR/month"
    assert item["promotionEvaluation"] == [{"promotion": alt["promotion"], "applied": True, "reason": "for every sale",
                                            "applicationDuration": 12, "recurringChargePeriod": "month"}]
    monthly = next(t for t in totals if t["priceType"] == "recurring")
    assert monthly["description"] == "15 EUR/month for 12 months, then 20 EUR/month"


def test_amount_off_a_one_off_price():
    p = promo(actions=[{"actionType": "amountOff", "actionValue": "20", "priceType": "oneTime"}])
    (item,), totals = sell("po-phone-x", promotions=[p])
    assert off(item, "oneTime") == [20] and "applicationDuration" not in alterations(item, "oneTime")[0]
    assert next(t for t in totals if t["priceType"] == "oneTime")["description"] == "79 EUR"


def test_an_amount_off_never_goes_below_zero():
    p = promo(actions=[{"actionType": "amountOff", "actionValue": "500", "priceType": "oneTime"}])
    assert off(sell("po-phone-x", promotions=[p])[0][0], "oneTime") == [99]


def test_free_months():
    p = promo(actions=[{"actionType": "freeMonths", "actionValue": "3"}])
    (item,), _ = sell("po-tv-max", promotions=[p])
    (alt,) = alterations(item)
    assert alt["price"]["taxIncludedAmount"]["value"] == 20 and alt["applicationDuration"] == 3
    assert alt["description"] == "0 EUR/month for 3 months, then 20 EUR/month"


def test_free_item_only_the_offering_named_and_only_when_in_the_sale():
    p = promo(criteria=[crit("basketOffering", "po-phone-x")],
              actions=[{"actionType": "freeItem", "actionEntityRef": {"id": "po-phone-x-case"}}])
    items, totals = sell("po-phone-x", "po-phone-x-case", promotions=[p])
    assert off(items[0], "oneTime") == [] and off(items[1], "oneTime") == [19]
    assert next(t for t in totals if t["priceType"] == "oneTime")["description"] == "99 EUR"
    assert off(sell("po-phone-x-case", promotions=[p])[0][0], "oneTime") == []


def test_an_action_for_one_offering_leaves_the_others():
    p = promo(actions=[{"actionType": "percentageOff", "actionValue": "50", "actionEntityRef": {"id": "po-tv-max"}}])
    items, _ = sell("po-mobile-unlimited", "po-tv-max", promotions=[p])
    assert off(items[0]) == [] and off(items[1]) == [10]


# --- combinations -----------------------------------------------------------------------------
def test_combinable_promotions_stack():
    a = promo("a", actions=[{"actionType": "amountOff", "actionValue": "5"}])
    b = promo("b", actions=[{"actionType": "percentageOff", "actionValue": "10"}])
    (item,), totals = sell("po-tv-max", promotions=[a, b])
    assert sorted(off(item)) == [2, 5]
    assert next(t for t in totals if t["priceType"] == "recurring")["description"] == "13 EUR/month"
    assert [e["applied"] for e in item["promotionEvaluation"]] == [True, True]


def test_among_exclusive_promotions_the_best_for_the_customer_wins_and_says_why():
    small = promo("small", group="welcome", priority=1, actions=[{"actionType": "percentageOff", "actionValue": "10"}])
    big = promo("big", group="welcome", priority=9, actions=[{"actionType": "freeMonths", "actionValue": "6"}])
    (item,), _ = sell("po-tv-max", promotions=[small, big])
    assert [a["promotion"]["id"] for a in alterations(item)] == ["big"]       # 120 EUR against 48 EUR
    applied, declined = item["promotionEvaluation"]
    assert applied["promotion"]["id"] == "big" and applied["applied"] is True
    assert declined["promotion"]["id"] == "small" and declined["applied"] is False
    assert declined["reason"] == ("not combinable with promotion big (exclusive group welcome), which saves more: "
                                  "120 against 48 over 24 months")


def test_equal_exclusive_promotions_the_higher_priority_wins():
    a = promo("a", group="g", priority=5)
    b = promo("b", group="g", priority=1)
    (item,), _ = sell("po-tv-max", promotions=[a, b])
    assert [x["promotion"]["id"] for x in alterations(item)] == ["b"]


def test_the_bundle_price_wins_over_a_smaller_bundle_group_promotion():
    parts = ("po-broadband-500", "po-tv-max", "po-mobile-unlimited")
    small = promo("small", group="bundle", actions=[{"actionType": "amountOff", "actionValue": "1"}])
    items, totals = sell(*parts, promotions=[small], bundles=BUNDLE)
    assert all(not off(i) for i in items)
    monthly = next(t for t in totals if t["priceType"] == "recurring")
    assert any(a["name"] == "Extreme Bundle price" for a in monthly["priceAlteration"])
    assert items[0]["promotionEvaluation"][0]["reason"].startswith("not combinable with Extreme Bundle price")


def test_a_bundle_group_promotion_that_saves_more_replaces_the_bundle_price():
    parts = ("po-broadband-500", "po-tv-max", "po-mobile-unlimited")
    big = promo("big", group="bundle", actions=[{"actionType": "percentageOff", "actionValue": "50"}])
    items, totals = sell(*parts, promotions=[big], bundles=BUNDLE)
    assert [off(i) for i in items] == [[15], [10], [12.5]]
    monthly = next(t for t in totals if t["priceType"] == "recurring")
    assert not any(a["name"] == "Extreme Bundle price" for a in monthly["priceAlteration"])
    assert all("pricingNote" not in i for i in items)


def test_a_promotion_outside_any_group_combines_with_the_bundle_price():
    parts = ("po-broadband-500", "po-tv-max", "po-mobile-unlimited")
    free = promo("free", actions=[{"actionType": "freeMonths", "actionValue": "1", "actionEntityRef": {"id": "po-tv-max"}}])
    items, totals = sell(*parts, promotions=[free], bundles=BUNDLE)
    assert off(items[1]) == [20]
    monthly = next(t for t in totals if t["priceType"] == "recurring")
    names = [a["name"] for a in monthly["priceAlteration"]]
    assert "Extreme Bundle price" in names and "promotion free" in names


def test_the_issue_example():
    """-20% on Broadband for new customers from the Home Security campaign, web and app only,
    until 31 March, not combinable with the bundle discount; the catalogue's own 6 free months
    still apply (they are a price alteration of the price, not an exclusive promotion)."""
    example = {**demo.body(NOW - dt.timedelta(days=1)), "id": demo.PROMOTION_ID}
    (item,), _ = sell("po-broadband-500", promotions=[example], code="camp-home-security")
    (alt,) = alterations(item)
    assert alt["price"] == {"taxIncludedAmount": {"unit": "EUR", "value": 6}, "percentage": 20}
    assert "applicationDuration" not in alt and alt["name"] == "Home Security welcome: 20% off Broadband"
    assert alt["reason"] == "new customer from the Home Security campaign, on the web or the app"
    monthly = next(p for p in item["itemPrice"] if p["priceType"] == "recurring")
    assert monthly["description"] == "0 EUR/month for 6 months, then 24 EUR/month"
    assert not off(sell("po-broadband-500", promotions=[example], code="camp-home-security", profile=HOLDER)[0][0])
    assert not off(sell("po-broadband-500", promotions=[example])[0][0])
    april = dt.datetime(NOW.year, 4, 1, tzinfo=dt.timezone.utc)
    assert not off(sell("po-broadband-500", promotions=[example], code="camp-home-security", at=april)[0][0])
    assert demo.until_31_march(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)) == "2027-03-31T23:59:59.999Z"
    assert demo.until_31_march(dt.datetime(2027, 2, 1, tzinfo=dt.timezone.utc)) == "2027-03-31T23:59:59.999Z"


def test_without_promotions_pricing_is_as_before():
    with_none, totals = sell("po-broadband-500", "po-tv-max")
    assert all("promotionEvaluation" not in i for i in with_none)
    assert [a["name"] for a in next(p for p in with_none[0]["itemPrice"] if p["priceType"] == "recurring")
            ["priceAlteration"]] == ["First 6 months free"]


def test_the_schema_knows_what_the_evaluator_knows():
    assert set(schemas.PARAMETER.__args__) == set(evaluator.CRITERIA)
    assert set(schemas.ACTION.__args__) == set(evaluator.ACTIONS)
