"""TMF646 installation appointments, pure: the simulated field-service calendar (slots per postcode
area), what an appointment looks like, which products need an engineer, who sees what. No I/O.

- The calendar is deterministic: in each area it serves (`AREAS`, engineers per slot), every
  weekday has a morning and an afternoon slot (`SLOTS`, UTC) from tomorrow for `HORIZON_DAYS`
  days; a slot is closed (no engineer free) when `closed()` says so, the same answer every time.
- A slot's capacity is its area's engineers; each booking takes one (store.py counts them).
- An appointment is `initialized` while it holds its slot waiting for an order (until `HOLD`
  minutes have passed: then the sweep cancels it and frees the slot), `confirmed` once its order
  is placed (the order's transaction confirms it), `cancelled` when cancelled through the API, by
  the order's cancellation or by its hold expiring; `completed`/`failed` are the stack's (not here).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, Iterable, Mapping

from chalicelib.view import ref_id
from chalicelib.actor import Actor
from chalicelib import tmf
from chalicelib.view import Document

API_ROOT = "/tmf-api/appointment/v4"
APPOINTMENT, SEARCH = "appointment", "searchTimeSlot"
CUSTOMER_ROLE = "customer"
OFFERING_ROLE, ORDER_ROLE = "productOffering", "productOrder"
PLACE_ROLE = "installationAddress"

INITIALIZED, CONFIRMED, CANCELLED = "initialized", "confirmed", "cancelled"
HOLD = dt.timedelta(minutes=60)          # an unordered booking holds its slot this long
REMIND_BEFORE = dt.timedelta(days=1)     # the SMS goes out a day before the slot starts

# Catalogue data: a productSpecification with this attribute set to ENGINEER is installed at the
# customer's home (broadband, TV, Home Security): an order item of it needs an appointment.
INSTALLATION, ENGINEER = "installation", "engineer"

# The simulated field-service calendar: engineers per slot in each postcode area served.
AREAS = {"BS": 2, "BA": 1, "GL": 1, "SN": 1}
SLOTS = ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(17)))
HORIZON_DAYS = 14
MAX_SEARCH_DAYS = 31


def area_of(postcode: Any) -> str | None:
    """The postcode area: the letters a UK postcode starts with ("BS1 4DJ" -> "BS")."""
    found = re.match(r"\s*([A-Za-z]{1,2})\d", str(postcode or ""))
    return found.group(1).upper() if found else None


def slot_id(area: str, start: dt.datetime) -> str:
    return f"{area}-{start.strftime('%Y%m%dT%H%M')}"


def closed(area: str, start: dt.datetime) -> bool:
    """About one slot in six has no engineer free (deterministic per area and start)."""
    return hashlib.sha256(slot_id(area, start).encode()).digest()[0] % 6 == 0


def capacity(area: str, start: dt.datetime) -> int:
    return 0 if area not in AREAS or closed(area, start) else AREAS[area]


def calendar(area: str, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The area's open slots (start, end) that lie within [start, end), in time order."""
    if area not in AREAS:
        return []
    out = []
    day = start.date()
    while day <= end.date():
        if day.weekday() < 5:
            for begin, finish in SLOTS:
                s = dt.datetime.combine(day, begin, tzinfo=dt.timezone.utc)
                e = dt.datetime.combine(day, finish, tzinfo=dt.timezone.utc)
                if s >= start and e <= end and capacity(area, s):
                    out.append((s, e))
        day += dt.timedelta(days=1)
    return out


def window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """What a search without a requested window looks at: tomorrow 00:00 for HORIZON_DAYS."""
    start = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=dt.timezone.utc)
    return start, start + dt.timedelta(days=HORIZON_DAYS)


def slot_problem(area: str, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> tuple[str, str] | None:
    """Why [start, end) cannot be booked in `area` (code, message), or None when it is a slot."""
    if start <= now:
        return "slotInPast", f"the slot starting {tmf.iso(start)} has begun or passed: search for a free one"
    if not any(s == start and e == end for s, e in calendar(area, start, end)):
        return "unknownSlot", (f"{tmf.iso(start)} to {tmf.iso(end)} is not a slot of the field-service calendar in "
                               f"area {area}: use one from searchTimeSlot")
    return None


def time_slot(area: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"id": slot_id(area, start), "validFor": {"startDateTime": tmf.iso(start), "endDateTime": tmf.iso(end)},
            "@type": "TimeSlot"}


def place(postcode: str) -> dict[str, Any]:
    return {"id": postcode, "name": postcode, "role": PLACE_ROLE, "@referredType": "GeographicAddress"}


def new_search(body: Mapping[str, Any], rid: str, href: str, at: str, postcode: str,
               free: list[dict[str, Any]]) -> dict[str, Any]:
    return {**body, "id": rid, "href": href, "searchDate": at, "@type": "SearchTimeSlot",
            "relatedPlace": {**place(postcode), **(body.get("relatedPlace") or {})},
            "status": "done", "searchResult": "success" if free else "fail", "availableTimeSlot": free}


def new_appointment(body: Mapping[str, Any], rid: str, href: str, at: str, customer_id: str, postcode: str,
                    area: str, start: dt.datetime) -> dict[str, Any]:
    parties = [p for p in body.get("relatedParty") or [] if p.get("role") != CUSTOMER_ROLE]
    parties.append({"id": customer_id, "role": CUSTOMER_ROLE, "@referredType": "Customer"})
    return {"category": "installation", **body, "id": rid, "href": href, "@type": "Appointment",
            "creationDate": at, "lastUpdate": at, "status": INITIALIZED, "relatedParty": parties,
            "relatedPlace": {**place(postcode), **(body.get("relatedPlace") or {})},
            "calendarEvent": {"id": slot_id(area, start), "name": f"installation slot in area {area}",
                              "@referredType": "CalendarEvent"}}


class Appointment(Document):
    """A thin typed view of a stored appointment (chalicelib/view.py)."""

    @property
    def slot(self) -> str:
        return str(self.ref("calendarEvent") or "")

    def entity(self, role: str) -> str | None:
        """The id of the relatedEntity with this role (the order, the basket...)."""
        entities = self.doc.get("relatedEntity")
        return next((e.get("id") for e in entities if isinstance(e, Mapping) and e.get("role") == role), None) \
            if isinstance(entities, list) else None


def slot_of(doc: Mapping[str, Any]) -> str:
    return Appointment(doc).slot


def start_of(doc: Mapping[str, Any]) -> dt.datetime:
    return tmf.parse_datetime(doc["validFor"]["startDateTime"], "validFor.startDateTime")


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Appointment(doc).party(CUSTOMER_ROLE)


def entity(doc: Mapping[str, Any], role: str) -> str | None:
    return Appointment(doc).entity(role)


def visible(doc: Mapping[str, Any], role: str, customer_id: str | None) -> bool:
    return customer_id is not None and customer_of(doc) == customer_id if role == "customer" else True


def searcher(actor: Actor, customer_id: str | None) -> str:
    """Whose a search is: the customer it was made for (by her or by an agent naming her), else
    the channel that made it (a visitor's, by postcode), else the caller who made it."""
    if customer_id:
        return f"customer#{customer_id}"
    return f"channel#{actor.channel}" if actor.role == "channel" else f"{actor.role}#{actor.id}"


def search_visible(owner: str | None, role: str, customer_id: str | None, channel: str | None) -> bool:
    """Who reads a search again: an agent any; a customer those made for her; a channel those it
    made for its visitors (naming no customer). Never another customer's place."""
    if role == "agent":
        return True
    if role == "customer":
        return customer_id is not None and owner == f"customer#{customer_id}"
    return role == "channel" and channel is not None and owner == f"channel#{channel}"


def with_note(doc: Mapping[str, Any], at: str, text: str) -> dict[str, Any]:
    return {**doc, "note": [*(doc.get("note") or []), {"date": at, "author": "omnishop", "text": text}]}


def rescheduled(doc: Mapping[str, Any], area: str, start: dt.datetime, end: dt.datetime, at: str) -> dict[str, Any]:
    return {**with_note(doc, at, f"rescheduled from {doc['validFor']['startDateTime']}"),
            "validFor": {"startDateTime": tmf.iso(start), "endDateTime": tmf.iso(end)}, "lastUpdate": at,
            "calendarEvent": {**doc["calendarEvent"], "id": slot_id(area, start)}}


def ended(doc: Mapping[str, Any], at: str, reason: str) -> dict[str, Any]:
    return {**with_note(doc, at, reason), "status": CANCELLED, "lastUpdate": at}


def confirmed(doc: Mapping[str, Any], order_ref: Mapping[str, Any], at: str) -> dict[str, Any]:
    order = {"id": order_ref["id"], "href": order_ref.get("href"), "role": ORDER_ROLE, "@referredType": "ProductOrder"}
    return {**doc, "status": CONFIRMED, "lastUpdate": at,
            "relatedEntity": [*(e for e in doc.get("relatedEntity") or [] if e.get("role") != ORDER_ROLE), order]}


def reminder_text(doc: Mapping[str, Any]) -> str:
    start = doc["validFor"]["startDateTime"]
    return (f"Hi {{firstName}}, your Omnishop engineer visits tomorrow ({{date}}) between {start[11:16]} and "
            f"{doc['validFor']['endDateTime'][11:16]} UTC (appointment {doc['id']}). To move it, reschedule online.")


# --- checkout (chalicelib/ordering) ---------------------------------------------------------------
def needs_engineer(spec: Mapping[str, Any] | None) -> bool:
    return (spec or {}).get(INSTALLATION) == ENGINEER


def engineer_items(items: Iterable[Mapping[str, Any]], offering: Any, specification: Any) -> list[Mapping[str, Any]]:
    """The order's `add` items of an offering (or a bundle with a component) whose
    productSpecification needs an engineer. `offering(id)`/`specification(id)`: catalogue lookups."""
    out = []
    for item in items:
        oid = ref_id(item, "productOffering")
        top = offering(oid) if oid and item.get("action", "add") == "add" else None
        if top is None:
            continue
        components = [offering(p["id"]) for p in top.get("bundledProductOffering") or []] or [top]
        specs = [((c or {}).get("productSpecification") or {}).get("id") for c in components]
        if any(needs_engineer(specification(s)) for s in specs if s):
            out.append(item)
    return out


def appointment_ref(doc: Mapping[str, Any], href: str) -> dict[str, Any]:
    """What an order item (and its stack) is told of its engineer's visit: when, or that it was
    cancelled."""
    start = doc["validFor"]["startDateTime"]
    told = f"installation cancelled (was {start})" if doc.get("status") == CANCELLED else f"installation {start}"
    return {"id": doc["id"], "href": href, "description": told, "@referredType": "Appointment"}
