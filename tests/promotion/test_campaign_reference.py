"""A campaign names a TMF671 promotion instead of a price of its own: the reference is checked
(422 for an unknown or retired promotion, nothing written) and completed, and a campaign link's
landing answer carries it so the storefront can show what the visitor gets."""
from tests.support.campaigns import home_security
from tests.support.names import CAMPAIGNS
from tests.promotion.conftest import PROMOTIONS
from tests.support.stored import stored_items

DEMO = "promo-home-security-broadband"


def test_a_campaign_references_a_promotion(api, demo, marketing):
    status, doc, _ = api.call("POST", CAMPAIGNS, marketing, home_security(promotion={"id": DEMO}))
    assert status == 201, doc
    ref = doc["promotion"]
    assert (ref["id"], ref["name"], ref["@referredType"]) == (DEMO, "Home Security welcome: 20% off Broadband",
                                                              "Promotion")
    assert ref["href"].endswith(f"{PROMOTIONS}/{DEMO}")
    status, landed, _ = api.call("GET", f"/c/{doc['id']}.0123456789ab", {})
    assert status == 200 and landed["promotion"] == ref
    status, changed, _ = api.call("PATCH", f"{CAMPAIGNS}/{doc['id']}", marketing, {"description": "now with 20% off"})
    assert status == 200 and changed["promotion"]["id"] == DEMO


def test_an_unknown_or_retired_promotion_is_refused_and_nothing_is_written(api, demo, marketing, admin):
    before = stored_items("campaign")
    status, error, _ = api.call("POST", CAMPAIGNS, marketing, home_security(promotion={"id": "promo-nothing"}))
    assert status == 422 and error["code"] == "unknownPromotion"
    assert api.call("PATCH", f"{PROMOTIONS}/{DEMO}", admin, {"lifecycleStatus": "retired"})[0] == 200
    status, error, _ = api.call("POST", CAMPAIGNS, marketing, home_security(promotion={"id": DEMO}))
    assert status == 422 and error["code"] == "unknownPromotion"
    assert stored_items("campaign") == before


def test_a_recommendation_from_a_campaign_names_its_promotion(api, demo, marketing, headers):
    from tests.support.campaigns import recommend

    status, campaign, _ = api.call("POST", CAMPAIGNS, marketing, home_security(promotion={"id": DEMO}))
    assert status == 201, campaign
    agent = headers("agent", channel="callcenter", sub="agent-007")
    found = recommend(api, agent)
    item = next(i for i in found["recommendationItem"] if i["productOffering"]["id"] == "po-home-security")
    reason = next(r for r in item["reason"] if r["code"] == "campaignOffer")
    assert reason["campaign"]["id"] == campaign["id"] and reason["promotion"] == campaign["promotion"]
