"""TMF637 product rules without AWS: making a product, status moves, who sees what, and what a
completed order item does (and does not do the second time)."""
import pytest

from chalicelib.errors import ApiError
from chalicelib.inventory import domain

AT = "2026-01-15T10:00:00.000Z"
ANDREA = {"id": "cust-andrea", "name": "Andrea Rossi", "href": "h/cust-andrea",
          "account": [{"id": "acc-andrea", "name": "home", "@referredType": "BillingAccount"}]}
ORDER = {"id": "o1", "href": "h/o1", "orderDate": AT, "productOrderItem": [
    {"id": "1", "action": "add", "productOffering": {"id": "po-extreme-bundle", "name": "Extreme Bundle"},
     "itemPrice": [{"name": "Extreme monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                    "price": {"taxIncludedAmount": {"unit": "EUR", "value": 60}},
                    "priceAlteration": [{"name": "6 months free", "priceType": "discount", "applicationDuration": 6,
                                         "recurringChargePeriod": "month",
                                         "price": {"taxIncludedAmount": {"unit": "EUR", "value": 60}}}]}],
     "itemTerm": [{"name": "24 months", "duration": {"amount": 24, "units": "month"}}]}],
    "relatedParty": [{"id": "cust-andrea", "role": "customer"}]}


def refused(fn, status=400):
    with pytest.raises(ApiError) as err:
        fn()
    assert err.value.status == status, err.value.message
    return err.value


def product(**extra):
    return domain.new_product({"name": "Broadband 500", "status": "active", **extra}, "p1", "h/p1", ANDREA,
                              "csp-stack-a")


def test_a_new_product_has_what_the_kit_and_billing_need():
    doc = product()
    assert doc["@type"] == "Product" and doc["id"] == "p1" and doc["href"] == "h/p1"
    assert doc["billingAccount"] == {"id": "acc-andrea", "name": "home", "@referredType": "BillingAccount"}
    assert doc["productCharacteristic"] == [] and doc["productPrice"] == []
    assert domain.customer_of(doc) == "cust-andrea" and domain.stack_of(doc) == "csp-stack-a"
    # a customer without a billing account is billed on their own account
    other = domain.new_product({"status": "created"}, "p2", "h", {"id": "cust-x", "name": "X"}, None)
    assert other["billingAccount"]["id"] == "cust-x" and domain.stack_of(other) is None
    # the caller cannot name another customer or a second customer: the holder is the one given
    doc = product(relatedParty=[{"id": "cust-stacy", "role": "customer", "@referredType": "Customer"}])
    assert [p["id"] for p in doc["relatedParty"]] == ["cust-andrea", "csp-stack-a"]


@pytest.mark.parametrize("body", [
    {"name": "x"},                                                         # no status (Product_Create)
    {"status": "sleeping"},
    {"status": "aborted "},                                                # in the v4 enum, with its typo: not ours
    {"status": "active", "productCharacteristic": [{"name": "colour"}]},  # no value
    {"status": "active", "productPrice": [{"price": {}}]},                 # no priceType
    {"status": "active", "productTerm": [{"validFor": {"startDateTime": "2026-01-01T00:00:00Z",
                                                       "endDateTime": "2025-01-01T00:00:00Z"}}]},
    {"status": "active", "startDate": "tomorrow"},
    {"status": "active", "isBundle": "yes"},
    {"status": "active", "relatedParty": {"id": "x"}},
    {"status": "active", "relatedParty": [{"id": "x", "role": "fulfilmentStack", "@referredType": "Organization"}]},
    {"status": "active", "productRelationship": [{"relationshipType": "bundles"}]},
    {"status": "active", "name": "x" * 300},
    {"status": "active", "description": "x" * 500_000},
])
def test_bad_products_are_refused(body):
    refused(lambda: domain.new_product(body, "p", "h", ANDREA, "csp-stack-a"))


def test_status_moves_follow_the_life_cycle():
    doc = product()
    suspended = domain.patched(doc, {"status": "suspended"}, AT)
    assert suspended["status"] == "suspended" and "terminationDate" not in suspended
    ended = domain.patched(suspended, {"status": "terminated"}, AT)
    assert ended["terminationDate"] == AT
    err = refused(lambda: domain.patched(ended, {"status": "active"}, AT), 422)
    assert err.code == "invalidStatusTransition"
    refused(lambda: domain.patched(product(status="created"), {"status": "suspended"}, AT), 422)
    assert domain.patched(doc, {"status": "active", "description": "same status is fine"}, AT)["description"]


@pytest.mark.parametrize("patch", [
    {"id": "other"}, {"href": "x"}, {"@type": "Service"}, {"status": None},
    {"relatedParty": [{"id": "cust-stacy", "role": "customer", "@referredType": "Customer"}]},
    {"relatedParty": None}, {"productOrderItem": []}, {"productPrice": "free"},
])
def test_patches_cannot_change_what_the_server_owns(patch):
    refused(lambda: domain.patched(product(), patch, AT))


def test_who_sees_a_product():
    doc = product()
    assert domain.visible_to(doc, "agent", None, None)
    assert domain.visible_to(doc, "customer", "cust-andrea", None)
    assert not domain.visible_to(doc, "customer", "cust-stacy", None)
    assert not domain.visible_to(doc, "channel", "cust-andrea", None)   # the customer's own token reads hers
    assert not domain.visible_to(doc, "channel", None, None)
    assert domain.visible_to(doc, "stack", None, "csp-stack-a")
    assert not domain.visible_to(doc, "stack", None, "csp-stack-b")
    assert not domain.visible_to(doc, "marketing", None, None)


def test_an_add_item_makes_an_active_product_with_prices_promotion_end_and_contract():
    item = {**ORDER["productOrderItem"][0], "product": {
        "productCharacteristic": [{"name": "colour", "value": "silver"}],
        "productSpecification": {"id": "ps-broadband", "@referredType": "ProductSpecification"}}}
    doc = domain.from_order_item(ORDER, item, "o1-1", "h", AT, ANDREA, "csp-stack-a", item["itemPrice"])
    assert doc["status"] == "active" and doc["startDate"] == AT and doc["orderDate"] == AT
    assert doc["productOffering"]["id"] == "po-extreme-bundle"
    assert doc["productSpecification"]["id"] == "ps-broadband"
    assert doc["productCharacteristic"] == [{"name": "colour", "value": "silver"}]
    [price] = doc["productPrice"]
    assert price["price"]["taxIncludedAmount"]["value"] == 60
    [promo] = price["productPriceAlteration"]
    assert promo["applicationDuration"] == 6 and promo["validFor"]["endDateTime"] == "2026-07-15T10:00:00.000Z"
    [term] = doc["productTerm"]
    assert term["validFor"] == {"startDateTime": AT, "endDateTime": "2028-01-15T10:00:00.000Z"}
    assert domain.applied(doc, "o1", "1") and not domain.applied(doc, "o1", "2")


def test_terms_in_years_and_the_end_of_short_months():
    [term] = domain.terms([{"duration": {"amount": 1, "units": "year"}}, {"duration": {"amount": 0, "units": "month"}}],
                          "2024-01-31T00:00:00.000Z")
    assert term["duration"] == {"amount": 12, "units": "month"}
    assert term["validFor"]["endDateTime"] == "2025-01-28T00:00:00.000Z"
    assert domain.terms([{"duration": {"amount": 3, "units": "week"}}], AT) == []


def test_a_bundle_relates_to_each_component_once():
    bundle = domain.bundle_from(ORDER, ORDER["productOrderItem"][0], "o1-1", "h", AT, ANDREA)
    assert bundle["isBundle"] and bundle["productRelationship"] == []
    component = {"id": "o1-1.1", "href": "h/o1-1.1", "name": "Broadband 500"}
    once = domain.with_component(bundle, component)
    assert once["productRelationship"][0]["product"]["id"] == "o1-1.1"
    assert once["productRelationship"][0]["relationshipType"] == "bundles"
    assert domain.with_component(once, component) is None
    assert domain.bundled_in({"productOrderItemRelationship": [{"id": "1", "relationshipType": "bundledIn"}]}) == "1"


def test_delete_and_modify_items_apply_once():
    doc = product(productCharacteristic=[{"name": "speed", "value": "500"}, {"name": "router", "value": "v1"}])
    delete = {"id": "3", "action": "delete", "product": {"id": "p1"}}
    ended = domain.changed_by_item(doc, ORDER, delete, AT, [])
    assert ended["status"] == "terminated" and ended["terminationDate"] == AT
    assert domain.changed_by_item(ended, ORDER, delete, AT, []) is None          # replayed
    modify = {"id": "4", "action": "modify", "product": {"id": "p1", "productCharacteristic": [
        {"name": "speed", "value": "1000"}]}}
    changed = domain.changed_by_item(doc, ORDER, modify, AT, [])
    assert {c["name"]: c["value"] for c in changed["productCharacteristic"]} == {"speed": "1000", "router": "v1"}
    assert changed["status"] == "active" and changed["productPrice"] == doc["productPrice"]
    assert domain.changed_by_item(changed, ORDER, modify, AT, []) is None


def test_the_route_before_tmf637_keeps_its_contract():
    body = domain.without_contract({"name": "TV", "contract": {"startDate": "2025-01-01T00:00:00Z"}})
    assert body == {"name": "TV", "productTerm": [{"name": "contract", "validFor": {
        "startDateTime": "2025-01-01T00:00:00Z"}, "@type": "ProductTerm"}]}
    refused(lambda: domain.without_contract({"contract": {"endDate": "2025-01-01T00:00:00Z"}}))
    refused(lambda: domain.without_contract({"contract": "soon"}))
