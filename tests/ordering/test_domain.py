"""Ordering domain rules, without AWS: decomposition by catalogue and routing table, waves,
the parent's state from its children, stack reports, cancellation's point of no return."""
import pytest

from chalicelib.catalog import demo as catalog_demo
from chalicelib.errors import ApiError
from chalicelib.ordering import domain

CATALOGUE = {k: {d["id"]: d for d in docs} for k, docs in catalog_demo.CATALOGUE.items()}
CATALOGUE["productOffering"]["po-home-security"] = {
    "id": "po-home-security", "name": "Home Security", "productSpecification": {"id": "ps-home-security"}}
CATALOGUE["productSpecification"]["ps-home-security"] = {
    "id": "ps-home-security", "relatedParty": [{"id": "iot-partner-x", "role": "fulfilmentStack"}]}
ROUTING = domain.default_routing()


def item(iid, offering, action="add", **extra):
    return {"id": iid, "action": action, "productOffering": {"id": offering}, **extra}


def parts(items, routing=ROUTING, country="GB", brand=None, held=None):
    return domain.parts(items, CATALOGUE["productOffering"].get, CATALOGUE["productSpecification"].get,
                        held or {}, routing, country, brand)


def test_extreme_bundle_and_home_security_make_three_child_orders_on_three_stacks():
    plans = domain.decompose(parts([item("1", "po-extreme-bundle"), item("2", "po-home-security")]), ROUTING)
    assert [(p.stack, [x.item_id for x in p.parts]) for p in plans] == [
        ("csp-stack-a", ["1.1", "1.2"]), ("csp-stack-b", ["1.3"]), ("iot-partner-x", ["2"])]
    assert domain.waves(plans) == [["csp-stack-a", "csp-stack-b", "iot-partner-x"]]
    tv = plans[0].parts[1].item
    assert tv["productOffering"]["id"] == "po-tv-max"
    assert tv["productOrderItemRelationship"] == [{"id": "1", "relationshipType": "bundledIn"}]


def test_sim_activation_waits_for_the_handset_in_its_own_child_order():
    plans = domain.decompose(parts([item("1", "po-phone-x"), item("2", "po-phone-x-plan-24")]), ROUTING)
    assert [(p.key, p.depends_on) for p in plans] == [
        ("csp-stack-b", []), ("csp-stack-b~after~ps-handset", ["csp-stack-b"])]
    assert plans[1].reason == "SIM activation after the handset ships"
    assert domain.waves(plans) == [["csp-stack-b"], ["csp-stack-b~after~ps-handset"]]
    alone = domain.decompose(parts([item("1", "po-phone-x-plan-24")]), ROUTING)
    assert [(p.key, p.depends_on) for p in alone] == [("csp-stack-b", [])]


def test_routing_table_by_country_and_brand():
    assert {p.stack for p in parts([item("1", "po-broadband-500")], country="IT")} == {"csp-stack-b"}
    assert {p.stack for p in parts([item("1", "po-mobile-unlimited")], brand="Volta")} == {"csp-stack-a"}
    assert {p.stack for p in parts([item("1", "po-broadband-500")])} == {"csp-stack-a"}


def test_unknown_stack_in_routing_table_and_missing_stack_are_refused():
    wrong = domain.Routing.from_data({"routes": [{"fulfilmentStack": "csp-stack-a", "stack": "csp-stack-z"}]})
    with pytest.raises(domain.Unroutable) as exc:
        parts([item("1", "po-broadband-500")], routing=wrong)
    assert exc.value.code == "unknownStack" and "csp-stack-z" in exc.value.message
    with pytest.raises(domain.Unroutable) as exc:
        parts([item("1", "po-nothing")])
    assert exc.value.code == "unknownOffering"


def test_modify_and_delete_route_by_the_product_held():
    held = {"prod-1": {"id": "prod-1", "productOffering": {"id": "po-broadband-500"}}}
    found = parts([{"id": "1", "action": "delete", "product": {"id": "prod-1"}}], held=held)
    assert [(p.stack, p.item["action"]) for p in found] == [("csp-stack-a", "delete")]


@pytest.mark.parametrize("states, expected", [
    (["completed", "completed"], "completed"),
    (["completed", "failed"], "partial"),
    (["completed", "cancelled"], "partial"),
    (["failed", "failed"], "failed"),
    (["failed", "cancelled"], "failed"),
    (["cancelled", "cancelled"], "cancelled"),
    (["completed", "held"], "held"),
    (["completed", "inProgress"], "inProgress"),
    (["acknowledged", "acknowledged"], "acknowledged"),
    (["held", "inProgress"], "inProgress"),
])
def test_state_of_a_whole_from_its_parts(states, expected):
    assert domain.state_from(states) == expected


def test_parent_follows_children_and_bundle_items_follow_components():
    parent = {"id": "p", "state": "inProgress", "productOrderItem": [{"id": "1", "state": "acknowledged"},
                                                                       {"id": "2", "state": "acknowledged"}]}
    children = [
        {"state": "completed", "productOrderItem": [
            {"id": "1.1", "state": "completed", "productOrderItemRelationship": [{"id": "1", "relationshipType": "bundledIn"}]}]},
        {"state": "failed", "productOrderItem": [
            {"id": "1.2", "state": "failed", "productOrderItemRelationship": [{"id": "1", "relationshipType": "bundledIn"}]}]},
        {"state": "completed", "productOrderItem": [{"id": "2", "state": "completed"}]}]
    out = domain.follow_children(parent, children, "2026-01-01T00:00:00.000Z")
    assert out["state"] == "partial" and out["completionDate"]
    assert [i["state"] for i in out["productOrderItem"]] == ["failed", "completed"]


def test_stack_reports_move_a_child_until_it_is_final():
    child = {"id": "c", "state": "acknowledged", "productOrderItem": [{"id": "1", "state": "acknowledged"}]}
    moving = domain.apply_report(child, {"state": "inProgress"}, "t1")
    assert moving["state"] == "inProgress" and moving["productOrderItem"][0]["state"] == "inProgress"
    done = domain.apply_report(moving, {"state": "completed"}, "t2")
    assert done["state"] == "completed" and done["completionDate"] == "t2"
    assert domain.apply_report(done, {"state": "failed"}, "t3") == done   # late or repeated: no change
    with pytest.raises(ApiError) as refused:
        domain.apply_report(child, {"state": "partial"}, "t1")
    assert refused.value.status == 400


def test_point_of_no_return():
    child = {"state": "acknowledged", "productOrderItem": [{"id": "1", "state": "acknowledged"}]}
    assert domain.cancellable(child)
    assert not domain.cancellable({**child, "state": "inProgress"})
    assert not domain.cancellable({**child, "productOrderItem": [{"id": "1", "state": "inProgress"}]})
    out = domain.cancelled(child, "t", "changed my mind")
    assert out["state"] == "cancelled" and out["productOrderItem"][0]["state"] == "cancelled"


def test_an_upsell_to_a_bundle_ends_what_the_bundle_replaces():
    held = {"p-bb": {"id": "p-bb", "name": "Broadband 500", "productOffering": {"id": "po-broadband-500"}},
            "p-mob": {"id": "p-mob", "productOffering": {"id": "po-mobile-unlimited"}},
            "p-sec": {"id": "p-sec", "productOffering": {"id": "po-home-security"}}}
    offering = CATALOGUE["productOffering"].get
    out = domain.replaced_items([item("1", "po-extreme-bundle"), item("2", "po-home-security")], offering, held)
    assert [(i["id"], i["action"], i["product"]["id"]) for i in out] == [("1-r1", "delete", "p-bb"),
                                                                          ("1-r2", "delete", "p-mob")]
    assert out[0]["productOrderItemRelationship"] == [{"id": "1", "relationshipType": "supersededBy"}]
    # what the order already changes is left to its own item; no bundle, nothing replaced
    mine = [item("1", "po-extreme-bundle"), {"id": "2", "action": "modify", "product": {"id": "p-bb"}}]
    assert [i["product"]["id"] for i in domain.replaced_items(mine, offering, held)] == ["p-mob"]
    assert domain.replaced_items([item("1", "po-tv-max")], offering, held) == []
    assert domain.replaced_items([item("1", "po-extreme-bundle")], offering, {}) == []
    with pytest.raises(ApiError):
        domain.replaced_items([item("1", "po-extreme-bundle"), item("1-r1", "po-tv-max")], offering, held)


def test_an_upsell_from_a_bundle_ends_the_bundle_held_not_its_components():
    def product(pid, offering, **extra):
        return {"id": pid, "productOffering": {"id": offering}, **extra}

    bundles = [{"relationshipType": "bundles", "product": {"id": f"p-old-1.{n}"}} for n in (1, 2, 3)]
    held = {"p-old-1": product("p-old-1", "po-extreme-bundle", isBundle=True, productRelationship=bundles),
            "p-old-1.1": product("p-old-1.1", "po-broadband-500"), "p-old-1.2": product("p-old-1.2", "po-tv-max"),
            "p-old-1.3": product("p-old-1.3", "po-mobile-unlimited"), "p-bb": product("p-bb", "po-broadband-500")}
    offering = CATALOGUE["productOffering"].get
    out = domain.replaced_items([item("1", "po-extreme-bundle")], offering, held)
    assert [(i["id"], i["action"], i["product"]["id"]) for i in out] == [("1-r1", "delete", "p-bb"),
                                                                          ("1-r2", "delete", "p-old-1")]
    # the bundle the order already ends is left to its own item; a second bundle item ends nothing twice
    mine = [item("1", "po-extreme-bundle"), {"id": "2", "action": "delete", "product": {"id": "p-old-1"}}]
    assert [i["product"]["id"] for i in domain.replaced_items(mine, offering, held)] == ["p-bb"]
    twice = [item("1", "po-extreme-bundle"), item("2", "po-extreme-bundle")]
    assert [i["product"]["id"] for i in domain.replaced_items(twice, offering, held)] == ["p-bb", "p-old-1"]
    # a component whose bundle is no longer held (terminated) is ended on its own
    alone = {k: v for k, v in held.items() if k != "p-old-1"}
    assert [i["product"]["id"] for i in domain.replaced_items([item("1", "po-extreme-bundle")], offering, alone)] \
        == ["p-bb", "p-old-1.1", "p-old-1.2", "p-old-1.3"]
