"""Checkout and no-dead-end rules without AWS: agreed prices and their changes, the acceptance
token, facts changed since a basket was qualified, where an unorderable approved basket goes,
who speaks for a customer's baskets, attribution."""
import datetime as dt

from chalicelib import tmf

import pytest

from chalicelib.actor import Actor
from chalicelib.basket import domain as basket
from chalicelib.basket import pricing
from chalicelib.errors import ApiError
from chalicelib.ordering import domain as ordering
from chalicelib.recovery import domain as recovery
from chalicelib.rules import domain as rules

T0 = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)


def price(value, period="month", promo=None):
    out = {"priceType": "recurring", "recurringChargePeriod": period, "description": "shown only",
           "price": {"taxIncludedAmount": {"unit": "EUR", "value": value}}}
    if promo:
        out["priceAlteration"] = [{"price": {"taxIncludedAmount": {"unit": "EUR", "value": promo}},
                                   "applicationDuration": 6}]
    return out


def test_agreed_prices_compare_amounts_and_promotions_not_wording():
    assert pricing.agreed([price(20)]) == pricing.agreed([{**price(20), "description": "other words"}])
    assert pricing.agreed([price(20)]) != pricing.agreed([price(24)])
    assert pricing.agreed([price(30, promo=30)]) != pricing.agreed([price(30)])   # the promotion ended
    assert pricing.agreed(None) == []


def test_price_changes_and_the_token_that_accepts_exactly_them():
    items = [{"id": "a", "productOffering": {"id": "po-tv", "name": "TV"}, "agreedPrice": pricing.agreed([price(20)])},
             {"id": "b", "productOffering": {"id": "po-x"}, "agreedPrice": pricing.agreed([price(5)])},
             {"id": "c", "productOffering": {"id": "po-old"}}]                 # stored before agreed prices
    now = {"a": pricing.agreed([price(24)]), "b": pricing.agreed([price(5)]), "c": pricing.agreed([price(9)])}
    changes = ordering.price_changes(items, now)
    assert [(c["cartItem"]["id"], c["name"]) for c in changes] == [("a", "TV")]
    token = ordering.price_change_token(changes)
    assert token == ordering.price_change_token(ordering.price_changes(items, dict(now)))
    later = ordering.price_changes(items, {**now, "a": pricing.agreed([price(26)])})
    assert ordering.price_change_token(later) != token


def test_fact_changes_name_what_the_rules_read():
    before = {"segment": "residential", "customerType": "individual", "postCode": "BS1 4DJ",
              "held": [["po-broadband-500", "2026-07-01"]]}
    assert rules.fact_changes(before, dict(before), "app", "app", None) == []
    after = {**before, "postCode": "IV1 1AA", "held": [], "segment": "business"}
    assert rules.fact_changes(before, after, "app", "web", None) == [
        "channel app -> web", "segment residential -> business", "postCode BS1 4DJ -> IV1 1AA",
        "products held -po-broadband-500"]
    # the basket's own postcode is the sale's: her record's does not matter then
    assert rules.fact_changes(before, {**before, "postCode": None}, "web", "web", "BS1 4DJ") == []


def cart(status="approved", agent_changes=("agent-7",), items=("i1", "i2"), last="2026-06-01T11:00:00Z", rid="b-1"):
    changes = [{"at": last, "by": {"id": a, "role": "agent"}, "what": []} for a in agent_changes]
    changes.append({"at": last, "by": {"id": "cust-1", "role": "customer"}, "what": ["status approved"]})
    return {"id": rid, "status": status, "lastUpdate": last, "relatedParty": [{"id": "cust-1", "role": "customer"}],
            "context": {"changes": changes, "currentChannel": "web"},
            "cartItem": [{"id": i, "productOffering": {"id": "po"}} for i in items]}


def test_an_unorderable_approval_goes_back_to_its_agent_with_the_reason_on_the_items():
    doc = cart()
    agent = basket.last_agent(doc)
    assert agent == "agent-7"
    back = basket.not_ordered(doc, "TV needs fibre", "notQualified", ["i2"], "2026-06-01T11:05:00Z", agent)
    assert back["status"] == basket.WITH_AGENT and basket.agent_of(back) == "agent-7"
    assert back["context"]["orderIssue"]["returnedTo"] == "agent"
    assert back["context"]["orderIssue"]["cartItem"] == ["i2"]
    # the note goes on the item it is about (the service writes that line), and is shown
    noted = [basket.with_issue_note(i, "TV needs fibre", "t", i["id"] == "i2") for i in back["cartItem"]]
    shown = basket.present({**back, "cartItem": noted}, tmf.now())["cartItem"]
    assert "note" not in shown[0] and shown[1]["note"][0]["text"] == "TV needs fibre"
    assert basket.list_key(back) == "WORKLIST#withAgent"
    # handed back again: the issue goes, and its notes are no longer shown
    again = basket.move({**back, "cartItem": noted}, basket.AWAITING, Actor("agent", "agent-7"), True)
    assert "orderIssue" not in again["context"]
    assert all("note" not in i for i in basket.present(again, tmf.now())["cartItem"])
    # a second issue replaces the first one's note
    renoted = basket.with_issue_note(noted[1], "no stock", "t2", True)
    assert [n["text"] for n in renoted["note"]] == ["no stock"]


def test_without_an_agent_it_goes_back_to_the_customer():
    back = basket.not_ordered(cart(agent_changes=()), "price changed", "priceChanged", ["i1"], "t", None)
    assert back["status"] == basket.ACTIVE and back["context"]["orderIssue"]["returnedTo"] == "customer"


def test_states_of_checkout():
    assert basket.list_key(cart()) == basket.APPROVED_KEY
    ordered = basket.move(cart(status="active"), basket.ORDERED, Actor.system(), True)
    assert ordered["status"] == basket.ORDERED
    with pytest.raises(ApiError) as refused:
        basket.move({**cart(status="active"), "relatedParty": [{"id": "v", "role": "visitor"}]}, basket.ORDERED,
                    Actor.system(), True)
    assert refused.value.code == "identifyFirst"
    with pytest.raises(ApiError):
        basket.move(cart(status="active"), basket.ORDERED, Actor("customer", "cust-1"), True)   # only ordering does


def test_the_newest_basket_in_recovery_speaks_for_the_customer():
    a, b = cart(status="active", rid="a", last="2026-06-01T10:00:00Z"), cart(status="active", rid="b")
    gone = cart(status="ordered", rid="z", last="2026-06-01T12:00:00Z")
    assert recovery.speaker(a, [a, b, gone], T0) == "b"
    assert recovery.speaker(b, [a, b, gone], T0) is None


def test_the_outreach_cap_is_a_rolling_window():
    """No window boundary lets a second basket through minutes after the first: the cap counts
    the baskets reminded about within the last `window` seconds, whenever that began."""
    day = 24 * 3600
    boundary = (1_800_000_000 // day + 1) * day   # where a fixed daily window would start again
    first = recovery.cap_admits({}, "a", boundary - 60, day, 1)
    assert first == {"a": boundary - 60}
    assert recovery.cap_admits(first, "b", boundary + 60, day, 1) is None        # 2 minutes later: no
    assert recovery.cap_admits(first, "a", boundary + 60, day, 1) == first       # the same basket: yes, same time
    assert recovery.cap_admits(first, "b", boundary - 61 + day, day, 1) is None  # a second short of a window: no
    assert recovery.cap_admits(first, "b", boundary - 60 + day, day, 1) == {"b": boundary - 60 + day}   # old one dropped
    assert recovery.cap_admits(first, "b", boundary + 60, day, 2) == {"a": boundary - 60, "b": boundary + 60}


def test_the_not_ordered_message_keeps_the_reason_literal():
    message = recovery.not_ordered_request(cart(), 7, "price {changed}", True, "https://x/l")
    assert message["messageId"] == "basket-b-1-not-ordered-v7" and message["channels"][0] == "email"
    assert "{{changed}}" in message["content"]["sms"] and "{link}" in message["content"]["email"]


def test_attribution_of_self_service_and_assisted_orders():
    mine = {"context": {"campaignCode": "cmp-1", "originatingChannel": "app", "changes": []}}
    assert ordering.attribution(mine, Actor("customer", "cust-1", "web")) == {
        "campaignCode": "cmp-1", "channel": "web", "originatingChannel": "app", "selfService": True}
    assert ordering.attribution(cart(), Actor("customer", "cust-1", "web"))["agent"] == "agent-7"
    assert ordering.attribution(None, Actor("agent", "agent-9", "callcenter")) == {
        "channel": "callcenter", "selfService": False, "agent": "agent-9"}
