"""An amendment (PATCH productOrder/{id}) that adds an engineer-installed item asks for an
appointment as checkout does: 422 appointmentRequired (or appointmentNotHeld for another
customer's booking) with nothing written; with one, the amendment's own transaction confirms it
for the order, the new child order carries it, and cancelling the order frees the slot."""
from tests.appointment.conftest import APPOINTMENTS, taken, valid
from tests.support.orders import children_of, items_with, load_order, patch_order, placed
from tests.support.appointments import installed
from tests.support.names import CANCELS  # noqa: F401
from tests.support.orders import order_item
from tests.support.stored import stored_items


def test_adding_home_security_needs_its_appointment_and_nothing_is_written_without(api, demo, andrea, agent, silent,
                                                                                    pump):
    order = placed(api, andrea, pump, "po-mobile-unlimited")
    items = [*items_with(order), order_item("2", "po-home-security")]
    before = stored_items("order")
    status, error, _ = patch_order(api, andrea, order["id"], items)
    assert (status, error["code"]) == (422, "appointmentRequired") and valid(error, "Error"), error
    assert "po-home-security" in error["message"] and stored_items("order") == before

    theirs = installed("cust-stacy", "po-home-security", postcode="BS2 0AA")[0]
    named = [*items_with(order), {**order_item("2", "po-home-security"), "appointment": {"id": theirs["id"]}}]
    status, error, _ = patch_order(api, andrea, order["id"], named)
    assert (status, error["code"]) == (422, "appointmentNotHeld"), error
    assert stored_items("order") == before
    assert api.call("GET", f"{APPOINTMENTS}/{theirs['id']}", agent)[1]["status"] == "initialized"   # untouched

    [booked] = installed("cust-andrea", "po-home-security")
    status, after, _ = patch_order(api, andrea, order["id"], items)
    assert status == 200, after
    added = after["productOrderItem"][1]
    assert added["appointment"]["id"] == booked["id"]
    now = api.call("GET", f"{APPOINTMENTS}/{booked['id']}", andrea)[1]
    assert now["status"] == "confirmed" and valid(now, "Appointment")
    assert any(e["role"] == "productOrder" and e["id"] == order["id"] for e in now["relatedEntity"])
    new = [load_order(c).doc for c in children_of(load_order(order["id"]))]
    carried = [i["appointment"]["id"] for c in new for i in c["productOrderItem"] if i.get("appointment")]
    assert carried == [booked["id"]]
    assert patch_order(api, andrea, order["id"], items)[1] == load_order(order["id"]).doc   # the same again: nothing

    held = taken(booked["calendarEvent"]["id"])       # hers and (the same earliest slot) the other customer's
    status, _, _ = api.call("POST", CANCELS, andrea, {"productOrder": {"id": order["id"]}})
    assert status == 201
    assert api.call("GET", f"{APPOINTMENTS}/{booked['id']}", andrea)[1]["status"] == "cancelled"
    assert taken(booked["calendarEvent"]["id"]) == held - 1



def test_moving_or_cancelling_a_visit_tells_the_stack_that_has_the_order(api, demo, andrea, agent, silent, pump):
    """Issue 14: a reschedule reaches the stack. The order's items and its child order carry the
    new time; the stack gets a TMF622 change (once per content: a replayed record sends the same
    change, with the same Idempotency-Key); a cancelled visit says so."""
    from tests.appointment.conftest import free_slots

    order = placed(api, andrea, pump, "po-home-security")
    [child] = [load_order(c).doc for c in children_of(load_order(order["id"]))]
    visit = child["productOrderItem"][0]["appointment"]
    at_stack = silent.orders[child["id"]]["order"]["productOrderItem"][0]["appointment"]
    assert at_stack == visit

    later = free_slots(api, andrea, relatedPlace={"id": "BS1 4DJ", "role": "installationAddress"})[-1]
    status, moved, _ = api.call("PATCH", f"{APPOINTMENTS}/{visit['id']}", andrea, {"validFor": later["validFor"]})
    assert status == 200, moved
    told = f"installation {moved['validFor']['startDateTime']}"
    pump.drain()
    assert load_order(order["id"]).doc["productOrderItem"][0]["appointment"]["description"] == told
    assert load_order(child["id"]).doc["productOrderItem"][0]["appointment"]["description"] == told
    assert silent.orders[child["id"]]["order"]["productOrderItem"][0]["appointment"]["description"] == told

    # the same PATCH again (a client retrying): nothing new to say, nothing written
    version = load_order(child["id"]).version
    assert api.call("PATCH", f"{APPOINTMENTS}/{visit['id']}", andrea, {"validFor": later["validFor"]})[0] == 200
    pump.drain()
    assert load_order(child["id"]).version == version

    assert api.call("PATCH", f"{APPOINTMENTS}/{visit['id']}", andrea, {"status": "cancelled"})[0] == 200
    pump.drain()
    cancelled = silent.orders[child["id"]]["order"]["productOrderItem"][0]["appointment"]["description"]
    assert cancelled == f"installation cancelled (was {later['validFor']['startDateTime']})"
