"""TMF680 queryProductRecommendation: best first, each with why, only what passes the central rules,
from the catalogue cache and a few reads."""
from __future__ import annotations

from bench.harness import Calls
from tests.campaign.conftest import CAMPAIGNS, CARTS, RECOMMEND, home_security, make_customer
from tests.support.campaigns import recommend


def cart(api, headers, customer, *offerings):
    """A basket the customer filled on the web portal."""
    who = headers("customer", channel="web", customerId=customer, sub=customer)
    status, doc, _ = api.call("POST", CARTS, who, {"cartItem": [{"productOffering": {"id": o}, "quantity": 1}
                                                                for o in offerings]})
    assert status == 201, doc
    return doc


def test_andrea_with_broadband_and_a_home_security_basket_is_offered_the_extreme_bundle_first(api, agent, headers, demo):
    basket = cart(api, headers, "cust-andrea", "po-home-security")
    doc = recommend(api, agent, basket=basket["id"])
    assert doc["@type"] == "QueryProductRecommendation" and doc["state"] == "done"
    first = doc["recommendationItem"][0]
    assert (first["priority"], first["productOffering"]["id"]) == (1, "po-extreme-bundle")
    codes = [r["code"] for r in first["reason"]]
    assert codes == ["bundleSaving", "upgradeEligible"]
    assert "you have Broadband 500" in first["reason"][0]["label"] and "save 15 EUR/month" in first["reason"][0]["label"]
    assert first["saving"] == {"value": 15, "unit": "EUR", "recurringChargePeriod": "month"}
    assert "contract ends in 4" in first["reason"][1]["label"]          # 44 or 45 days, by the clock
    assert {r["id"] for r in first["replaces"]} == {"po-broadband-500", "po-tv-max", "po-mobile-unlimited"}
    ids = [i["productOffering"]["id"] for i in doc["recommendationItem"]]
    assert "po-home-security" not in ids and "po-broadband-500" not in ids   # what she has or is buying


def test_accessories_for_a_handset_in_the_basket(api, agent, headers, demo):
    basket = cart(api, headers, "cust-stacy", "po-phone-x")
    doc = recommend(api, agent, customer="cust-stacy", basket=basket["id"])
    accessories = [i for i in doc["recommendationItem"] if i["reason"][0]["code"] == "accessory"]
    assert sorted(i["productOffering"]["id"] for i in accessories) == ["po-fast-charger", "po-phone-x-case"]
    assert accessories[0]["reason"][0]["label"] == "goes with the Phone X in your basket"


def test_only_offers_that_pass_the_central_rules_for_this_customer_and_channel(api, agent, demo):
    # Acme is an organisation: the Extreme Bundle is for individuals (and its contract is not ending).
    doc = recommend(api, agent, customer="cust-acme")
    assert "po-extreme-bundle" not in [i["productOffering"]["id"] for i in doc["recommendationItem"]]
    # Stacy has no address: the bundle's fibre cannot be checked, so it is not recommended.
    doc = recommend(api, agent, customer="cust-stacy")
    assert "po-extreme-bundle" not in [i["productOffering"]["id"] for i in doc["recommendationItem"]]
    assert all(i["qualificationItemResult"] == "qualified" for i in doc["recommendationItem"])


def test_live_campaign_offers_she_is_targeted_by(api, agent, headers, demo):
    marketing = headers("marketing", sub="m")
    assert api.call("POST", CAMPAIGNS, marketing, home_security())[0] == 201
    make_customer("ivy", held=(("po-broadband-500", 500),))            # not near contract end
    andrea = recommend(api, agent)
    item = next(i for i in andrea["recommendationItem"] if i["productOffering"]["id"] == "po-home-security")
    assert item["reason"][0]["code"] == "campaignOffer" and item["reason"][0]["campaign"]["name"] == "Home Security launch"
    ivy = recommend(api, agent, customer="ivy")
    assert "po-home-security" not in [i["productOffering"]["id"] for i in ivy["recommendationItem"]]


def test_a_customer_asks_for_herself_only_and_bad_requests_are_4xx(api, headers, demo):
    andrea = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    assert recommend(api, andrea)["relatedParty"]["id"] == "cust-andrea"
    assert api.call("POST", RECOMMEND, andrea, {"relatedParty": {"id": "cust-stacy", "@referredType": "Customer"}})[0] == 404
    assert api.call("POST", RECOMMEND, andrea, {"shoppingCart": [{"id": "nope"}]})[0] == 404
    stacys = cart(api, headers, "cust-stacy", "po-tv-max")
    assert api.call("POST", RECOMMEND, andrea, {"shoppingCart": [{"id": stacys["id"]}]})[0] == 404   # not hers
    marketing = headers("marketing", sub="m")
    assert api.call("POST", RECOMMEND, marketing, {"relatedParty": {"id": "cust-andrea"}})[0] == 403
    agent = headers("agent", channel="callcenter", sub="a")
    assert api.call("POST", RECOMMEND, agent, {})[0] == 400
    assert api.call("POST", RECOMMEND, agent, {"relatedParty": {"id": "nobody", "@referredType": "Customer"}})[0] == 404


def test_served_from_the_cached_catalogue_and_a_few_reads(api, agent, headers, demo):
    basket = cart(api, headers, "cust-andrea", "po-home-security")
    recommend(api, agent, basket=basket["id"])                          # warm the container's caches
    calls = Calls()
    with calls.counting():
        recommend(api, agent, basket=basket["id"])
    reads = {k: v for k, v in calls.counts.items() if k.startswith("dynamodb:")}
    assert sum(reads.values()) <= 3, reads
