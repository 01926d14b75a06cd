"""Appointment persistence (PynamoDB). A slot's counter changes only in the same transaction as
the appointment that takes or frees it, under conditions: below capacity to take, above zero to
free, the appointment at the version read. See models.py for the key design."""
from __future__ import annotations

import time
from typing import Any, Callable

from pynamodb.exceptions import TransactWriteError

from chalicelib import db
from chalicelib.appointment import domain
from chalicelib.appointment.models import AppointmentRecord, SlotRecord
from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, versioned
from chalicelib.documents import MAX_ID, Documents

HELD, REMIND = "held", "remind"
SEARCH_KEPT_SECONDS = 86400


class SlotFull(Exception):
    """The slot has no engineer left (every one of its bookings is taken)."""


def _slot_pk(slot: str) -> str:
    return f"slot#{slot}"


def _attributes(doc: dict[str, Any], due: str | None, until: str | None) -> dict[str, Any]:
    customer = domain.customer_of(doc)
    return {"sort": f"{doc['creationDate']}#{doc['id']}", "owner": customer_pk(customer) if customer else None,
            "due": due, "until": until}


def _search_attributes(_doc: dict[str, Any], searcher: str) -> dict[str, Any]:
    return {"searcher": searcher, "expires": int(time.time()) + SEARCH_KEPT_SECONDS}


_APPOINTMENTS = Documents(AppointmentRecord, domain.APPOINTMENT, _attributes)
_SEARCHES = Documents(AppointmentRecord, None, _search_attributes)   # no kind: not listed, kept a day


def _take(tx: Any, slot: str, capacity: int) -> None:
    tx.update(SlotRecord(_slot_pk(slot)), [SlotRecord.taken.add(1)],
              condition=SlotRecord.taken.does_not_exist() | (SlotRecord.taken < capacity))


def _free(tx: Any, slot: str) -> None:
    tx.update(SlotRecord(_slot_pk(slot)), [SlotRecord.taken.add(-1)], condition=SlotRecord.taken > 0)


def _run(write: Callable[[Any], None], slot_first: bool) -> None:
    """One transaction; SlotFull when the slot taken (first update) refused, StaleVersion when
    the appointment changed meanwhile. PynamoDB sends puts first, then updates (in order)."""
    try:
        with db.transaction() as tx:
            write(tx)
    except TransactWriteError as exc:
        codes = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        if slot_first and len(codes) > 1 and codes[1] == db.CONDITION_FAILED:
            raise SlotFull() from None
        with versioned():
            raise


def book(doc: dict[str, Any], capacity: int, hold_until: str) -> None:
    """The new appointment (holding until `hold_until`) and its slot taken, or SlotFull and nothing."""
    def write(tx: Any) -> None:
        _APPOINTMENTS.put(doc, due=HELD, until=hold_until)(tx)
        _take(tx, domain.slot_of(doc), capacity)

    _run(write, slot_first=True)


def move(doc: dict[str, Any], version: int, old_slot: str, capacity: int, due: str | None, until: str | None) -> int:
    """Rescheduled: the new slot taken (SlotFull if full), the old one freed, the appointment
    written at `version` (StaleVersion if it changed), all at once."""
    def write(tx: Any) -> None:
        _APPOINTMENTS.put(doc, version, due=due, until=until)(tx)
        _take(tx, domain.slot_of(doc), capacity)
        _free(tx, old_slot)

    _run(write, slot_first=True)
    return version + 1


def end(doc: dict[str, Any], version: int) -> int:
    """Cancelled: the appointment written at `version` and its slot freed, at once."""
    def write(tx: Any) -> None:
        _APPOINTMENTS.put(doc, version, due=None, until=None)(tx)
        _free(tx, domain.slot_of(doc))

    _run(write, slot_first=False)
    return version + 1


def confirm_writes(docs: list[tuple[dict[str, Any], int]], remind_at: Callable[[dict[str, Any]], str]) -> \
        Callable[[Any], None]:
    """For the order's own transaction: each appointment confirmed, at the version read (it was
    still holding its slot then), due for its reminder at `remind_at(doc)`."""
    def write(tx: Any) -> None:
        for doc, version in docs:
            _APPOINTMENTS.put(doc, version, due=REMIND, until=remind_at(doc))(tx)

    return write


def retake_writes(docs: list[tuple[dict[str, Any], int, int]], remind_at: Callable[[dict[str, Any]], str]) -> \
        Callable[[Any], None]:
    """For the payment's transaction (paying a refused order again): each (appointment, version
    read, its slot's capacity) confirmed again, taking its slot back while below capacity."""
    def write(tx: Any) -> None:
        for doc, version, capacity in docs:
            _APPOINTMENTS.put(doc, version, due=REMIND, until=remind_at(doc))(tx)
            _take(tx, domain.slot_of(doc), capacity)

    return write


def claim_reminder(rid: str, at: str) -> tuple[dict[str, Any], int] | None:
    """The appointment as the table has it (not the by-due index's copy, which may be behind a
    cancellation or a move), its day-before SMS claimed (nothing due any more) when it is due by
    `at`: (doc, version after the claim). None when it is not due (moved later, cancelled,
    claimed already) or another writer changed it first."""
    rec = _APPOINTMENTS.get(rid)
    if rec is None or rec.due != REMIND or not rec.until or rec.until > at:
        return None
    try:
        return rec.body, _APPOINTMENTS.replace(rec.body, rec.version, due=None, until=None)
    except StaleVersion:
        return None


def unclaim_reminder(doc: dict[str, Any], version: int, due_at: str) -> bool:
    """The reminder due again (its SMS could not be started), unless it changed since the claim."""
    return db.written(lambda: _APPOINTMENTS.replace(doc, version, due=REMIND, until=due_at))


def load(rid: str) -> tuple[dict[str, Any], int] | None:
    return _APPOINTMENTS.load(rid)


def _query(customer_id: str | None, *args: Any, **kwargs: Any) -> Any:
    """A Query on one customer's appointments (by-owner), or on every appointment (by-kind)."""
    if customer_id is not None:
        return AppointmentRecord.by_owner.query(customer_pk(customer_id), *args, **kwargs)
    return AppointmentRecord.by_kind.query(domain.APPOINTMENT, *args, **kwargs)


def appointments(customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every appointment, oldest first, or one customer's (one Query either way, all pages)."""
    return _APPOINTMENTS.every() if customer_id is None else _APPOINTMENTS.of_customer(customer_id)


def page(customer_id: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Appointments offset .. offset+limit, oldest first, of every customer or one, and how many
    there are (Documents.page: at most offset+limit read, the total a COUNT)."""
    return _APPOINTMENTS.page(offset, limit, customer_id)


def recent(customer_id: str, since: str, limit: int) -> list[dict[str, Any]]:
    """The customer's newest `limit` appointments made after `since` (newest first): one Query
    reading at most `limit` items, however long her history."""
    if len(customer_id) > MAX_ID:
        return []
    return [rec.body for rec in _query(customer_id, AppointmentRecord.sort > since, scan_index_forward=False,
                                       limit=limit, page_size=limit)]


def due_by(due: str, at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    return [(rec.body, rec.version) for rec in
            AppointmentRecord.by_due.query(due, AppointmentRecord.until <= at, limit=limit)]


def taken(slots: list[str]) -> dict[str, int]:
    """How many bookings each slot has (one BatchGetItem; a slot never booked is absent)."""
    return {rec.pk.removeprefix("slot#"): int(rec.taken or 0)
            for rec in SlotRecord.batch_get([_slot_pk(s) for s in slots], consistent_read=True)} if slots else {}


def save_search(doc: dict[str, Any], searcher: str) -> None:
    """Keep a time-slot search a day (its id is new: nothing is written over)."""
    if _SEARCHES.insert(doc, searcher=searcher) is None:
        raise StaleVersion()


def load_search(rid: str) -> tuple[dict[str, Any], str | None] | None:
    """(the search, whose it is) or None."""
    rec = _SEARCHES.get(rid)   # a slot's counter has no kind either, and no body
    return (rec.body, rec.searcher) if rec is not None and rec.body else None
