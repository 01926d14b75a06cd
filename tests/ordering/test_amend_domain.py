"""Amendment and item cancellation rules, without AWS: points of no return as data (hard, soft with
a fee or a note), what a PATCH of the item list asks, and the plan: which child orders change,
which are made, what the parent and its SMS say."""
import pytest

from chalicelib.errors import ApiError
from chalicelib.ordering import domain
from tests.ordering.test_domain import item, parts

RULES = domain.default_cancel_rules()
AT = "2026-11-30T12:00:00Z"


def href(cid):
    return f"/po/{cid}"


def test_points_of_no_return_are_data_first_match_wins():
    kit = RULES.limit("iot-partner-x", "ps-home-security")
    assert (kit.point, kit.hard, kit.fee) == ("inProgress", False, {"value": 29.0, "unit": "EUR"})
    case = RULES.limit("csp-stack-b", "ps-accessory")
    assert (case.hard, case.fee) == (False, None) and "14 days" in case.text
    assert RULES.limit("csp-stack-b", "ps-handset").hard and "shipped" in RULES.limit("csp-stack-b", "ps-handset").text
    assert RULES.limit("csp-stack-a", "ps-tv").hard                              # the default rule
    with pytest.raises(ValueError):
        domain.CancelRules.from_data({"rules": [{"pointOfNoReturn": "shipped", "limit": "hard"}]})


def test_verdicts_before_and_after_the_point_of_no_return():
    hard, soft = RULES.limit("csp-stack-a", "ps-tv"), RULES.limit("iot-partner-x", None)
    for state in ("acknowledged", "pending", "held", None):
        assert domain.item_verdict(state, hard) == domain.Verdict(True, False)
    refused = domain.item_verdict("inProgress", hard)
    assert not refused.allowed and "started fulfilling it" in refused.why and "inProgress" in refused.why
    allowed = domain.item_verdict("inProgress", soft)
    assert allowed.allowed and allowed.past and allowed.fee == {"value": 29.0, "unit": "EUR"}
    for final in ("completed", "failed", "cancelled"):
        assert not domain.item_verdict(final, soft).allowed                        # never, whatever the limit


CURRENT = [{"id": "1", "action": "add", "state": "inProgress", "productOffering": {"id": "po-tv-max", "name": "TV Max"},
            "quantity": 1}, {"id": "2", "action": "add", "state": "acknowledged",
                             "productOffering": {"id": "po-mobile-unlimited", "name": "Mobile Unlimited"}}]


def test_what_a_patch_asks():
    assert domain.amendment_request(CURRENT, [{"id": "1"}, {"id": "2"}]) == ([], [])
    assert domain.amendment_request(CURRENT, CURRENT) == ([], [])                # sent back as read: nothing
    assert domain.amendment_request(CURRENT, [{"id": "1", "productOffering": {"id": "po-tv-max"}},
                                              {"id": "2", "state": "cancelled"}]) == (["2"], [])
    cancel, added = domain.amendment_request(CURRENT, [{"id": "1"}, {"id": "2"}, item("3", "po-tv-max")])
    assert cancel == [] and added == [item("3", "po-tv-max")]
    for given, code in (([{"id": "1"}], "itemMissing"),
                        ([{"id": "1", "quantity": 2}, {"id": "2"}], "itemInFlight"),
                        ([{"id": "1", "productOffering": {"id": "po-other"}}, {"id": "2"}], "itemInFlight"),
                        ([{"id": "1", "state": "completed"}, {"id": "2"}], "itemInFlight"),
                        ([{"id": "1"}, {"id": "2"}, {"id": "2"}], "invalidInput"),
                        ([{"id": "1"}, {"id": "2"}, {"id": "3"}], "invalidInput"),
                        ([{"id": "1"}, {"id": "2"}, {"id": "3", "action": "delete"}], "invalidInput")):
        with pytest.raises(ApiError) as refused:
            domain.amendment_request(CURRENT, given)
        assert refused.value.code == code, given


def _order(*items_and_states):
    """A parent order decomposed by the real rules, with child item states as given."""
    items = [item(str(n + 1), o) for n, (o, _) in enumerate(items_and_states)]
    states = {str(n + 1): s for n, (_, s) in enumerate(items_and_states)}
    plans = domain.decompose(parts(items), domain.default_routing())
    parent = {"id": "o1", "href": href("o1"), "state": "inProgress", "relatedParty": [
        {"id": "cust-andrea", "role": "customer"}], "productOrderItem": [{**i, "state": "acknowledged"} for i in items],
        "orderRelationship": []}
    children = {}
    for n, plan in enumerate(plans):
        cid = f"o1-{n + 1}"
        child = domain.child_order(parent, plan, cid, href(cid), AT, [])
        child["productOrderItem"] = [{**i, "state": states[i["id"].split(".")[0]]} for i in child["productOrderItem"]]
        child["state"] = domain.item_state_from([i["state"] for i in child["productOrderItem"]])
        children[cid] = child
    parent["orderRelationship"] = [domain.relationship(c, href(c), "child") for c in children]
    return domain.follow_children(parent, list(children.values()), AT), children


def test_a_hard_limit_refuses_the_whole_amendment_naming_the_item_and_why():
    parent, children = _order(("po-phone-x", "inProgress"), ("po-home-security", "inProgress"))
    with pytest.raises(ApiError) as refused:
        domain.amend(parent, children, ["1", "2"], [], [], RULES, AT, href)
    assert refused.value.status == 422 and refused.value.code == "pastPointOfNoReturn"
    assert "item 1" in refused.value.message and "the handset has shipped" in refused.value.message
    assert "item 2" not in refused.value.message                                 # soft: it would be allowed


def test_a_bundle_item_is_cancelled_in_every_child_holding_a_part_of_it():
    parent, children = _order(("po-extreme-bundle", "acknowledged"), ("po-home-security", "acknowledged"))
    plan = domain.amend(parent, children, ["1"], [], [], RULES, AT, href)
    assert sorted(plan.changed) == ["o1-1", "o1-2"] and plan.created == []       # stack A (2 parts) and B
    assert {c["state"] for c in plan.changed.values()} == {"cancelled"}
    assert all(c["amendment"] == 1 and c["note"][-1]["text"].startswith("amendment 1: item 1.")
               for c in plan.changed.values())
    assert [i["state"] for i in plan.parent["productOrderItem"]] == ["cancelled", "acknowledged"]
    assert plan.parent["state"] == "inProgress"
    # a component past its hard limit keeps the whole bundle
    parent, children = _order(("po-extreme-bundle", "inProgress"))
    with pytest.raises(ApiError) as refused:
        domain.amend(parent, children, ["1"], [], [], RULES, AT, href)
    assert "part 1.1" in refused.value.message


def test_added_items_join_an_acknowledged_child_or_get_their_own():
    parent, children = _order(("po-tv-max", "acknowledged"), ("po-mobile-unlimited", "inProgress"))
    added = [item("3", "po-broadband-500"), item("4", "po-phone-x-case"), item("5", "po-home-security")]
    plan = domain.amend(parent, children, [], added, parts(added), RULES, AT, href)
    assert list(plan.changed) == ["o1-1"]                                        # stack A's: still acknowledged
    assert [i["id"] for i in plan.changed["o1-1"]["productOrderItem"]] == ["1", "3"]
    assert [(domain.stack_of(c), c["id"], [i["id"] for i in c["productOrderItem"]], c["amendment"])
            for c in plan.created] == [("csp-stack-b", "o1-3", ["4"], 1), ("iot-partner-x", "o1-4", ["5"], 1)]
    assert domain.children_of(plan.parent) == ["o1-1", "o1-2", "o1-3", "o1-4"]
    assert plan.record == {"id": "1", "date": AT, "addedItem": ["3", "4", "5"], "cancelledItem": [],
                           "childOrder": ["o1-1", "o1-3", "o1-4"]}
    assert domain.amendment_text(plan.parent, plan.record) == (
        "Omnishop: your order {orderId} has been changed: added item 3, item 4, item 5.")


def test_soft_fees_and_notes_are_recorded_and_said():
    parent, children = _order(("po-home-security", "inProgress"), ("po-phone-x-case", "inProgress"))
    plan = domain.amend(parent, children, ["1", "2"], [], [], RULES, AT, href)
    kit, case = plan.parent["productOrderItem"]
    assert kit["cancellationFee"] == {"value": 29.0, "unit": "EUR"} and "return fee" in kit["cancellationNote"]
    assert "cancellationFee" not in case and "14 days" in case["cancellationNote"]
    assert plan.parent["state"] == "cancelled"
    parent["productOrderItem"][0]["productOffering"]["name"] = "Home {Security}"
    assert domain.amendment_text(parent, plan.record) == ("Omnishop: your order {orderId} has been changed: "
                                                          "cancelled Home (Security) (fee 29.00 EUR); cancelled item 2.")


def test_before_decomposition_only_the_parent_changes():
    parent = {"id": "o2", "href": href("o2"), "state": "acknowledged",
              "productOrderItem": [{**item("1", "po-tv-max"), "state": "acknowledged"}]}
    plan = domain.amend(parent, {}, [], [item("2", "po-tv-max")], [], RULES, AT, href)
    assert (plan.changed, plan.created, plan.parent["state"]) == ({}, [], "acknowledged")
    plan = domain.amend(plan.parent, {}, ["1", "2"], [], [], RULES, AT, href, "changed my mind")
    assert plan.parent["state"] == "cancelled" and len(plan.parent["amendment"]) == 2


def test_a_repeated_decomposition_answers_the_child_orders_as_written():
    plans = domain.decompose(parts([item("1", "po-phone-x"), item("2", "po-phone-x-plan-24"),
                                    item("3", "po-home-security")]), domain.default_routing())
    ids = {p.key: f"o1-{n + 1}" for n, p in enumerate(plans)}
    parent = {"id": "o1", "href": href("o1")}
    children = [domain.child_order(parent, p, ids[p.key], href(ids[p.key]), AT,
                                   [domain.relationship(ids[d], href(ids[d]), "dependsOn") for d in p.depends_on])
                for p in plans]
    written = [[ids[k] for k in wave] for wave in domain.waves(plans)]
    assert domain.waves_of(children) == written == [["o1-1", "o1-2"], ["o1-3"]]
    extra = domain.child_order(parent, plans[0], "o1-4", href("o1-4"), AT, [])     # made by an amendment
    assert domain.waves_of([*children, extra]) == [["o1-1", "o1-2", "o1-4"], ["o1-3"]]


def test_a_fee_without_a_currency_is_listed_not_added_up():
    # a soft rule's fee with no unit was totalled as {"unit": None, "value": 29.0}: money with no currency
    rules = domain.CancelRules.from_data({"rules": [{"pointOfNoReturn": "inProgress", "limit": "soft",
                                                     "fee": {"value": 29.0}, "note": "a return fee applies"}]})
    parent, children = _order(("po-home-security", "inProgress"))
    plan = domain.amend(parent, children, ["1"], [], [], rules, AT, href)
    kit, = plan.parent["productOrderItem"]
    assert kit["cancellationFee"] == {"value": None, "unit": None, "parts": [{"value": 29.0}]}
    assert "(fee" not in domain.amendment_text(plan.parent, plan.record)
