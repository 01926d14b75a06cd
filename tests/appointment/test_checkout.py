"""Checkout and appointments (chalicelib/ordering capture): an item whose offering needs an
engineer is refused without a booking (422 appointmentRequired, nothing written); with one, the
order's own transaction confirms it and the child order to the stack carries it (the Extreme
Bundle's broadband and TV to csp-stack-a, Home Security to iot-partner-x: two appointments, two
stacks, and none for the mobile part); cancelling the order frees the slots once; the day-before
SMS is sent once per appointment."""
import datetime as dt

from chalicelib import aws as clients
from chalicelib import settings, tmf
from tests.appointment.conftest import APPOINTMENTS, taken, valid
from tests.support import demo as demo_data
from tests.support.appointments import installed
from tests.support.names import CANCELS, ORDERS
from tests.support.orders import andrea_order
from tests.support.stored import stored_items

STORY = ("po-extreme-bundle", "po-home-security")


def _shop(pump):
    demo_data.load("catalog", "customer", "rules", pump=pump)


def test_an_engineer_item_without_an_appointment_is_refused_and_nothing_written(aws, pump, api, andrea, stacy):
    _shop(pump)
    status, error, _ = api.call("POST", ORDERS, andrea, andrea_order(*STORY))
    assert status == 422 and error["code"] == "appointmentRequired" and valid(error, "Error"), error
    assert stored_items("order") == []
    [bundle] = installed("cust-andrea", "po-extreme-bundle")
    status, error, _ = api.call("POST", ORDERS, andrea, andrea_order(*STORY))
    assert status == 422 and "po-home-security" in error["message"]
    theirs = installed("cust-stacy", "po-home-security", postcode="BS2 0AA")[0]
    body = andrea_order(*STORY)
    body["productOrderItem"][1]["appointment"] = {"id": theirs["id"]}   # another customer's booking
    status, error, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 422 and error["code"] == "appointmentNotHeld", error
    assert stored_items("order") == [] and taken(bundle["calendarEvent"]["id"]) >= 1
    assert api.call("GET", f"{APPOINTMENTS}/{bundle['id']}", andrea)[1]["status"] == "initialized"


def test_the_order_confirms_two_appointments_for_two_stacks_and_cancelling_frees_them(aws, pump, api, andrea):
    from chalicelib.ordering import fulfilment as ordering

    _shop(pump)
    bundle, security = installed("cust-andrea", *STORY)
    body = andrea_order(*STORY)
    body["productOrderItem"][1]["appointment"] = {"id": security["id"]}   # named; the bundle's is found
    status, order, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 201, order
    refs = {i["productOffering"]["id"]: i["appointment"]["id"] for i in order["productOrderItem"] if i["action"] == "add"}
    assert refs == {"po-extreme-bundle": bundle["id"], "po-home-security": security["id"]}
    for appointment in (bundle, security):
        status, now, _ = api.call("GET", f"{APPOINTMENTS}/{appointment['id']}", andrea)
        assert now["status"] == "confirmed" and valid(now, "Appointment")
        assert {"id": order["id"], "role": "productOrder"}.items() <= next(
            e for e in now["relatedEntity"] if e["role"] == "productOrder").items()
        assert taken(appointment["calendarEvent"]["id"]) == 1
    ordering.decompose(order["id"])
    children = {c["body"]["S"] for c in stored_items("order") if c.get("parent")}
    import json
    carried = {}
    for raw in children:
        child = json.loads(raw)
        stack = next(p["id"] for p in child["relatedParty"] if p["role"] == "fulfilmentStack")
        carried[stack] = sorted(((i["productOffering"]["id"], (i.get("appointment") or {}).get("id"))
                                 for i in child["productOrderItem"] if i["action"] == "add"), key=str)
    assert carried == {"csp-stack-a": [("po-broadband-500", bundle["id"]), ("po-tv-max", bundle["id"])],
                       "csp-stack-b": [("po-mobile-unlimited", None)],
                       "iot-partner-x": [("po-home-security", security["id"])]}
    status, _, _ = api.call("POST", CANCELS, andrea, {"productOrder": {"id": order["id"]}})
    assert status == 201
    for appointment in (bundle, security):
        now = api.call("GET", f"{APPOINTMENTS}/{appointment['id']}", andrea)[1]
        assert now["status"] == "cancelled" and taken(appointment["calendarEvent"]["id"]) == 0
    assert ordering.appointments.release_order(ordering.store.load(order["id"]).doc) == 0   # once


def test_the_day_before_sms_goes_once_and_a_confirmed_booking_never_expires(aws, pump, api, andrea):
    from chalicelib.appointment import domain, service

    _shop(pump)
    [booked] = installed("cust-andrea", "po-home-security")
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-home-security"))
    assert status == 201, order
    start = tmf.parse_datetime(booked["validFor"]["startDateTime"], "start")
    day_before = tmf.iso(start - domain.REMIND_BEFORE + dt.timedelta(minutes=1))
    assert service.sweep(tmf.iso(start - dt.timedelta(days=2))) == {"expired": 0, "reminded": 0}
    assert service.sweep(day_before) == {"expired": 0, "reminded": 1}
    assert service.sweep(day_before) == {"expired": 0, "reminded": 0}
    sfn = clients.client("stepfunctions")
    runs = sfn.list_executions(stateMachineArn=settings.state_machine_arn("order-notify"))["executions"]
    assert [r["name"] for r in runs if r["name"].startswith("appointment-")] == [
        f"appointment-{booked['id']}-reminder-{booked['calendarEvent']['id']}"]
    assert api.call("GET", f"{APPOINTMENTS}/{booked['id']}", andrea)[1]["status"] == "confirmed"
