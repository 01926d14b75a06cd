"""Basket pricing: plain functions over the demo catalogue, no AWS."""
import pytest

from chalicelib.basket import pricing
from tests.support.catalogue import OFFERINGS, PRICES, Cat  # noqa: F401

def cart(*lines, bundles=(), cat=None):
    items = [{"id": str(n), "quantity": q, "status": s, "productOffering": {"id": o}}
             for n, (o, q, s) in enumerate(lines, 1)]
    return pricing.price_basket(items, OFFERINGS, cat or Cat(), "web", bundles)


def by_type(prices):
    return {p["priceType"]: p for p in prices}


def value(price):
    return price["price"]["taxIncludedAmount"]["value"]


def test_promotion_is_a_price_alteration_with_its_duration():
    items, total = cart(("po-broadband-500", 1, "active"))
    monthly = next(p for p in items[0]["itemPrice"] if p["priceType"] == "recurring")
    assert value(monthly) == 30 and monthly["recurringChargePeriod"] == "month"
    (promo,) = monthly["priceAlteration"]
    assert promo["applicationDuration"] == 6 and promo["price"]["percentage"] == 100
    assert value(promo) == 30
    assert promo["productOfferingPrice"]["id"] == "pop-promo-6-months-free"
    assert monthly["description"] == "0 EUR/month for 6 months, then 30 EUR/month"
    totals = by_type(total)
    assert value(totals["oneTime"]) == 49 and value(totals["recurring"]) == 30
    assert totals["recurring"]["description"] == "0 EUR/month for 6 months, then 30 EUR/month"


def test_one_off_and_recurring_are_split_and_quantities_multiply():
    items, total = cart(("po-phone-x", 2, "active"), ("po-mobile-unlimited", 1, "active"))
    phone = by_type(items[0]["ItemTotalPrice"])
    assert value(phone["oneTime"]) == 198 and "recurring" not in phone
    assert value(items[0]["itemPrice"][0]) == 99          # per unit
    totals = by_type(total)
    assert value(totals["oneTime"]) == 198 and value(totals["recurring"]) == 25


def test_saved_for_later_items_are_priced_but_not_in_the_total():
    items, total = cart(("po-tv-max", 1, "saveForLater"), ("po-mobile-unlimited", 1, "active"))
    assert value(by_type(items[0]["ItemTotalPrice"])["recurring"]) == 20
    assert value(by_type(total)["recurring"]) == 25


def test_parts_bought_apart_are_priced_as_the_bundle_without_their_promotions():
    items, total = cart(("po-broadband-500", 1, "active"), ("po-tv-max", 1, "active"),
                        ("po-mobile-unlimited", 1, "active"), bundles=["po-extreme-bundle"])
    monthly = by_type(total)["recurring"]
    assert value(monthly) == 75
    (bundle,) = monthly["priceAlteration"]
    assert value(bundle) == 15 and "60 EUR/month instead of 75 EUR/month" in bundle["description"]
    assert monthly["description"] == "60 EUR/month"
    assert all("Extreme Bundle" in i["pricingNote"] for i in items)
    # each item still shows its own promotion
    assert items[0]["itemPrice"][0]["priceAlteration"]


def test_no_bundle_discount_unless_every_part_is_there():
    items, total = cart(("po-broadband-500", 1, "active"), ("po-tv-max", 1, "active"), bundles=["po-extreme-bundle"])
    monthly = by_type(total)["recurring"]
    assert [a["name"] for a in monthly["priceAlteration"]] == ["First 6 months free"]
    assert monthly["description"] == "20 EUR/month for 6 months, then 50 EUR/month"
    assert not any("pricingNote" in i for i in items)


def test_bundle_discount_counts_complete_sets_only():
    _, total = cart(("po-broadband-500", 2, "active"), ("po-tv-max", 2, "active"),
                    ("po-mobile-unlimited", 1, "active"), bundles=["po-extreme-bundle"])
    (bundle,) = [a for a in by_type(total)["recurring"]["priceAlteration"] if "Bundle" in a["name"]]
    assert value(bundle) == 15


def test_bundle_offering_says_what_it_saves():
    items, total = cart(("po-extreme-bundle", 1, "active"))
    assert value(by_type(total)["recurring"]) == 60
    assert items[0]["itemPrice"][0]["description"] == "60 EUR/month (instead of 75 EUR/month for its parts apart)"


def test_fixed_amount_promotion_and_schedule_with_two_durations():
    prices = {**PRICES,
              "pop-a": {"id": "pop-a", "priceType": "recurring", "price": {"unit": "EUR", "value": 40},
                        "popRelationship": [{"id": "pop-5-off-3", "relationshipType": "promotion"},
                                            {"id": "pop-10-off-12", "relationshipType": "promotion"}]},
              "pop-5-off-3": {"id": "pop-5-off-3", "priceType": "discount", "price": {"unit": "EUR", "value": 5},
                              "productOfferingTerm": [{"duration": {"amount": 3, "units": "month"}}]},
              "pop-10-off-12": {"id": "pop-10-off-12", "priceType": "discount", "percentage": 25,
                                "productOfferingTerm": [{"duration": {"amount": 1, "units": "year"}}]}}
    offerings = {"po-a": {"id": "po-a", "productOfferingPrice": [{"id": "pop-a"}]}}
    items, _ = pricing.price_basket([{"id": "1", "quantity": 1, "productOffering": {"id": "po-a"}}], offerings,
                                    Cat(offerings, prices), "web")
    line = items[0]["itemPrice"][0]
    assert [a["applicationDuration"] for a in line["priceAlteration"]] == [3, 12]
    assert line["description"] == "25 EUR/month for 3 months, then 30 EUR/month for 9 months, then 40 EUR/month"


def test_money_is_rounded_to_cents():
    assert pricing.number(pricing.amount("14.999")) == 15
    assert pricing.number(pricing.amount("14.99") * 3) == 44.97
    assert pricing.schedule(pricing.amount(10), [], "EUR", None) == "10 EUR"


# --- channel prices (issue 15): one function chooses, every channel gets only its own ---------------
CHANNEL_PRICES = {
    "pop-general": {"id": "pop-general", "name": "Monthly", "priceType": "recurring", "price": {"unit": "EUR", "value": 30},
                    "popRelationship": [{"id": "pop-app-promo", "relationshipType": "promotion"}]},
    "pop-web": {"id": "pop-web", "name": "Monthly online", "priceType": "recurring", "price": {"unit": "EUR", "value": 25},
                "channel": [{"id": "web"}]},
    "pop-web-setup": {"id": "pop-web-setup", "name": "Online setup", "priceType": "oneTime",
                      "price": {"unit": "EUR", "value": 5}, "channel": [{"id": "web"}, {"id": "app"}]},
    "pop-app-promo": {"id": "pop-app-promo", "name": "App: 10 % off", "priceType": "discount", "percentage": 10,
                      "channel": [{"id": "app", "name": "app"}]},
}
CHANNEL_OFFERINGS = {"po-c": {"id": "po-c", "productOfferingPrice": [{"id": p} for p in CHANNEL_PRICES]}}
# channel -> (recurring, one-off, promotion names) it is charged
EXPECTED = {"web": (25, 5, []), "app": (30, 5, ["App: 10 % off"]), "social": (30, None, []),
            "callcenter": (30, None, []), "sms": (30, None, []), "email": (30, None, []), "store": (30, None, []),
            None: (30, None, [])}


def test_every_channel_is_expected():
    from chalicelib.auth import CHANNELS

    assert set(EXPECTED) == {*CHANNELS, None}


@pytest.mark.parametrize("channel", list(EXPECTED))
def test_a_price_for_other_channels_is_never_applied(channel):
    recurring, one_off, promos = EXPECTED[channel]
    cat = Cat(CHANNEL_OFFERINGS, CHANNEL_PRICES)
    items, totals = pricing.price_basket([{"id": "1", "quantity": 1, "productOffering": {"id": "po-c"}}],
                                         CHANNEL_OFFERINGS, cat, channel)
    prices = by_type(items[0]["itemPrice"])
    assert value(prices["recurring"]) == recurring
    assert [a["name"] for a in prices["recurring"]["priceAlteration"]] == promos
    assert (value(prices["oneTime"]) if "oneTime" in prices else None) == one_off
    assert value(by_type(totals)["recurring"]) == recurring
    applied = {p["productOfferingPrice"]["id"] for p in items[0]["itemPrice"]}
    assert all(pricing.sold_in_channel(CHANNEL_PRICES[pid], channel) for pid in applied)
    assert pricing.recurring_value(CHANNEL_OFFERINGS["po-c"], cat, channel)[0] == recurring
    offered = pricing.promotions_offered(CHANNEL_OFFERINGS["po-c"], cat, channel)
    assert [p["name"] for p in offered.values()] == promos


def test_a_channel_price_replaces_the_general_one_only_of_its_type_and_period():
    cat = Cat(CHANNEL_OFFERINGS, CHANNEL_PRICES)
    web = [p["id"] for p in pricing.prices_for(CHANNEL_OFFERINGS["po-c"], cat, "web")]
    store = [p["id"] for p in pricing.prices_for(CHANNEL_OFFERINGS["po-c"], cat, "store")]
    assert web == ["pop-web", "pop-web-setup"] and store == ["pop-general"]


# --- segment prices (issue 13): business prices through segments in the catalogue ---------------
SEGMENT_PRICES = {
    **CHANNEL_PRICES,
    "pop-business": {"id": "pop-business", "name": "Monthly, business", "priceType": "recurring",
                     "price": {"unit": "EUR", "value": 20}, "marketSegment": [{"id": "business"}]},
    "pop-business-store": {"id": "pop-business-store", "name": "Monthly, business in store", "priceType": "recurring",
                           "price": {"unit": "EUR", "value": 18}, "marketSegment": [{"id": "business"}],
                           "channel": [{"id": "store"}]},
}
SEGMENT_OFFERINGS = {"po-c": {"id": "po-c", "productOfferingPrice": [{"id": p} for p in SEGMENT_PRICES]}}
# (segment, channel) -> the recurring price charged
SEGMENT_EXPECTED = {("business", "web"): 20, ("business", "callcenter"): 20, ("business", "store"): 18,
                    ("residential", "web"): 25, ("residential", "store"): 30, (None, "web"): 25, (None, None): 30,
                    ("business", None): 20}


@pytest.mark.parametrize("segment, channel", list(SEGMENT_EXPECTED))
def test_a_segment_price_is_for_its_segment_only_and_replaces_the_others_for_it(segment, channel):
    """A business price replaces the general and the channel price of its type and period for a
    business buyer (one recurring charge, never two); a residential customer or an anonymous
    visitor never gets it; a price for the segment in one channel wins there."""
    from chalicelib.promotion.evaluator import Buyer
    from chalicelib import tmf

    cat = Cat(SEGMENT_OFFERINGS, SEGMENT_PRICES)
    items, totals = pricing.price_basket([{"id": "1", "quantity": 2, "productOffering": {"id": "po-c"}}],
                                         SEGMENT_OFFERINGS, cat, channel, who=Buyer(channel, tmf.now(), segment))
    recurring = [p for p in items[0]["itemPrice"] if p["priceType"] == "recurring"]
    assert len(recurring) == 1 and value(recurring[0]) == SEGMENT_EXPECTED[(segment, channel)]
    assert value(by_type(totals)["recurring"]) == 2 * SEGMENT_EXPECTED[(segment, channel)]
    chosen = pricing.prices_for(SEGMENT_OFFERINGS["po-c"], cat, channel, segment)
    assert all(not p.get("marketSegment") or segment in {s["id"] for s in p["marketSegment"]} for p in chosen)
    assert pricing.recurring_value(SEGMENT_OFFERINGS["po-c"], cat, channel, segment)[0] == \
        SEGMENT_EXPECTED[(segment, channel)]


def test_without_segment_prices_the_choice_is_the_channel_choice():
    """Adding the segment rule changes nothing for a catalogue without segment prices."""
    cat = Cat(CHANNEL_OFFERINGS, CHANNEL_PRICES)
    for channel in EXPECTED:
        for segment in ("business", "residential", None):
            assert pricing.prices_for(CHANNEL_OFFERINGS["po-c"], cat, channel, segment) == \
                pricing.prices_for(CHANNEL_OFFERINGS["po-c"], cat, channel)
