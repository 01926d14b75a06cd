"""The day-before SMS is claimed on the table before it is sent: the by-due index's copy may still
show an appointment just cancelled or moved (a GSI is eventually consistent), and two sweeps may
run at once; either way only an appointment still confirmed for that slot gets its one SMS. And
cancelling is the one read-change-write (db.change): twenty cancels at once free the slot once."""
import concurrent.futures
import datetime as dt
import threading

import pytest

from chalicelib import tmf
from tests.appointment.conftest import APPOINTMENTS, free_slots, taken
from tests.appointment.test_checkout import _shop
from tests.support.appointments import installed
from tests.support.names import ORDERS
from tests.support.orders import andrea_order


@pytest.fixture
def sent(monkeypatch):
    """The SMS workflows the sweep starts (names), instead of starting them."""
    from chalicelib.appointment import service

    names = []
    lock = threading.Lock()

    def start_once(machine, name, payload):
        with lock:
            names.append(name)
        return True
    monkeypatch.setattr(service.workflows, "start_once", start_once)
    return names


def _confirmed(api, pump, andrea):
    _shop(pump)
    [booked] = installed("cust-andrea", "po-home-security")
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-home-security"))
    assert status == 201, order
    return booked


def _day_before(doc):
    start = tmf.parse_datetime(doc["validFor"]["startDateTime"], "start")
    return tmf.iso(start - dt.timedelta(days=1) + dt.timedelta(minutes=1))


def _stale_index(monkeypatch, at):
    """From now on the by-due index answers what it holds now (as a GSI lagging behind would)."""
    from chalicelib.appointment import store

    snapshot = {due: store.due_by(due, at) for due in (store.HELD, store.REMIND)}
    monkeypatch.setattr(store, "due_by", lambda due, _at, limit=100: snapshot[due])
    return snapshot


def test_a_reminder_just_cancelled_in_the_table_is_not_sent(aws, pump, api, andrea, sent, monkeypatch):
    from chalicelib.appointment import service

    booked = _confirmed(api, pump, andrea)
    at = _day_before(booked)
    assert len(_stale_index(monkeypatch, at)["remind"]) == 1
    status, doc, _ = api.call("PATCH", f"{APPOINTMENTS}/{booked['id']}", andrea, {"status": "cancelled"})
    assert status == 200 and doc["status"] == "cancelled"
    assert service.sweep(at) == {"expired": 0, "reminded": 0} and sent == []


def test_a_reminder_moved_later_is_sent_once_for_the_new_slot_only(aws, pump, api, andrea, sent, monkeypatch):
    from chalicelib.appointment import service, store

    booked = _confirmed(api, pump, andrea)
    old_at = _day_before(booked)
    later = next(s for s in free_slots(api, andrea) if s["validFor"]["startDateTime"][:10]
                 > booked["validFor"]["startDateTime"][:10])
    real_due_by = store.due_by
    _stale_index(monkeypatch, old_at)
    status, moved, _ = api.call("PATCH", f"{APPOINTMENTS}/{booked['id']}", andrea, {"validFor": later["validFor"]})
    assert status == 200, moved
    assert service.sweep(old_at) == {"expired": 0, "reminded": 0} and sent == []   # not due for its new slot yet
    monkeypatch.setattr(store, "due_by", real_due_by)
    new_at = _day_before(moved)
    assert service.sweep(new_at) == {"expired": 0, "reminded": 1}
    assert service.sweep(new_at) == {"expired": 0, "reminded": 0}
    assert sent == [f"appointment-{booked['id']}-reminder-{later['id']}"]


def test_two_sweeps_at_once_send_once(aws, pump, api, andrea, sent):
    from chalicelib.appointment import service

    booked = _confirmed(api, pump, andrea)
    at = _day_before(booked)
    barrier = threading.Barrier(4)

    def sweep(_):
        barrier.wait()
        return service.sweep(at)["reminded"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(sweep, range(4))) == 1
    assert sent == [f"appointment-{booked['id']}-reminder-{booked['calendarEvent']['id']}"]


def test_a_reminder_that_could_not_be_started_is_due_again(aws, pump, api, andrea, sent, monkeypatch):
    from chalicelib.appointment import service

    booked = _confirmed(api, pump, andrea)
    at = _day_before(booked)
    working = service.workflows.start_once

    def broken(*args):
        raise RuntimeError("Step Functions unavailable")
    monkeypatch.setattr(service.workflows, "start_once", broken)
    with pytest.raises(RuntimeError):
        service.sweep(at)
    monkeypatch.setattr(service.workflows, "start_once", working)
    assert service.sweep(at) == {"expired": 0, "reminded": 1} and len(sent) == 1


def test_twenty_cancels_at_once_free_the_slot_once(aws, demo):
    from chalicelib.appointment import service
    from chalicelib.auth import Caller
    from tests.appointment.conftest import booking

    andrea = Caller(sub="cust-andrea", role="customer", customer_id="cust-andrea", channel="web")
    slot = service.search({}, andrea)["availableTimeSlot"][0]
    mine, _ = service.book(booking(slot), andrea)
    service.book(booking(slot), andrea)                 # the other engineer: the counter stays at one after
    barrier = threading.Barrier(20)

    def cancel(_):
        barrier.wait()
        done = service._cancel(mine["id"], "test")
        return done[2]

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        assert sum(pool.map(cancel, range(20))) == 1
    assert taken(slot["id"]) == 1
    assert service._cancel("nope", "test") is None


def test_lists_read_one_page_and_checkout_reads_her_recent_bookings_only(api, demo, andrea, agent, monkeypatch):
    from chalicelib.appointment import service, store
    from chalicelib.appointment.models import AppointmentRecord

    slots = free_slots(api, andrea)[:3]
    ids = [api.call("POST", APPOINTMENTS, andrea, {"validFor": s["validFor"]})[1]["id"] for s in slots]
    reads = []
    for index in (AppointmentRecord.by_kind, AppointmentRecord.by_owner):
        real = index.query

        def query(*args, _real=real, **kwargs):
            reads.append(kwargs.get("limit"))
            return _real(*args, **kwargs)
        monkeypatch.setattr(index, "query", query)
    for who in (agent, andrea):
        reads.clear()
        status, page, headers = api.call("GET", f"{APPOINTMENTS}?offset=1&limit=1", who)
        assert status == 200 and [a["id"] for a in page] == ids[1:2], page
        assert (headers["X-Total-Count"], headers["X-Result-Count"]) == ("3", "1")
        assert reads == [2]                              # offset + limit items, not the whole list
    reads.clear()
    assert store.recent("cust-andrea", tmf.iso(tmf.now() - dt.timedelta(hours=1)), service.HELD_READ)
    assert reads == [service.HELD_READ]
    status, page, _ = api.call("GET", f"{APPOINTMENTS}?status=initialized&limit=2", agent)   # filtered: still right
    assert status == 200 and [a["id"] for a in page] == ids[:2]
