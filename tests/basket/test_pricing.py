"""Basket pricing: plain functions over the demo catalogue, no AWS."""
from chalicelib.basket import pricing
from chalicelib.catalog.demo import CATALOGUE

OFFERINGS = {o["id"]: o for o in CATALOGUE["productOffering"]}
PRICES = {p["id"]: p for p in CATALOGUE["productOfferingPrice"]}


class Cat:
    def __init__(self, offerings=OFFERINGS, prices=PRICES):
        self.offerings, self.prices = offerings, prices

    def offering(self, oid):
        return self.offerings.get(oid)

    def price(self, pid):
        return self.prices.get(pid)


def cart(*lines, bundles=(), cat=None):
    items = [{"id": str(n), "quantity": q, "status": s, "productOffering": {"id": o}}
             for n, (o, q, s) in enumerate(lines, 1)]
    return pricing.price_basket(items, OFFERINGS, cat or Cat(), bundles)


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
                                    Cat(offerings, prices))
    line = items[0]["itemPrice"][0]
    assert [a["applicationDuration"] for a in line["priceAlteration"]] == [3, 12]
    assert line["description"] == "25 EUR/month for 3 months, then 30 EUR/month for 9 months, then 40 EUR/month"


def test_money_is_rounded_to_cents():
    assert pricing.number(pricing.amount("14.999")) == 15
    assert pricing.number(pricing.amount("14.99") * 3) == 44.97
    assert pricing.schedule(pricing.amount(10), [], "EUR", None) == "10 EUR"
