"""Self-service checkout (issue 12 point 1) and one set of facts from basket to order (issue 20),
in-process (moto, chalice test client): a customer orders her own active basket with
POST productOrder {"shoppingCart": {"id"}}; the basket is `ordered` in the order's transaction;
qualification and prices are checked again then (a changed price is shown, and charged only once
accepted); another customer, a channel without the customer, an anonymous visitor and an agent
cannot; 20 concurrent checkouts make one order; every order records its attribution."""

from tests.ordering.conftest import CARTS, CUSTOMER, ORDERS
from tests.support.appointments import installed
from tests.support.stored import stored_items
from tests.support.concurrency import at_once

PC = "/tmf-api/productCatalogManagement/v4"


def _cart(api, who, *offerings, **context):
    body = {"cartItem": [{"productOffering": {"id": o}} for o in offerings]}
    if context:
        body["context"] = context
    status, cart, _ = api.call("POST", CARTS, who, body)
    assert status == 201, cart
    return cart


def test_she_checks_out_on_the_web_the_basket_she_started_in_the_app(api, demo, headers):
    app = headers("customer", channel="app", customerId="cust-andrea", sub="cust-andrea")
    web = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    cart = _cart(api, app, "po-home-security", campaignCode="cmp-spring-sale")
    installed("cust-andrea", "po-home-security")
    status, order, headers_ = api.call("POST", ORDERS, web, {"shoppingCart": {"id": cart["id"]}})
    assert status == 201, order
    assert headers_["Location"] == order["href"] and order["shoppingCart"]["id"] == cart["id"]
    assert [i["productOffering"]["id"] for i in order["productOrderItem"]] == ["po-home-security"]
    assert order["channel"][0]["id"] == "web"
    assert order["attribution"] == {"campaignCode": "cmp-spring-sale", "channel": "web",
                                    "originatingChannel": "app", "selfService": True}
    assert api.call("GET", f"{CARTS}/{cart['id']}", app)[1]["status"] == "ordered"
    status, again, _ = api.call("POST", ORDERS, app, {"shoppingCart": {"id": cart["id"]}})
    assert status == 200 and again["id"] == order["id"] and len(stored_items("order")) == 1


def test_nobody_else_checks_out_her_basket_and_nothing_is_written(api, demo, andrea, stacy, web, agent):
    cart = _cart(api, andrea, "po-home-security")
    visitor = _cart(api, web, "po-home-security")
    cases = [
        (stacy, cart["id"], 404, "notFound"),               # another customer
        (web, cart["id"], 422, "identifyFirst"),            # a channel without the customer
        (web, visitor["id"], 422, "identifyFirst"),         # an anonymous visitor's own basket
        (agent, cart["id"], 422, "needsApproval"),          # an agent: the customer approves
        (stacy, visitor["id"], 404, "notFound"),
    ]
    for who, basket_id, status, code in cases:
        got, body, _ = api.call("POST", ORDERS, who, {"shoppingCart": {"id": basket_id}})
        assert (got, body["code"]) == (status, code), body
        assert body["@type"] == "Error" and body["message"]
    got, body, _ = api.call("POST", ORDERS, web, {"productOrderItem": [
        {"id": "1", "action": "add", "productOffering": {"id": "po-home-security"}}]})
    assert (got, body["code"]) == (422, "identifyFirst")
    assert "identify" in body["message"]
    assert stored_items("order") == []
    assert api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"] == "active"


def test_twenty_concurrent_checkouts_make_exactly_one_order(api, demo, andrea):
    from chalicelib.auth import Caller
    from chalicelib.errors import ApiError
    from chalicelib.ordering import capture

    cart = _cart(api, andrea, "po-home-security", "po-tv-max", "po-broadband-500")
    installed("cust-andrea", "po-home-security", "po-tv-max", "po-broadband-500")
    caller = Caller(sub="cust-andrea", role="customer", channel="web", customer_id="cust-andrea")
    answers = at_once(20, lambda _: capture.create({"shoppingCart": {"id": cart["id"]}}, caller))
    results = [(a.status, a.code) if isinstance(a, ApiError) else (a[0]["id"], a[2]) for a in answers]
    created = [r for r in results if r[1] is True]
    assert len(created) == 1, results
    assert all(r[0] == created[0][0] for r in results if isinstance(r[1], bool)), results
    assert all(r in ((409, "basketChanged"),) for r in results if not isinstance(r[1], bool)), results
    assert len(stored_items("order")) == 1


def test_a_price_changed_since_adding_is_shown_and_charged_only_once_accepted(api, demo, andrea, admin):
    cart = _cart(api, andrea, "po-home-security", "po-tv-max", "po-broadband-500")
    installed("cust-andrea", "po-home-security", "po-tv-max", "po-broadband-500")
    tv = next(i for i in cart["cartItem"] if i["productOffering"]["id"] == "po-tv-max")
    assert tv["agreedPrice"][0]["taxIncludedAmount"]["value"] == 20
    status, body, _ = api.call("PATCH", f"{PC}/productOfferingPrice/pop-tv-monthly", admin,
                               {"price": {"unit": "EUR", "value": 24}})
    assert status == 200, body
    status, refused, _ = api.call("POST", ORDERS, andrea, {"shoppingCart": {"id": cart["id"]}})
    assert (status, refused["code"]) == (409, "priceChanged"), refused
    [change] = refused["priceChange"]
    assert change["cartItem"]["id"] == tv["id"] and change["name"] == "TV Max"
    assert change["agreedPrice"][0]["taxIncludedAmount"]["value"] == 20
    assert change["newPrice"][0]["taxIncludedAmount"]["value"] == 24
    assert refused["acceptPriceChange"] in refused["message"]
    assert stored_items("order") == [] and api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"] == "active"
    # the price moves again after she saw it: her acceptance of 24 does not accept 26
    api.call("PATCH", f"{PC}/productOfferingPrice/pop-tv-monthly", admin, {"price": {"unit": "EUR", "value": 26}})
    status, again, _ = api.call("POST", ORDERS, andrea, {"shoppingCart": {"id": cart["id"]},
                                                         "acceptPriceChange": refused["acceptPriceChange"]})
    assert (status, again["code"]) == (409, "priceChanged") and again["priceChange"][0]["newPrice"][0][
        "taxIncludedAmount"]["value"] == 26
    assert stored_items("order") == []
    status, order, _ = api.call("POST", ORDERS, andrea, {"shoppingCart": {"id": cart["id"]},
                                                         "acceptPriceChange": again["acceptPriceChange"]})
    assert status == 201, order
    tv_line = next(i for i in order["productOrderItem"] if i["productOffering"]["id"] == "po-tv-max")
    assert tv_line["itemPrice"][0]["price"]["taxIncludedAmount"]["value"] == 26
    assert "acceptPriceChange" not in order
    assert api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"] == "ordered"


def test_acceptance_without_a_basket_is_refused(api, demo, andrea):
    status, body, _ = api.call("POST", ORDERS, andrea, {
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "po-home-security"}}],
        "acceptPriceChange": "pc-x"})
    assert (status, body["code"]) == (400, "invalidInput") and stored_items("order") == []


def _new_customer(api, agent):
    """A customer created through the API: phone, email, consent, no address on her record."""
    status, body, _ = api.call("POST", f"{CUSTOMER}/customer", agent, {
        "name": "Nadia Test", "engagedParty": {"id": "party-nadia", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "preferred": True,
                           "characteristic": {"phoneNumber": "+447700900555"}},
                          {"mediumType": "email", "characteristic": {"emailAddress": "nadia@example.com"}}],
        "contactPreference": {"consent": {"sms": {"service": True}, "email": {"service": True}}}})
    assert status == 201, body
    return body["id"]


def test_the_basket_postcode_qualifies_the_order_when_her_record_has_no_address(api, demo, headers, agent):
    cid = _new_customer(api, agent)
    her = headers("customer", channel="web", customerId=cid, sub=cid)
    cart = _cart(api, her, "po-broadband-500", postCode="BS1 4DJ")
    installed(cid, "po-broadband-500", postcode="BS1 4DJ")
    assert cart["qualificationResult"] == "qualified", cart["cartItem"][0]["qualification"]
    status, order, _ = api.call("POST", ORDERS, her, {"shoppingCart": {"id": cart["id"]}})
    assert status == 201, order
    # the same items without the basket: her record has no address, so broadband cannot be checked
    status, body, _ = api.call("POST", ORDERS, her, {"productOrderItem": [
        {"id": "1", "action": "add", "productOffering": {"id": "po-broadband-500"}}]})
    assert (status, body["code"]) == (422, "notQualified")


def test_a_fact_changed_since_the_basket_was_qualified_is_named(api, demo, andrea, agent):
    """Qualified as an individual; by checkout her record says she is an organisation's."""
    from chalicelib.basket import store as basket_store

    cart = _cart(api, andrea, "po-extreme-bundle")
    installed("cust-andrea", "po-extreme-bundle")
    assert cart["qualificationResult"] == "qualified", cart
    found = basket_store.load_header(cart["id"])
    snapshot = {**found.facts, "customer": {**found.facts["customer"], "customerType": "organization"}}
    basket_store.write(found.doc, found.version, snapshot, 2_000_000_000, found.composition)   # as if qualified with other facts
    status, body, _ = api.call("POST", ORDERS, andrea, {"shoppingCart": {"id": cart["id"]}})
    assert status == 201, body     # the change does not matter to the rules: ordered
    other = _cart(api, andrea, "po-tv-max", "po-broadband-500")
    found = basket_store.load_header(other["id"])
    snapshot = {**found.facts, "customer": {**found.facts["customer"], "held": []}}
    basket_store.write(found.doc, found.version, snapshot, 2_000_000_000, found.composition)
    status, body, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent,
                               {"contactMedium": [{"mediumType": "postalAddress", "characteristic": {
                                   "postCode": "IV1 1AA", "country": "GB"}}]})
    assert status == 200, body
    web = {**andrea}
    status, refused, _ = api.call("POST", ORDERS, web, {"shoppingCart": {"id": other["id"]}})
    # the basket has no postcode of its own: her record's moved to one without fibre
    assert (status, refused["code"]) == (422, "factsChanged"), refused
    assert "postCode BS1 4DJ -> IV1 1AA" in refused["message"] and "products held +po-broadband-500" in refused[
        "message"]


def test_a_basket_before_her_approval_is_ordered_by_nobody(api, demo, andrea, agent):
    """With an agent (withAgent) or handed back for her approval (awaitingApproval), a basket is not
    an order: not the agent's, and not hers by productOrder either (she approves a version by the
    link she was sent, which approves and orders it in one write)."""
    cart = _cart(api, andrea, "po-home-security")
    assert api.call("PATCH", f"{CARTS}/{cart['id']}", agent, {"status": "withAgent"})[0] == 200
    for who in (agent, andrea):
        got, body, _ = api.call("POST", ORDERS, who, {"shoppingCart": {"id": cart["id"]}})
        assert (got, body["code"]) == (409, "basketNotOrderable"), body
    assert api.call("PATCH", f"{CARTS}/{cart['id']}", agent, {"status": "awaitingApproval"})[0] == 200
    for who in (agent, andrea):
        got, body, _ = api.call("POST", ORDERS, who, {"shoppingCart": {"id": cart["id"]}})
        assert (got, body["code"]) == (422, "needsApproval"), body
    assert stored_items("order") == []
    assert api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"] == "awaitingApproval"


def test_a_refusal_names_the_items_it_is_about_not_by_their_text(aws):
    """Whoever acts on a refused order (the recovery path puts a note on each basket item named)
    gets the ids of the items the refusal is about, not text to search: an item whose id or name
    happens to appear in another item's reason is not named."""
    from chalicelib.errors import ApiError
    from chalicelib.ordering import capture

    class Holder:
        held = {}

    items = [{"id": "1", "action": "add", "productOffering": {"id": "po-no-such-1"}},
             {"id": "po-no-such-1", "action": "add", "productOffering": {"id": "po-no-such-2"}}]
    try:
        capture._offerings(items, Holder(), "web")
    except ApiError as exc:
        assert exc.items == ("1",), (exc.items, exc.message)
    else:
        raise AssertionError("an offering not in the catalogue was accepted")
