"""An amendment (PATCH productOrder/{id}) that adds an engineer-installed item asks for an
appointment as checkout does: 422 appointmentRequired (or appointmentNotHeld for another
customer's booking) with nothing written; with one, the amendment's own transaction confirms it
for the order, the new child order carries it, and cancelling the order frees the slot."""
from tests.appointment.conftest import APPOINTMENTS, taken, valid
from tests.ordering.conftest import CANCELS, order_item, stacks, stored_orders  # noqa: F401
from tests.ordering.test_amend import _children, _items, _load, _patch, _placed, silent  # noqa: F401
from tests.support.appointments import installed


def test_adding_home_security_needs_its_appointment_and_nothing_is_written_without(api, demo, andrea, agent, silent,
                                                                                    pump):
    order = _placed(api, andrea, pump, "po-mobile-unlimited")
    items = [*_items(order), order_item("2", "po-home-security")]
    before = stored_orders()
    status, error, _ = _patch(api, andrea, order["id"], items)
    assert (status, error["code"]) == (422, "appointmentRequired") and valid(error, "Error"), error
    assert "po-home-security" in error["message"] and stored_orders() == before

    theirs = installed("cust-stacy", "po-home-security", postcode="BS2 0AA")[0]
    named = [*_items(order), {**order_item("2", "po-home-security"), "appointment": {"id": theirs["id"]}}]
    status, error, _ = _patch(api, andrea, order["id"], named)
    assert (status, error["code"]) == (422, "appointmentNotHeld"), error
    assert stored_orders() == before
    assert api.call("GET", f"{APPOINTMENTS}/{theirs['id']}", agent)[1]["status"] == "initialized"   # untouched

    [booked] = installed("cust-andrea", "po-home-security")
    status, after, _ = _patch(api, andrea, order["id"], items)
    assert status == 200, after
    added = after["productOrderItem"][1]
    assert added["appointment"]["id"] == booked["id"]
    now = api.call("GET", f"{APPOINTMENTS}/{booked['id']}", andrea)[1]
    assert now["status"] == "confirmed" and valid(now, "Appointment")
    assert any(e["role"] == "productOrder" and e["id"] == order["id"] for e in now["relatedEntity"])
    new = [_load(c).doc for c in _children(_load(order["id"]))]
    carried = [i["appointment"]["id"] for c in new for i in c["productOrderItem"] if i.get("appointment")]
    assert carried == [booked["id"]]
    assert _patch(api, andrea, order["id"], items)[1] == _load(order["id"]).doc   # the same again: nothing

    held = taken(booked["calendarEvent"]["id"])       # hers and (the same earliest slot) the other customer's
    status, _, _ = api.call("POST", CANCELS, andrea, {"productOrder": {"id": order["id"]}})
    assert status == 201
    assert api.call("GET", f"{APPOINTMENTS}/{booked['id']}", andrea)[1]["status"] == "cancelled"
    assert taken(booked["calendarEvent"]["id"]) == held - 1

