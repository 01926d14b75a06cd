"""TMF646 use cases: searchTimeSlot (free installation slots in the customer's postcode area),
appointment (book, read, list, reschedule, cancel), checkout's confirmation of the appointments an
order needs, the release of an order's appointments, and the sweep (holds that expired, day-before
SMS). Rights are chalicelib/access.py's ("appointment", "searchTimeSlot"): a customer books and
sees her own appointments, an agent those of any customer (naming her as relatedParty customer).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from chalicelib.view import ref_id
from chalicelib.actor import Actor
from chalicelib import access, db, deferred, ordering, tmf, workflows
from chalicelib.appointment import domain, store
from chalicelib.auth import Caller
from chalicelib.customer import load_customer
from chalicelib.customer.domain import check_size, validate_payload
from chalicelib.errors import ApiError, NotFound, bad_request, conflict, forbidden, not_found, unprocessable
from chalicelib.observability import logger

schemas = deferred.module("chalicelib.appointment.schemas")

CHANGE_ATTEMPTS = 5
HELD_READ = 50                       # checkout reads at most this many of a customer's newest bookings
NOTIFY_WORKFLOW = "order-notify"     # the one service-message workflow (SMS/email, consent, quiet hours)


def href(resource: str, rid: str) -> str:
    return tmf.href(domain.API_ROOT, resource, rid)


def _postcode(customer_id: str) -> str | None:
    """The postcode of the customer's postal address (None when her record has none)."""
    from chalicelib.basket import domain as basket_domain   # only here: the sweep does not load it

    found = load_customer(customer_id)
    if found is None:
        raise unprocessable(f"customer {customer_id} does not exist", "unknownCustomer")
    postcode = basket_domain.postcode_of(found[0])
    return str(postcode) if postcode else None


def _no_address(customer_id: str) -> ApiError:
    return unprocessable(f"customer {customer_id} has no postal address: name the installation address "
                         "(relatedPlace.id: its postcode)", "noAddress")


def _customer_for(body: Mapping[str, Any], caller: Caller, party: Any) -> str | None:
    """Whose appointment: a customer's own; an agent names the customer (relatedParty role customer)."""
    parties = party if isinstance(party, list) else [party] if party else []
    named = next((p.get("id") for p in parties if isinstance(p, Mapping) and p.get("role") == domain.CUSTOMER_ROLE),
                 None)
    if caller.role == "customer":
        if named not in (None, caller.customer_id):
            raise forbidden("a customer books for herself only")
        return caller.customer_id
    if named is not None and caller.role != "agent":   # a channel names a postcode, never a customer
        raise forbidden("only an agent names the customer; a channel names the place (relatedPlace.id: a postcode)")
    return named


def _area(postcode: str) -> str:
    area = domain.area_of(postcode)
    if area is None or area not in domain.AREAS:
        raise unprocessable(f"postcode {postcode} is not in an area our engineers serve "
                            f"({', '.join(sorted(domain.AREAS))})", "areaNotServed")
    return area


def _period(period: Mapping[str, Any] | None, field: str) -> tuple[dt.datetime, dt.datetime]:
    period = period or {}
    if not period.get("startDateTime") or not period.get("endDateTime"):
        raise bad_request(f"{field} needs startDateTime and endDateTime", "invalidPeriod")
    tmf.check_period(period["startDateTime"], period["endDateTime"], field)
    return (tmf.parse_datetime(period["startDateTime"], f"{field}.startDateTime"),
            tmf.parse_datetime(period["endDateTime"], f"{field}.endDateTime"))


# --- searchTimeSlot -------------------------------------------------------------------------------
def search(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """The free slots of the area of a postcode (relatedPlace.id), or of the customer's address,
    within each requestedTimeSlot (default: the next HORIZON_DAYS days from tomorrow)."""
    access.check(caller, domain.SEARCH, access.WRITE)
    validate_payload("searchTimeSlot", schemas.SearchTimeSlotCreate, body)
    postcode = ref_id(body, "relatedPlace")
    customer = _customer_for(body, caller, body.get("relatedParty"))
    if not postcode:
        if customer is None:
            raise bad_request("name the place (relatedPlace.id: a postcode) or the customer (relatedParty)",
                              "placeRequired")
        postcode = _postcode(customer)
        if postcode is None:
            raise _no_address(customer)
    area, now = _area(postcode), tmf.now()
    windows = [_period(w.get("validFor"), f"requestedTimeSlot.{n}.validFor")
               for n, w in enumerate(body.get("requestedTimeSlot") or [])] or [domain.window(now)]
    if any(end - start > dt.timedelta(days=domain.MAX_SEARCH_DAYS) for start, end in windows):
        raise bad_request(f"a requested time slot spans at most {domain.MAX_SEARCH_DAYS} days", "windowTooLong")
    slots = sorted({s for start, end in windows for s in domain.calendar(area, max(start, now), end)})
    counts = store.taken([domain.slot_id(area, s) for s, _ in slots])
    free = [domain.time_slot(area, s, e) for s, e in slots
            if counts.get(domain.slot_id(area, s), 0) < domain.capacity(area, s)]
    rid = tmf.new_id()
    doc = domain.new_search(body, rid, href(domain.SEARCH, rid), tmf.iso(now), str(postcode), free)
    store.save_search(doc, domain.searcher(Actor.of(caller), customer))
    return doc


def read_search(rid: str, caller: Caller) -> dict[str, Any]:
    """A search made in the last day, to whom it belongs (domain.search_visible); 404 to anyone
    else, as for one that does not exist."""
    access.check(caller, domain.SEARCH, access.READ)
    found = store.load_search(rid)
    if found is None or not domain.search_visible(found[1], caller.role, caller.customer_id, caller.channel):
        raise not_found(domain.SEARCH, rid)
    return found[0]


# --- appointment ----------------------------------------------------------------------------------
def _place_check(body: Mapping[str, Any], customer_id: str) -> tuple[str, str]:
    """(postcode, area) of the installation: the customer's address (the body's relatedPlace.id
    when her record has none); 422 outsideArea when the body names a place in another area."""
    named = ref_id(body, "relatedPlace")
    postcode = _postcode(customer_id) or named
    if not postcode:
        raise _no_address(customer_id)
    area = _area(postcode)
    if named and domain.area_of(named) != area:
        raise unprocessable(f"{named} is outside the customer's area {area} ({postcode}): an engineer comes to the "
                            "customer's address", "outsideArea")
    return postcode, area


def _bookable(area: str, period: Mapping[str, Any] | None, field: str = "validFor") -> tuple[dt.datetime, dt.datetime]:
    start, end = _period(period, field)
    problem = domain.slot_problem(area, start, end, tmf.now())
    if problem:
        raise unprocessable(problem[1], problem[0])
    return start, end


def book(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """Hold a slot for the customer until she orders (HOLD), or 4xx and nothing held: 422 for a
    slot in the past, not in the calendar, or a place outside her area; 409 slotTaken."""
    access.check(caller, domain.APPOINTMENT, access.WRITE)
    validate_payload("appointment", schemas.AppointmentCreate, body)
    customer = _customer_for(body, caller, body.get("relatedParty"))
    if customer is None:
        raise unprocessable("an appointment is for a known customer: name her (relatedParty role customer)",
                            "identifyCustomer")
    postcode, area = _place_check(body, customer)
    start, _ = _bookable(area, body.get("validFor"))
    rid, now = tmf.new_id(), tmf.now()
    doc = domain.new_appointment(body, rid, href(domain.APPOINTMENT, rid), tmf.iso(now), customer, postcode, area,
                                 start)
    check_size("appointment", doc)
    try:
        store.book(doc, domain.capacity(area, start), tmf.iso(now + domain.HOLD))
    except store.SlotFull:
        raise conflict(f"the slot starting {tmf.iso(start)} in area {area} is taken: search for a free one; "
                       "nothing was held", "slotTaken") from None
    logger.info("appointment booked", extra={"appointmentId": rid, "by": caller.role, "slot": domain.slot_of(doc)})
    return doc, 1


def read(rid: str, caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.APPOINTMENT, access.READ)
    found = store.load(rid)
    if found is None or not domain.visible(found[0], caller.role, caller.customer_id):
        raise not_found(domain.APPOINTMENT, rid)
    return found


def search_appointments(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """A customer's own appointments, or (an agent) everyone's, oldest first. Without attribute
    filters one page is read (a Query with a Limit, and a COUNT); with them every appointment of
    the list is read and filtered."""
    access.check(caller, domain.APPOINTMENT, access.READ)
    whose = (caller.customer_id or "") if caller.role == "customer" else None
    filters = tmf.attribute_filters(params)
    offset, limit = tmf.paging(params)
    if filters:
        items, total = tmf.page([d for d in store.appointments(whose) if tmf.matches(d, filters)], offset, limit)
    else:
        items, total = store.page(whose, offset, limit)
    fields = tmf.field_selection(params)
    return [tmf.select_fields(d, fields and fields + ["href"]) for d in items], total


def _due(doc: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """What the by-due index holds for an appointment in this state."""
    if doc.get("status") == domain.CONFIRMED:
        return store.REMIND, _remind_at(doc)
    return store.HELD, tmf.iso(tmf.parse_datetime(doc["creationDate"], "creationDate") + domain.HOLD)


def _remind_at(doc: Mapping[str, Any]) -> str:
    return tmf.iso(domain.start_of(doc) - domain.REMIND_BEFORE)


def update(rid: str, patch: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """PATCH: {"validFor": a free slot} reschedules (the new slot taken and the old one freed at
    once; 409 slotTaken and nothing changed when it is full); {"status": "cancelled"} cancels
    (the slot freed, once)."""
    access.check(caller, domain.APPOINTMENT, access.WRITE)
    read(rid, caller)   # 404 for one the caller may not see, whatever the body
    validate_payload("appointment patch", schemas.AppointmentPatch, patch)
    if set(patch) - {"validFor", "status"} or len(patch) != 1:
        raise bad_request("an appointment takes one change: {\"validFor\": a free slot} or "
                          "{\"status\": \"cancelled\"}", "readOnlyField")
    if patch.get(next(iter(patch))) is None:
        raise bad_request(f"{next(iter(patch))} cannot be null: {{\"validFor\": a free slot}} or "
                          "{\"status\": \"cancelled\"}", "invalidInput")
    if "status" in patch:
        done = _cancel(rid, "cancelled by the customer" if caller.role == "customer" else f"cancelled by {caller.role}")
        if done is None:
            raise not_found(domain.APPOINTMENT, rid)
        _tell_order(done[0])
        return done[0], done[1]
    plan: dict[str, Any] = {}

    def mutate(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if doc.get("status") not in (domain.INITIALIZED, domain.CONFIRMED):
            raise unprocessable(f"appointment {rid} is {doc.get('status')}: book a new one", "appointmentEnded")
        area = domain.area_of(doc["relatedPlace"]["id"]) or ""
        start, end = _bookable(area, patch["validFor"])
        if domain.slot_id(area, start) == domain.slot_of(doc):
            return None                 # the slot it holds already
        plan.update(old_slot=domain.slot_of(doc), capacity=domain.capacity(area, start), start=start)
        return domain.rescheduled(doc, area, start, end, tmf.now_iso())

    def move(moved: dict[str, Any], version: int) -> int:
        try:
            return store.move(moved, version, plan["old_slot"], plan["capacity"], *_due(moved))
        except store.SlotFull:
            raise conflict(f"the slot starting {tmf.iso(plan['start'])} is taken: search for a free one; the "
                           "appointment keeps its slot", "slotTaken") from None

    doc, version = db.change(f"appointment {rid}", lambda: read(rid, caller), mutate, move, attempts=CHANGE_ATTEMPTS)
    if plan:
        logger.info("appointment rescheduled", extra={"appointmentId": rid, "by": caller.role,
                                                      "slot": domain.slot_of(doc)})
    _tell_order(doc)   # also when nothing moved now: a retry after a crash here still tells it
    return doc, version


def _tell_order(doc: Mapping[str, Any]) -> None:
    """An appointment confirmed for an order was moved or cancelled: the order's items carrying
    it, and through the order stream the stack, get its new reference (chalicelib/ordering)."""
    order_id = domain.entity(doc, domain.ORDER_ROLE)
    if order_id:
        ordering.appointment_changed(order_id, domain.appointment_ref(doc, href(domain.APPOINTMENT, doc["id"])))


def _cancel(rid: str, reason: str, only_held_before: str | None = None,
            of_order: str | None = None) -> tuple[dict[str, Any], int, bool] | None:
    """Cancel and free the slot, once: (doc, version, cancelled now); None when there is none.
    `only_held_before`: only an unordered booking whose hold ended by then (the sweep);
    `of_order`: only one confirmed for that order."""
    cancelled: list[bool] = []

    def load() -> tuple[dict[str, Any], int]:
        found = store.load(rid)
        if found is None:
            raise not_found(domain.APPOINTMENT, rid)
        return found

    def mutate(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if doc.get("status") not in (domain.INITIALIZED, domain.CONFIRMED) or (
                only_held_before and (doc["status"] != domain.INITIALIZED
                                      or doc["creationDate"] > only_held_before)) or (
                of_order and domain.entity(doc, domain.ORDER_ROLE) != of_order):
            return None
        return domain.ended(doc, tmf.now_iso(), reason)

    def end(done: dict[str, Any], version: int) -> int:
        new_version = store.end(done, version)
        cancelled.append(True)
        return new_version

    try:
        doc, version = db.change(f"appointment {rid}", load, mutate, end, attempts=CHANGE_ATTEMPTS)
    except NotFound:
        return None
    return doc, version, bool(cancelled)


# --- checkout (chalicelib/ordering) ---------------------------------------------------------------
def order_checkout(order_ref: Mapping[str, Any], items: list[dict[str, Any]], customer_id: str | None,
                   offering: Callable[[str], Any], specification: Callable[[str], Any]) -> \
        tuple[list[dict[str, Any]], Callable[[Any], None]] | None:
    """The order's items with their `appointment` refs, and the writes confirming those
    appointments in the order's own transaction; None when no item needs an engineer. Each such
    item names its appointment (`appointment.id`) or takes the customer's booking held for its
    offering (relatedEntity role productOffering). 422 appointmentRequired when one has none,
    422 appointmentNotHeld when it names one that is not the customer's or no longer holds its
    slot (cancelled, expired, used by another order). Nothing is written here."""
    needing = domain.engineer_items(items, offering, specification)
    if not needing:
        return None
    def usable(doc: Mapping[str, Any]) -> bool:   # holding its slot, or confirmed for this very order
        return doc.get("status") == domain.INITIALIZED or (
            doc.get("status") == domain.CONFIRMED and domain.entity(doc, domain.ORDER_ROLE) == order_ref["id"])

    since = tmf.iso(tmf.now() - domain.HOLD - domain.HOLD)   # a booking still held was made since (the sweep ends it)
    held = [d for d in (store.recent(customer_id, since, HELD_READ) if customer_id else []) if usable(d)]
    chosen: dict[str, tuple[dict[str, Any], int]] = {}
    for item in needing:
        named = ref_id(item, "appointment")
        oid = ref_id(item, "productOffering")
        if not named:
            named = next((d["id"] for d in held if domain.entity(d, domain.OFFERING_ROLE) == oid
                          and d["id"] not in {c["id"] for c, _ in chosen.values()}), None)
        if not named:
            raise unprocessable(f"productOrderItem {item.get('id')} ({oid}) is installed by an engineer: book an "
                                "appointment (POST /tmf-api/appointment/v4/appointment) and name it in the item's "
                                "appointment, or book it for this productOffering; nothing was ordered",
                                "appointmentRequired")
        found = store.load(named)
        if found is None or domain.customer_of(found[0]) != customer_id \
                or not usable(found[0]) or named in {d["id"] for d, _ in chosen.values()}:
            raise unprocessable(f"appointment {named} for productOrderItem {item.get('id')} is not a booking of this "
                                "customer holding its slot (cancelled, expired or used by another order): book "
                                "again; nothing was ordered", "appointmentNotHeld")
        chosen[str(item.get("id"))] = found
    at = tmf.now_iso()
    confirmed = [(domain.confirmed(doc, order_ref, at), version) for doc, version in chosen.values()]
    refs = {iid: domain.appointment_ref(doc, href(domain.APPOINTMENT, doc["id"])) for iid, (doc, _) in chosen.items()}
    out = [{**i, "appointment": refs[str(i.get("id"))]} if str(i.get("id")) in refs else i for i in items]
    return out, store.confirm_writes(confirmed, _remind_at)


def release_order(order: Mapping[str, Any]) -> int:
    """An order cancelled or failed: its appointments are cancelled and their slots freed (once)."""
    ids = sorted({str(ref_id(i, "appointment")) for i in order.get("productOrderItem") or []
                  if ref_id(i, "appointment")})
    done = [_cancel(rid, f"its order {order['id']} ended {order.get('state')}", of_order=order["id"]) for rid in ids]
    return sum(1 for d in done if d and d[2])


def order_rehold(order: Mapping[str, Any]) -> Callable[[Any], None] | None:
    """Paying a declined or expired order again (chalicelib/payment): the appointments its release
    cancelled are confirmed again, each taking its slot back, in the payment's transaction; None
    when none needs it. 409 slotTaken naming the appointment when its slot is full now or begun."""
    again: list[tuple[dict[str, Any], int, int]] = []
    for rid in sorted({str(ref_id(i, "appointment")) for i in order.get("productOrderItem") or []
                       if ref_id(i, "appointment")}):
        found = store.load(rid)
        if found is None or found[0].get("status") != domain.CANCELLED \
                or domain.entity(found[0], domain.ORDER_ROLE) != order["id"]:
            continue
        doc, area, start = found[0], domain.area_of(found[0]["relatedPlace"]["id"]) or "", domain.start_of(found[0])
        end = tmf.parse_datetime(doc["validFor"]["endDateTime"], "validFor.endDateTime")
        if domain.slot_problem(area, start, end, tmf.now()) or \
                store.taken([domain.slot_of(doc)]).get(domain.slot_of(doc), 0) >= domain.capacity(area, start):
            raise conflict(f"appointment {rid}'s slot starting {tmf.iso(start)} is no longer free; nothing was "
                           "charged: book a new slot and order again", "slotTaken")
        again.append((domain.confirmed(doc, order, tmf.now_iso()),
                      found[1], domain.capacity(area, start)))
    return store.retake_writes(again, _remind_at) if again else None


# --- the sweep ------------------------------------------------------------------------------------
def sweep(at: str | None = None) -> dict[str, int]:
    """Cancel the bookings whose hold ended without an order (their slots freed), and send the
    day-before SMS of each confirmed appointment due one (once per appointment and slot)."""
    at = at or tmf.now_iso()
    expired = 0
    for doc, _ in store.due_by(store.HELD, at):
        done = _cancel(doc["id"], "not ordered in time: the slot's hold expired",
                       only_held_before=tmf.iso(tmf.parse_datetime(at, "at") - domain.HOLD))
        expired += bool(done and done[2])
    reminded = 0
    for seen, _ in store.due_by(store.REMIND, at):
        # The index's copy may be behind: claim on the table first (only one sweep wins), then
        # send only for an appointment still confirmed and due for the slot it has now.
        claimed = store.claim_reminder(seen["id"], at)
        if claimed is None:
            continue
        doc, version = claimed
        if doc.get("status") != domain.CONFIRMED or domain.start_of(doc) <= tmf.parse_datetime(at, "at"):
            continue
        try:
            _remind(doc)
        except Exception:
            store.unclaim_reminder(doc, version, _remind_at(doc))   # the next sweep tries again
            raise
        reminded += 1
    return {"expired": expired, "reminded": reminded}


def _remind(doc: Mapping[str, Any]) -> bool:
    """The one SMS (named after the appointment and its slot: a repeat starts nothing)."""
    customer = domain.customer_of(doc)
    message_id = f"appointment-{doc['id']}-reminder-{domain.slot_of(doc)}"
    return workflows.start_once(NOTIFY_WORKFLOW, message_id, {
        "messageId": message_id, "customerId": customer, "purpose": "service",
        "content": {"sms": domain.reminder_text(doc)}, "channels": ["sms"],
        "fields": {"date": doc["validFor"]["startDateTime"][:10]}, "reason": f"appointment {doc['id']} day-before SMS",
        "related": [{"id": doc["id"], "href": doc.get("href"), "@referredType": "Appointment"}]})
