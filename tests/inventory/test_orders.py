"""Completed child orders create and change products (from the order stream, real records,
delivered by the pump and the simulated stacks); replaying every record changes nothing; the 360
view and the rules read the inventory."""
from tests.support.streams import replay_order_stream
from tests.inventory.conftest import ORDERS, PRODUCTS, stored_products, valid_product
from tests.support.appointments import installed
from tests.support.orders import andrea_order, order_item, settle

CUSTOMER = "/tmf-api/customerManagement/v4"


def test_andreas_upsell_makes_the_bundle_and_its_components_ends_her_broadband_and_replays_change_nothing(
        api, demo, andrea, agent, stacks, pump):
    installed("cust-andrea", "po-extreme-bundle", "po-home-security")
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-extreme-bundle", "po-home-security"))
    assert status == 201
    assert settle(pump, order["id"])["state"] == "completed"
    _, held, _ = api.call("GET", f"{PRODUCTS}?relatedParty.id=cust-andrea", agent)
    mine = {p["id"]: p for p in held if p["id"].startswith(order["id"])}
    oid = order["id"]
    assert sorted(mine) == [f"{oid}-1", f"{oid}-1.1", f"{oid}-1.2", f"{oid}-1.3", f"{oid}-2"]
    bundle, security = mine[f"{oid}-1"], mine[f"{oid}-2"]
    assert bundle["isBundle"] and bundle["productOffering"]["id"] == "po-extreme-bundle"
    assert sorted(r["product"]["id"] for r in bundle["productRelationship"]) == [f"{oid}-1.1", f"{oid}-1.2", f"{oid}-1.3"]
    assert {r["relationshipType"] for r in bundle["productRelationship"]} == {"bundles"}
    assert bundle["productPrice"][0]["price"]["taxIncludedAmount"]["value"] == 60
    assert {mine[f"{oid}-1.{n}"]["productOffering"]["id"]: next(
        p["id"] for p in mine[f"{oid}-1.{n}"]["relatedParty"] if p["role"] == "fulfilmentStack") for n in (1, 2, 3)} == {
        "po-broadband-500": "csp-stack-a", "po-tv-max": "csp-stack-a", "po-mobile-unlimited": "csp-stack-b"}
    assert security["productSpecification"]["id"] == "ps-home-security"
    assert security["productOrderItem"] == [{"productOrderId": oid, "productOrderHref": order["href"],
                                             "orderItemId": "2", "orderItemAction": "add", "role": "origin",
                                             "@referredType": "ProductOrderItem"}]
    for product in mine.values():
        assert product["status"] == "active" and product["billingAccount"]["id"] == "acc-andrea"
        assert valid_product(product)
    # every record of the order table delivered twice more: the inventory is exactly as it was
    before = stored_products()
    assert replay_order_stream(pump) > 10
    assert stored_products() == before
    # the upsell: the Broadband 500 she held is what the bundle replaces, ended by the order's
    # delete item (from the catalogue's bundle), so nothing is billed twice
    _, old, _ = api.call("GET", f"{PRODUCTS}/prod-andrea-broadband", andrea)
    assert old["status"] == "terminated" and old["terminationDate"]
    assert [(r["productOrderId"], r["orderItemId"], r["orderItemAction"]) for r in old["productOrderItem"]] == [
        (oid, "1-r1", "delete")]
    # the 360 view and the rules' facts (recommendations, campaigns) read the inventory
    _, view, _ = api.call("GET", f"{CUSTOMER}/customer/cust-andrea/view360", agent)
    assert {p["id"] for p in view["productsHeld"]} == set(mine)
    from chalicelib.rules import service as rules

    held_offerings = {oid for oid, _ in rules.profile("cust-andrea")["held"]}
    assert {"po-extreme-bundle", "po-home-security", "po-broadband-500"} <= held_offerings


def test_a_completed_delete_item_terminates_the_product_once(api, demo, andrea, agent, stacks, pump):
    body = {"productOrderItem": [order_item("1", action="delete", product={"id": "prod-andrea-broadband"})],
            "relatedParty": [{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}]}
    status, order, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 201, order
    assert settle(pump, order["id"])["state"] == "completed"
    _, product, headers = api.call("GET", f"{PRODUCTS}/prod-andrea-broadband", andrea)
    assert product["status"] == "terminated" and product["terminationDate"] and headers["ETag"] == '"2"'
    assert [r["orderItemAction"] for r in product["productOrderItem"]] == ["delete"]
    before = stored_products()
    replay_order_stream(pump)
    assert stored_products() == before
    _, view, _ = api.call("GET", f"{CUSTOMER}/customer/cust-andrea/view360", agent)
    assert view["productsHeld"] == [] and view["contractEnding"] == []
    from chalicelib.rules import service as rules

    assert rules.profile("cust-andrea")["held"] == []
    # a terminated product cannot be ordered against any more
    status, error, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 422 and error["code"] == "unknownProduct"


def test_a_completion_never_touches_another_customers_product(aws, demo):
    from chalicelib.inventory import service, store

    stacy_before = store.load("prod-stacy-mobile")
    order = {"id": "o-x", "href": "h", "relatedParty": [{"id": "cust-andrea", "role": "customer"}],
             "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "prod-stacy-mobile"}}]}
    assert service.record_completed(order, order["productOrderItem"], "csp-stack-b", "2026-01-01T00:00:00Z") == 0
    assert store.load("prod-stacy-mobile") == stacy_before
    nobody = {**order, "relatedParty": [{"id": "cust-nobody", "role": "customer"}]}
    assert service.record_completed(nobody, nobody["productOrderItem"], None, "2026-01-01T00:00:00Z") == 0


def _held(api, agent, prefix):
    _, found, _ = api.call("GET", f"{PRODUCTS}?relatedParty.id=cust-andrea", agent)
    return {p["id"]: p for p in found if p["id"].startswith(prefix)}


def test_ending_a_bundle_ends_its_components_and_replays_change_nothing(api, demo, andrea, agent, stacks, pump):
    installed("cust-andrea", "po-extreme-bundle")
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-extreme-bundle"))
    assert status == 201 and settle(pump, order["id"])["state"] == "completed"
    oid = order["id"]
    body = {"productOrderItem": [order_item("1", action="delete", product={"id": f"{oid}-1"})],
            "relatedParty": [{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}]}
    status, ending, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 201, ending
    assert settle(pump, ending["id"])["state"] == "completed"
    mine = _held(api, agent, oid)
    assert sorted(mine) == [f"{oid}-1", f"{oid}-1.1", f"{oid}-1.2", f"{oid}-1.3"]
    assert {pid: p["status"] for pid, p in mine.items()} == dict.fromkeys(mine, "terminated")
    assert all(p["terminationDate"] for p in mine.values())
    # each component records the one item (of the bundle's delete, split by stack) that ended it
    ended_by = {mine[f"{oid}-1.{n}"]["productOffering"]["id"]: [
        (r["productOrderId"], r["orderItemId"], r["orderItemAction"]) for r in mine[f"{oid}-1.{n}"]["productOrderItem"]
        if r["productOrderId"] == ending["id"]] for n in (1, 2, 3)}
    assert ended_by == {"po-broadband-500": [(ending["id"], "1.1", "delete")],
                        "po-tv-max": [(ending["id"], "1.2", "delete")],
                        "po-mobile-unlimited": [(ending["id"], "1.3", "delete")]}
    before = stored_products()
    replay_order_stream(pump)
    assert stored_products() == before
    from chalicelib.rules import service as rules

    held_offerings = {o for o, _ in rules.profile("cust-andrea")["held"]}
    assert not held_offerings & {"po-extreme-bundle", "po-broadband-500", "po-tv-max", "po-mobile-unlimited"}


def _bundle_held(order_id, *offerings, at="2025-01-01T00:00:00Z"):
    """A bundle product (and its components) of an earlier order, without a contract term (so an
    upsell to a bundle qualifies), recorded as completed child order items record them."""
    from chalicelib.inventory import service

    order = {"id": order_id, "href": f"h/{order_id}", "relatedParty": [{"id": "cust-andrea", "role": "customer"}],
             "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "po-extreme-bundle"}}]}
    parts = [{"id": f"1.{n}", "action": "add", "productOffering": {"id": o},
              "productOrderItemRelationship": [{"id": "1", "relationshipType": "bundledIn"}]}
             for n, o in enumerate(offerings, 1)]
    assert service.record_completed(order, parts, "csp-stack-a", at) > 0
    return [f"{order_id}-1", *(f"{order_id}-1.{n}" for n in range(1, len(offerings) + 1))]


def test_an_upsell_from_a_bundle_ends_the_old_bundle_with_its_components(api, demo, andrea, agent, stacks, pump):
    old = _bundle_held("o-old", "po-broadband-500", "po-tv-max", "po-mobile-unlimited")
    installed("cust-andrea", "po-extreme-bundle")
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-extreme-bundle"))
    assert status == 201, order
    # the old bundle is ended whole (one delete item, split by stack), not its components one by one
    assert [(i["id"], i["product"]["id"]) for i in order["productOrderItem"] if i["action"] == "delete"] == [
        ("1-r1", "o-old-1"), ("1-r2", "prod-andrea-broadband")]
    assert settle(pump, order["id"])["state"] == "completed"
    ended = _held(api, agent, "o-old")
    assert {pid: p["status"] for pid, p in ended.items()} == dict.fromkeys(old, "terminated")
    new = _held(api, agent, order["id"])
    assert sorted(new) == [f"{order['id']}-1", *(f"{order['id']}-1.{n}" for n in (1, 2, 3))]
    assert {p["status"] for p in new.values()} == {"active"}
    before = stored_products()
    replay_order_stream(pump)
    assert stored_products() == before


def test_a_replayed_bundle_delete_writes_nothing(aws, demo):
    from chalicelib.inventory import service, store

    bundle = _bundle_held("o-b", "po-broadband-500", "po-tv-max")
    # the whole bundle's delete (not split by stack): the bundle and every component end, once
    ending = {"id": "o-e", "href": "h", "relatedParty": [{"id": "cust-andrea", "role": "customer"}],
              "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "o-b-1"}}]}
    at = "2026-01-01T00:00:00Z"
    assert service.record_completed(ending, ending["productOrderItem"], None, at) == 3
    assert {store.load(p)[0]["status"] for p in bundle} == {"terminated"}
    assert service.record_completed(ending, ending["productOrderItem"], None, at) == 0
