"""The approval rules (data/approval_rules.json) and the discount arithmetic, as plain functions."""
from decimal import Decimal

import pytest

from chalicelib.quote import domain


def _price(value, price_type="recurring", each="month"):
    return {"name": "Quote total", "priceType": price_type, "price": {"taxIncludedAmount": {"unit": "EUR", "value": value}},
            **({"recurringChargePeriod": each} if each else {}), "@type": "QuotePrice"}


def _quote(items=(), discount=None, totals=()):
    doc = {"quoteItem": [{"id": str(n), **i} for n, i in enumerate(items, 1)], "quoteTotalPrice": list(totals)}
    if discount is not None:
        doc["discount"] = {"percentage": discount}
    return doc


def codes(doc, standard=None):
    return [r["code"] for r in domain.approvals_needed(doc, standard or {})]


def test_the_rules_are_data_with_a_sales_manager_as_approver():
    rules = domain.approval_rules()
    assert rules["approverRole"] == "sales-manager"
    assert {r["code"] for r in rules["rules"]} == {"discountOverThreshold", "termOutsideStandard", "totalOverLimit",
                                                   "recurringOverLimit"}
    assert domain.max_discount("sales-manager") == 25 and domain.max_discount("customer") == 0


@pytest.mark.parametrize("item_pct, quote_pct, fires", [(None, 10, False), (None, 10.5, True), (10, None, False),
                                                        (6, 5, True), (5, 5, False)])
def test_discount_over_the_threshold_counts_item_and_quote_discounts_together(item_pct, quote_pct, fires):
    item = {"discount": {"percentage": item_pct}} if item_pct is not None else {}
    assert ("discountOverThreshold" in codes(_quote([item], quote_pct))) is fires


def test_contract_term_outside_the_standard_or_the_offerings_own():
    term = lambda months: {"itemTerm": [{"duration": {"amount": months, "units": "month"}}]}   # noqa: E731
    assert codes(_quote([term(24)])) == [] and codes(_quote([term(12)])) == []
    assert codes(_quote([term(36)])) == ["termOutsideStandard"]
    assert codes(_quote([term(36)]), {"1": [36]}) == []                  # the offering's own term
    assert codes(_quote([{"itemTerm": [{"duration": {"amount": 2, "units": "years"}}]}])) == []


def test_totals_over_the_limits():
    assert codes(_quote(totals=[_price(5000, "oneTime", None), _price(1000)])) == []
    assert codes(_quote(totals=[_price(5000.01, "oneTime", None)])) == ["totalOverLimit"]
    assert codes(_quote(totals=[_price(1000.5)])) == ["recurringOverLimit"]
    assert codes(_quote(totals=[_price(9000, "recurring", "year")])) == []   # the limit is per month


def test_discounts_take_off_and_say_what_they_took():
    price = domain.discounted(_price(250), Decimal(15))
    assert price["price"]["taxIncludedAmount"]["value"] == 212.5
    assert price["priceAlteration"][-1]["price"] == {"percentage": 15.0, "taxIncludedAmount": {"unit": "EUR", "value": 37.5}}
    assert domain.discounted(_price(250), Decimal(0)) == _price(250)
    assert domain.combined(Decimal(10), Decimal(10)) == Decimal("19.00")
    item = {"quoteItemPrice": [domain.discounted(_price(100), Decimal(10))]}
    totals = domain.totals([_price(300)], domain.item_savings([item]), Decimal(10))
    assert totals[0]["price"]["taxIncludedAmount"]["value"] == 261      # (300 - 10) less 10 %


def test_versions_and_links():
    assert domain.parse_link_subject(domain.link_subject("q-1.2", 3)) == ("q-1.2", 3)
    assert domain.parse_link_subject("nothing") is None
    doc = {"state": "approved", "version": "2", "authorization": [{"state": "approved"}]}
    nxt = domain.next_version(doc, "2026-12-01T00:00:00Z")
    assert nxt["version"] == "3" and nxt["state"] == "inProgress" and "authorization" not in nxt
