"""The basket's rules: item changes, characteristics, life cycle and rights, merging, limits."""
import datetime as dt
import itertools

import pytest

from chalicelib import tmf
from chalicelib.actor import Actor
from chalicelib.basket import domain
from chalicelib.catalog.demo import CATALOGUE
from chalicelib.errors import ApiError

HANDSET = next(s for s in CATALOGUE["productSpecification"] if s["id"] == "ps-handset")


def ids():
    counter = itertools.count(1)
    return lambda: f"n{next(counter)}"


def item(rid, offering="po-tv-max", quantity=1):
    return {"id": rid, "productOffering": {"id": offering}, "quantity": quantity, "status": "active"}


def test_changes_name_items_by_id_so_a_stale_copy_loses_nothing():
    current = [item("a"), item("b")]          # "b" was added by another channel meanwhile
    stale_copy = [{"id": "a", "quantity": 2}, {"productOffering": {"id": "po-phone-x"}}]
    out, touched = domain.apply_item_changes(current, stale_copy, ids(), 10)
    assert [i["id"] for i in out] == ["a", "b", "n1"]
    assert out[0]["quantity"] == 2 and touched == {"a", "n1"}


def test_delete_is_explicit_and_safe_to_repeat():
    out, _ = domain.apply_item_changes([item("a"), item("b")], [{"id": "a", "action": "delete"}], ids(), 10)
    assert [i["id"] for i in out] == ["b"]
    again, _ = domain.apply_item_changes(out, [{"id": "a", "action": "delete"}], ids(), 10)
    assert again == out


def test_add_never_overwrites_and_modify_needs_an_item():
    out, _ = domain.apply_item_changes([item("a")], [{"id": "a", "action": "add", "productOffering": {"id": "po-x"}}],
                                       ids(), 10)
    assert [i["id"] for i in out] == ["a", "n1"]
    with pytest.raises(ApiError) as err:
        domain.apply_item_changes([item("a")], [{"id": "zz", "action": "modify", "quantity": 2}], ids(), 10)
    assert err.value.code == "unknownCartItem"
    with pytest.raises(ApiError) as err:
        domain.apply_item_changes([item("a")], [{"id": "a", "productOffering": {"id": "po-other"}}], ids(), 10)
    assert err.value.status == 400


@pytest.mark.parametrize("quantity", [0, -1, 11])
def test_quantity_bounds(quantity):
    with pytest.raises(ApiError) as err:
        domain.apply_item_changes([], [{"productOffering": {"id": "x"}, "quantity": quantity}], ids(), 10)
    assert err.value.code == "quantityOutOfRange"


def test_prices_sent_by_a_client_are_dropped():
    out, _ = domain.apply_item_changes([], [{"productOffering": {"id": "x"}, "itemPrice": [{"price": 0}],
                                             "ItemTotalPrice": [], "qualification": {}}], ids(), 10)
    assert not {"itemPrice", "ItemTotalPrice", "qualification"} & set(out[0])


def test_characteristics_are_checked_against_the_specification():
    chosen = domain.choose_characteristics(HANDSET, [{"name": "storage", "value": "256 GB"}], "cartItem.0")
    assert {c["name"]: c["value"] for c in chosen} == {"colour": "black", "storage": "256 GB"}   # default filled
    for bad in ([{"name": "colour", "value": "gold"}], [{"name": "size", "value": "XL"}]):
        with pytest.raises(ApiError) as err:
            domain.choose_characteristics(HANDSET, bad, "cartItem.0")
        assert err.value.code == "invalidCharacteristic" and err.value.status == 422
    with pytest.raises(ApiError):
        domain.choose_characteristics(None, [{"name": "colour", "value": "black"}], "cartItem.0")
    assert domain.choose_characteristics(None, [], "cartItem.0") == []


def basket(status="active", customer="c1", agent=None, end_days=30):
    end = tmf.iso(tmf.now() + dt.timedelta(days=end_days))
    doc = {"id": "b1", "status": status, "validFor": {"endDateTime": end},
           "relatedParty": [{"id": customer, "role": "customer"}] if customer else [{"id": "v1", "role": "visitor"}],
           "context": {"agent": {"id": agent}} if agent else {}, "cartItem": [item("a")], "creationDate": end}
    return doc


def test_hand_over_to_an_agent_and_back_for_approval():
    doc = domain.move(basket(), "withAgent", Actor("customer", "c1"), True)
    assert doc["status"] == "withAgent" and domain.agent_of(doc) is None        # on the worklist
    doc = domain.move(doc, "withAgent", Actor("agent", "agent-7"), True)                   # taken over
    assert domain.agent_of(doc) == "agent-7" and {"id": "agent-7", "role": "agent",
                                                  "@referredType": "Individual"} in doc["relatedParty"]
    domain.check_item_editor(doc, Actor("agent", "agent-7"))
    with pytest.raises(ApiError) as err:
        domain.check_item_editor(doc, Actor("customer", "c1"))
    assert err.value.code == "withAgent"
    with pytest.raises(ApiError) as err:
        domain.check_item_editor(doc, Actor("agent", "agent-8"))
    assert err.value.code == "notYourBasket"
    doc = domain.move(doc, "awaitingApproval", Actor("agent", "agent-7"), True)
    with pytest.raises(ApiError):
        domain.check_item_editor(doc, Actor("agent", "agent-7"))
    doc = domain.move(doc, "approved", Actor("customer", "c1"), True)
    assert doc["status"] == "approved" and domain.agent_of(doc) is None


def test_illegal_moves():
    cases = [(basket(), "approved", "customer", "illegalStatusTransition"),
             (basket(), "awaitingApproval", "agent", "illegalStatusTransition"),
             (basket("withAgent", agent="a"), "awaitingApproval", "customer", "forbidden"),
             (basket("awaitingApproval"), "approved", "agent", "forbidden"),
             (basket("approved"), "ordered", "customer", "forbidden"),
             (basket(customer=None), "withAgent", "customer", "identifyFirst"),
             (basket(end_days=-1), "withAgent", "customer", "basketExpired")]
    for doc, to, role, code in cases:
        with pytest.raises(ApiError) as err:
            domain.move(doc, to, Actor(role, "x"), True)
        assert err.value.code == code, (to, role)
    with pytest.raises(ApiError) as err:
        domain.move(basket("withAgent", agent="a"), "awaitingApproval", Actor("agent", "a"), False)
    assert err.value.code == "notQualified"


def test_agents_edit_only_what_they_took_over():
    with pytest.raises(ApiError) as err:
        domain.check_item_editor(basket(), Actor("agent", "a"))
    assert err.value.code == "notWithAgent"
    domain.check_item_editor(basket(), Actor("customer", "c1"))
    with pytest.raises(ApiError) as err:
        domain.check_item_editor(basket("ordered"), Actor("customer", "c1"))
    assert err.value.code == "basketLocked"


def test_who_reads_what():
    assert domain.readable(basket(), "customer", "c1") and not domain.readable(basket(), "customer", "c2")
    assert not domain.readable(basket(), "channel", None) and domain.readable(basket(customer=None), "channel", None)
    assert domain.readable(basket(), "agent", None) and not domain.readable(basket(), "marketing", None)


def test_merge_at_login_is_safe_to_repeat_and_skips_the_same_choice():
    target = [item("a", "po-tv-max")]
    source = [item("1", "po-tv-max"), item("2", "po-phone-x")]
    merged = domain.merge_items(target, source, "anon-basket-id")
    assert [i["id"] for i in merged] == ["a", "anon-bas-2"]
    assert domain.merge_items(merged, source, "anon-basket-id") == merged


def test_expiry_and_limits():
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert domain.expiry(at, False, 7, 90)[0] == "2026-01-08T00:00:00.000Z"
    assert domain.expiry(at, True, 7, 90)[1] == int((at + dt.timedelta(days=90)).timestamp())
    assert domain.effective_status(basket(end_days=-1), tmf.now()) == "expired"
    assert domain.effective_status(basket("ordered", end_days=-1), tmf.now()) == "ordered"
    domain.check_size({"id": "b", "note": "x" * 100}, 200)
    with pytest.raises(ApiError) as err:
        domain.check_size({"id": "b", "note": "x" * 500}, 200)
    assert err.value.code == "basketTooLarge"
    domain.check_line_size(item("a"), 10_000)
    with pytest.raises(ApiError) as err:
        domain.check_line_size({**item("a"), "note": "x" * 500}, 200)
    assert err.value.code == "itemTooLarge"


def test_context_records_channel_who_and_what():
    doc = domain.touch({"id": "b"}, Actor("channel", "u", "web"), "t1", ["created"],
                       {"campaignCode": "camp-1", "device": "tablet"}, ("London", "ip"))
    doc = domain.touch(doc, Actor("agent", "a", "callcenter"), "t2", ["add item x"], None,
                       (None, None))
    ctx = doc["context"]
    assert ctx["originatingChannel"] == "web" and ctx["currentChannel"] == "callcenter"
    assert ctx["campaignCode"] == "camp-1" and ctx["region"] == {"name": "London", "source": "ip"}
    assert [c["by"]["role"] for c in ctx["changes"]] == ["channel", "agent"] and ctx["lastChange"]["at"] == "t2"
