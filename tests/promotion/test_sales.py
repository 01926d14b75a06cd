"""The promotions priced into real sales over HTTP: a web basket from the campaign gets the
demo promotion with its name, duration and reason, a store basket does not; a quote and an
order's capture price the same promotion the same way (one evaluator, one pricing path); every
answer still valid against its own TMF spec (TMF663, TMF648)."""
import pytest

from tests.promotion.conftest import CARTS, PROMOTIONS, promotion
from tests.support import tmf_spec
from tests.support.orders import item

QUOTES = "/tmf-api/quoteManagement/v4/quote"
NAME = "Home Security welcome: 20% off Broadband"


def _spec(prefix):
    return next(tmf_spec.Spec(p) for p in tmf_spec.v4_specs() if p.name.startswith(prefix))


def promotion_alterations(prices):
    return [a for p in prices for a in p.get("priceAlteration") or [] if "promotion" in a]


@pytest.fixture
def app_token(headers):
    return headers("channel", channel="app", sub="app")


@pytest.fixture
def store_token(headers):
    return headers("channel", channel="store", sub="store-grafton")


def test_a_web_basket_from_the_campaign_gets_the_promotion_shown_per_item(api, demo, web):
    body = {"cartItem": [item("po-broadband-500")], "context": {"campaignCode": "camp-home-security"}}
    status, cart, _ = api.call("POST", CARTS, web, body)
    assert status == 201, cart
    assert _spec("TMF663").problems(cart, "POST", "/shoppingCart", 201) == []
    (line,) = cart["cartItem"]
    (alt,) = promotion_alterations(line["itemPrice"])
    assert alt["name"] == NAME and alt["promotion"]["id"] == "promo-home-security-broadband"
    assert alt["reason"] == "new customer from the Home Security campaign, on the web or the app"
    assert alt["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 6} and alt["price"]["percentage"] == 20
    assert line["promotionEvaluation"][0]["applied"] is True
    monthly = next(p for p in cart["cartTotalPrice"] if p["priceType"] == "recurring")
    assert monthly["description"] == "0 EUR/month for 6 months, then 24 EUR/month"
    assert NAME in [a["name"] for a in monthly["priceAlteration"]]


def test_the_channel_rule_holds_for_baskets(api, demo, web, app_token, store_token):
    body = {"cartItem": [item("po-broadband-500")], "context": {"campaignCode": "camp-home-security"}}
    for who, applies in ((web, True), (app_token, True), (store_token, False)):
        status, cart, _ = api.call("POST", CARTS, who, body)
        assert status == 201 and bool(promotion_alterations(cart["cartItem"][0]["itemPrice"])) is applies
    status, cart, _ = api.call("POST", CARTS, web, {"cartItem": [item("po-broadband-500")]})   # no campaign
    assert status == 201 and not promotion_alterations(cart["cartItem"][0]["itemPrice"])


def test_an_existing_customer_does_not_get_a_new_customer_promotion(api, demo, andrea):
    body = {"cartItem": [item("po-broadband-500")], "context": {"campaignCode": "camp-home-security"}}
    status, cart, _ = api.call("POST", CARTS, andrea, body)
    assert status == 201 and not promotion_alterations(cart["cartItem"][0]["itemPrice"])


def test_a_retired_promotion_no_longer_prices_the_next_change(api, demo, web, admin):
    body = {"cartItem": [item("po-broadband-500")], "context": {"campaignCode": "camp-home-security"}}
    cart = api.call("POST", CARTS, web, body)[1]
    assert promotion_alterations(cart["cartItem"][0]["itemPrice"])
    assert api.call("PATCH", f"{PROMOTIONS}/promo-home-security-broadband", admin, {"lifecycleStatus": "retired"})[0] == 200
    status, cart, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", web, {"cartItem": cart["cartItem"] + [item("po-tv-max")]})
    assert status == 200, cart
    assert all(not promotion_alterations(i["itemPrice"]) for i in cart["cartItem"])


def test_basket_quote_and_order_capture_price_a_promotion_alike(api, demo, web, agent, marketing):
    """One promotion for everyone on TV Max (3 free months): the basket, the agent's quote and the
    order capture's pricing (ordering's own call into pricing) show the same alteration."""
    body = promotion("TV welcome")
    body["pattern"][0]["criteriaGroup"] = [{"criteria": [{"criteriaParameter": "basketOffering",
                                                          "criteriaOperator": "=", "criteriaValue": "po-tv-max"}]}]
    assert api.call("POST", PROMOTIONS, marketing, body)[0] == 201
    cart = api.call("POST", CARTS, web, {"cartItem": [item("po-tv-max")]})[1]
    basket_alt = promotion_alterations(cart["cartItem"][0]["ItemTotalPrice"])
    status, quote, _ = api.call("POST", QUOTES, agent, {"quoteItem": [{"productOffering": {"id": "po-tv-max"},
                                                                     "quantity": 1}],
                                                      "relatedParty": [{"id": "cust-acme", "role": "customer"}]})
    assert status == 201, quote
    assert _spec("TMF648").problems(quote, "POST", "/quote", 201) == []
    quote_alt = promotion_alterations(quote["quoteItem"][0]["quoteItemPrice"])
    from chalicelib.ordering import capture as ordering

    offering = ordering.catalogue.offering("po-tv-max")
    items, totals, _ = ordering._priced([{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-tv-max"}}],
                                        {"1": offering}, "web")
    order_alt = promotion_alterations(items[0]["itemTotalPrice"])
    assert basket_alt == quote_alt == order_alt and len(basket_alt) == 1
    assert basket_alt[0]["applicationDuration"] == 3 and basket_alt[0]["price"]["taxIncludedAmount"]["value"] == 20
    assert next(t for t in totals if t["priceType"] == "recurring")["description"] == "0 EUR/month for 3 months, then 20 EUR/month"
