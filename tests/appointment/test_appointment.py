"""TMF646: free slots in the customer's area, booking holds a slot (never more bookings than
engineers, also under concurrency), reschedule and cancel free what they leave, bad input is a
clear 4xx with a TMF error body and holds nothing, an unordered booking's hold expires."""
import concurrent.futures

import pytest

from chalicelib import tmf
from tests.appointment.conftest import APPOINTMENTS, SEARCH, book, booking, free_slots, taken, valid


def test_search_gives_the_free_slots_of_the_customers_area(api, demo, andrea, web):
    mine = free_slots(api, andrea)
    assert mine and all(s["id"].startswith("BS-") for s in mine)
    assert all(s["validFor"]["startDateTime"] > tmf.now_iso() for s in mine)
    assert free_slots(api, web, relatedPlace={"id": "BS8 1TH", "role": "installationAddress"}) == mine
    window = {"startDateTime": mine[0]["validFor"]["startDateTime"], "endDateTime": mine[0]["validFor"]["endDateTime"]}
    assert free_slots(api, andrea, requestedTimeSlot=[{"validFor": window}]) == [mine[0]]
    status, search, _ = api.call("POST", SEARCH, andrea, {})
    status, again, _ = api.call("GET", f"{SEARCH}/{search['id']}", andrea)
    assert status == 200 and again == search


def test_booking_holds_the_slot_until_both_engineers_are_taken(api, demo, andrea, agent, stacy):
    slot = free_slots(api, andrea)[0]
    first = book(api, andrea, slot)
    assert first["status"] == "initialized" and first["calendarEvent"]["id"] == slot["id"]
    assert first["relatedPlace"]["id"] == "BS1 4DJ" and taken(slot["id"]) == 1
    status, got, headers = api.call("GET", f"{APPOINTMENTS}/{first['id']}", andrea)
    assert status == 200 and got == first and valid(got, "Appointment")
    book(api, agent, slot, relatedParty=[{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}])
    assert taken(slot["id"]) == 2 and slot["id"] not in [s["id"] for s in free_slots(api, andrea)]
    status, error, _ = api.call("POST", APPOINTMENTS, andrea, booking(slot))
    assert status == 409 and error["code"] == "slotTaken" and valid(error, "Error")
    assert taken(slot["id"]) == 2 and len(api.call("GET", APPOINTMENTS, andrea)[1]) == 2


def test_who_sees_which_appointment(api, demo, andrea, agent, headers):
    slot = free_slots(api, andrea)[0]
    mine = book(api, andrea, slot)
    raj = headers("customer", channel="web", customerId="cust-acme", sub="raj", partyId="party-acme-raj")
    assert api.call("GET", f"{APPOINTMENTS}/{mine['id']}", raj)[0] == 404
    assert api.call("GET", APPOINTMENTS, raj)[1] == []
    assert [a["id"] for a in api.call("GET", APPOINTMENTS, agent)[1]] == [mine["id"]]
    status, error, _ = api.call("PATCH", f"{APPOINTMENTS}/{mine['id']}", raj, {"status": "cancelled"})
    assert status == 404 and valid(error, "Error")
    assert taken(slot["id"]) == 1
    status, error, _ = api.call("POST", APPOINTMENTS, raj, booking(slot, relatedParty=[
        {"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}]))
    assert status == 403 and taken(slot["id"]) == 1


def test_reschedule_moves_the_hold_and_cancel_frees_it_once(api, demo, andrea):
    first, second = free_slots(api, andrea)[:2]
    doc = book(api, andrea, first)
    status, moved, _ = api.call("PATCH", f"{APPOINTMENTS}/{doc['id']}", andrea, {"validFor": second["validFor"]})
    assert status == 200 and valid(moved, "Appointment"), moved
    assert moved["validFor"] == second["validFor"] and moved["calendarEvent"]["id"] == second["id"]
    assert taken(first["id"]) == 0 and taken(second["id"]) == 1
    for _ in range(2):
        status, cancelled, _ = api.call("PATCH", f"{APPOINTMENTS}/{doc['id']}", andrea, {"status": "cancelled"})
        assert status == 200 and cancelled["status"] == "cancelled" and valid(cancelled, "Appointment")
        assert taken(second["id"]) == 0
    status, error, _ = api.call("PATCH", f"{APPOINTMENTS}/{doc['id']}", andrea, {"validFor": first["validFor"]})
    assert status == 422 and error["code"] == "appointmentEnded" and taken(first["id"]) == 0


def test_rescheduling_to_a_full_slot_keeps_the_old_one(api, demo, andrea, agent):
    first, second = free_slots(api, andrea)[:2]
    doc = book(api, andrea, first)
    book(api, andrea, second)
    book(api, andrea, second)
    status, error, _ = api.call("PATCH", f"{APPOINTMENTS}/{doc['id']}", andrea, {"validFor": second["validFor"]})
    assert status == 409 and error["code"] == "slotTaken"
    assert taken(first["id"]) == 1 and taken(second["id"]) == 2
    assert api.call("GET", f"{APPOINTMENTS}/{doc['id']}", andrea)[1]["validFor"] == first["validFor"]


def _shifted(slot, days=0, hours=0):
    import datetime as dt

    def at(v):
        return tmf.iso(tmf.parse_datetime(v, "x") + dt.timedelta(days=days, hours=hours))
    return {"startDateTime": at(slot["validFor"]["startDateTime"]), "endDateTime": at(slot["validFor"]["endDateTime"])}


BAD = [
    ("no validFor", lambda s: {}, 400, "invalidInput"),
    ("a period ending before it starts", lambda s: {"validFor": {"startDateTime": s["validFor"]["endDateTime"],
                                                              "endDateTime": s["validFor"]["startDateTime"]}}, 400, None),
    ("a slot in the past", lambda s: {"validFor": _shifted(s, days=-30)}, 422, "slotInPast"),
    ("not a calendar slot", lambda s: {"validFor": _shifted(s, hours=1)}, 422, "unknownSlot"),
    ("outside her area", lambda s: {"validFor": s["validFor"], "relatedPlace": {"id": "GL1 2AB", "role": "x"}}, 422,
     "outsideArea"),
    ("an unknown status", lambda s: {"validFor": s["validFor"], "status": "confirmed", "relatedPlace": 3}, 400,
     "invalidInput"),
    # echoed back, so typed as TMF646 types them (chalicelib/schemas.py ContactMedium, Note)
    ("a note that is not text", lambda s: {"validFor": s["validFor"], "note": [{"text": ["x"]}]}, 400, "invalidInput"),
    ("a contact medium of the wrong types", lambda s: {"validFor": s["validFor"], "contactMedium": [
        {"mediumType": "mobile", "characteristic": {"phoneNumber": 447700900321}}]}, 400, "invalidInput"),
]


@pytest.mark.parametrize("name,body,status,code", BAD, ids=[b[0] for b in BAD])
def test_bad_bookings_are_4xx_and_hold_nothing(api, demo, andrea, name, body, status, code):
    slot = free_slots(api, andrea)[0]
    got, error, _ = api.call("POST", APPOINTMENTS, andrea, body(slot))
    assert got == status, error
    assert valid(error, "Error") and (code is None or error["code"] == code), error
    assert taken(slot["id"]) == 0 and api.call("GET", APPOINTMENTS, andrea)[1] == []


def test_a_customer_outside_the_served_areas_gets_no_slots(api, demo, stacy, web):
    status, error, _ = api.call("POST", SEARCH, stacy, {})
    assert status == 422 and error["code"] in ("noAddress", "areaNotServed") and valid(error, "Error")
    status, error, _ = api.call("POST", SEARCH, web, {"relatedPlace": {"id": "EH1 1AA", "role": "installationAddress"}})
    assert status == 422 and error["code"] == "areaNotServed"


def test_twenty_bookers_of_the_last_engineer_one_booking(aws, demo):
    from chalicelib.appointment import service
    from chalicelib.auth import Caller
    from chalicelib.errors import ApiError

    andrea = Caller(sub="cust-andrea", role="customer", customer_id="cust-andrea", channel="web")
    slot = service.search({}, andrea)["availableTimeSlot"][0]
    service.book(booking(slot), andrea)   # one of the slot's two engineers taken: one left

    def bid(n):
        try:
            service.book(booking(slot), andrea)
            return 201
        except ApiError as exc:
            return (exc.status, exc.code)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(bid, range(20)))
    assert answers.count(201) == 1, answers
    assert all(a in (201, (409, "slotTaken"), (409, "transactionConflict")) for a in answers), answers
    assert taken(slot["id"]) == 2
    assert len(service.search_appointments({}, andrea)[0]) == 2


def test_an_unordered_booking_expires_and_frees_its_slot_once(aws, demo, api, andrea):
    from chalicelib.appointment import domain, service
    from functions import appointment_sweep

    slot = free_slots(api, andrea)[0]
    doc = book(api, andrea, slot)
    assert appointment_sweep.handler({}, None) == {"expired": 0, "reminded": 0}
    later = tmf.iso(tmf.now() + domain.HOLD + domain.HOLD)
    assert service.sweep(later) == {"expired": 1, "reminded": 0}
    assert service.sweep(later) == {"expired": 0, "reminded": 0}
    got = api.call("GET", f"{APPOINTMENTS}/{doc['id']}", andrea)[1]
    assert got["status"] == "cancelled" and "expired" in got["note"][-1]["text"] and taken(slot["id"]) == 0


ODD = [
    ("POST", "searchTimeSlot", {"requestedTimeSlot": [{"validFor": {"startDateTime": "x", "endDateTime": "y"}}]}),
    ("POST", "searchTimeSlot", {"requestedTimeSlot": [{"validFor": {}}]}),
    ("POST", "searchTimeSlot", {"requestedTimeSlot": [{"validFor": {"startDateTime": "1900-01-01T00:00:00Z",
                                                                    "endDateTime": "2900-01-01T00:00:00Z"}}]}),
    ("POST", "searchTimeSlot", {"relatedPlace": {"id": "!!", "role": "x"}}),
    ("POST", "searchTimeSlot", {"relatedParty": {"id": "cust-nobody", "role": "customer", "@referredType": "x"}}),
    ("POST", "searchTimeSlot", {}),
    ("POST", "appointment", {"validFor": {"startDateTime": "2030-01-07T08:00:00Z", "endDateTime": "2030-01-07T12:00:00Z"}}),
    ("POST", "appointment", {"validFor": {}, "relatedParty": [{"id": "cust-andrea", "role": "customer"}]}),
    ("POST", "appointment", {"validFor": {"startDateTime": "2030-01-07T08:00:00Z", "endDateTime": "2030-01-07T12:00:00Z"},
                             "relatedParty": [{"id": "cust-nobody", "role": "customer"}]}),
    ("PATCH", "appointment/nope", {"status": "cancelled"}),
    ("GET", "appointment/nope", None),
    ("GET", "searchTimeSlot/nope", None),
]


@pytest.mark.parametrize("method,path,body", ODD, ids=[f"{m} {p} {n}" for n, (m, p, _) in enumerate(ODD)])
def test_odd_requests_from_an_agent_are_tmf_4xx(api, demo, agent, method, path, body):
    status, error, _ = api.call(method, f"/tmf-api/appointment/v4/{path}", agent, body)
    assert 400 <= status < 500, (status, error)
    assert valid(error, "Error")


def test_a_channel_cannot_learn_a_customers_postcode_and_null_changes_nothing(api, demo, andrea, web):
    """Searching by a named customer reads her address: only an agent (or she herself) may; a
    channel names a postcode. A null status or validFor is a 400, not a cancellation."""
    party = {"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}
    status, error, _ = api.call("POST", SEARCH, web, {"relatedParty": party})
    assert status == 403 and error["@type"] == "Error" and "BS" not in str(error), error
    doc = book(api, andrea, free_slots(api, andrea)[0])
    for patch in ({"status": None}, {"validFor": None}):
        status, error, _ = api.call("PATCH", f"{APPOINTMENTS}/{doc['id']}", andrea, patch)
        assert status == 400 and error["@type"] == "Error", (patch, error)
    assert api.call("GET", f"{APPOINTMENTS}/{doc['id']}", andrea)[1]["status"] == "initialized"
