"""TMF687 use cases: productStock (create, read, list, change, delete) and reserveProductStock
(reserve, read, list, release), and the sweep that ends expired holds. Glue between domain.py,
the store and the caller's rights, which are chalicelib/access.py's ("productStock",
"reserveProductStock"): stock is written by catalog admins and stacks only and read by every
channel; a customer sees her own reservations, a channel those it made for visitors.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from chalicelib import access, catalog, db, deferred, tmf
from chalicelib.auth import Caller
from chalicelib.customer.domain import check_size, validate_payload
from chalicelib.errors import NotFound, bad_request, conflict, forbidden, not_found, unprocessable
from chalicelib.observability import logger
from chalicelib.stock import domain, store

# imported on first use: the sweep validates no payload (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.stock.schemas")

ALWAYS_LISTED = ["href"]      # `fields=` answers id and href (the TMF687 kit asks for both)


def href(resource: str, rid: str) -> str:
    return tmf.href(domain.API_ROOT, resource, rid)


def _listed(docs: list[dict[str, Any]], params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
    return tmf.listed(docs, params, ALWAYS_LISTED)


# --- productStock ---------------------------------------------------------------------------------
def create_stock(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.STOCK, access.WRITE)
    validate_payload("productStock", schemas.ProductStockCreate, body)
    location = domain.unknown_location(body)
    if location:
        raise unprocessable(f"place {location} is not a stock location; one of: {', '.join(domain.LOCATIONS)}",
                            "unknownLocation")
    offering = domain.offering_of(body)
    if offering and catalog.load("productOffering", offering) is None:
        raise unprocessable(f"productOffering {offering} is not in the catalogue", "unknownOffering")
    rid = domain.stock_id(offering, domain.location_of(body)) if offering else tmf.new_id()
    doc = domain.new_stock(body, rid, href(domain.STOCK, rid), tmf.now_iso())
    check_size("productStock", doc)
    version = store.insert_stock(doc)
    if version is None:
        raise conflict(f"productStock {rid} exists already (one per offering and location): PATCH it",
                       "duplicateStock")
    logger.info("stock created", extra={"stockId": rid, "by": caller.role, "level": doc["productStockLevel"]["amount"]})
    return doc, version


def read_stock(stock_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.STOCK, access.READ)
    found = store.load_stock(stock_id)
    if found is None:
        raise not_found(domain.STOCK, stock_id)
    return found


def search_stock(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """Availability per location: e.g. `stockedProduct.productOffering.id=po-phone-x`, `place.id=`."""
    access.check(caller, domain.STOCK, access.READ)
    if not tmf.attribute_filters(params):   # DynamoDB pages (store.page_stocks)
        offset, limit = tmf.paging(params)
        items, total = store.page_stocks(offset, limit)
        return tmf.selected(items, params, ALWAYS_LISTED), total
    return _listed(store.stocks(), params)


def update_stock(stock_id: str, patch: Mapping[str, Any], caller: Caller,
                 if_match: str | None = None) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.STOCK, access.WRITE)
    validate_payload("productStock patch", schemas.ProductStockPatch, patch)

    def mutate(current: dict[str, Any], _version: int) -> dict[str, Any]:
        try:
            doc = domain.stock_patched(current, patch, tmf.now_iso())
        except ValueError as exc:
            raise bad_request(f"{exc} of a productStock cannot change", "readOnlyField") from None
        check_size("productStock", doc)
        return doc

    # a reservation or another writer may move the level meanwhile: db.change reads again
    doc, version = db.change(f"productStock {stock_id}", lambda: read_stock(stock_id, caller), mutate,
                             store.replace_stock, expected=tmf.parse_if_match(if_match))
    logger.info("stock changed", extra={"stockId": stock_id, "by": caller.role, "fields": sorted(patch)})
    return doc, version


def delete_stock(stock_id: str, caller: Caller, if_match: str | None = None) -> None:
    access.check(caller, domain.STOCK, access.WRITE)
    db.delete(f"productStock {stock_id}", lambda: read_stock(stock_id, caller),
              lambda version: store.delete_stock(stock_id, version), expected=tmf.parse_if_match(if_match))
    logger.info("stock deleted", extra={"stockId": stock_id, "by": caller.role})


# --- reserveProductStock --------------------------------------------------------------------------
def _customer_for(body: Mapping[str, Any], caller: Caller) -> str | None:
    named = domain.customer_of(body)
    if caller.role == "customer":
        if named not in (None, caller.customer_id):
            raise forbidden("a customer reserves for herself only")
        return caller.customer_id
    if caller.role == "channel" and named:
        raise unprocessable("a channel reserves for anonymous visitors; identify the customer first",
                            "identifyCustomer")
    return named


def reserve(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """Hold every item's quantity, or nothing: 422 for a stock that does not exist, 409 when one
    has less than asked. An item naming no product leaves a rejected reservation (nothing held)."""
    access.check(caller, domain.RESERVATION, access.WRITE)
    validate_payload("reserveProductStock", schemas.ReserveProductStockCreate, body)
    ids = [i["id"] for i in body["reserveProductStockItem"]]
    if len(set(ids)) != len(ids):
        raise bad_request("reserveProductStockItem ids must be unique", "duplicateItem")
    customer, location = _customer_for(body, caller), domain.location_of(body)
    if domain.unknown_location(body):
        raise unprocessable(f"place {location} is not a stock location; one of: {', '.join(domain.LOCATIONS)}",
                            "unknownLocation")
    holds = domain.holds(body["reserveProductStockItem"], location)
    missing = [sid for sid in holds if store.load_stock(sid) is None]
    if missing:
        raise unprocessable(f"no productStock {', '.join(missing)} (offering and location)", "unknownStock")
    rid = tmf.new_id()
    doc = domain.new_reservation(body, rid, href(domain.RESERVATION, rid), tmf.now(), location,
                                 {sid: href(domain.STOCK, sid) for sid in holds} if holds else None,
                                 customer, caller.channel if caller.role == "channel" else None)
    check_size("reserveProductStock", doc)
    try:
        version = _reserve_once(doc, holds)
    except store.Short as exc:
        raise conflict(f"not enough stock in {', '.join(exc.stocks)} for this reservation; nothing was held",
                       "insufficientStock") from None
    logger.info("stock reserved" if holds else "reservation rejected",
                extra={"reservationId": rid, "by": caller.role, "holds": holds})
    return doc, version


def _reserve_once(doc: dict[str, Any], holds: dict[str, int]) -> int:
    """Reserve; when a stock is short, end the expired holds on it first and try once more."""
    try:
        version = store.reserve(doc, holds)
    except store.Short as exc:
        if not sweep(tmf.now_iso(), only=set(exc.stocks)):
            raise
        version = store.reserve(doc, holds)
    if version is None:   # a new uuid taken: never seen, but never overwrite
        raise conflict(f"reserveProductStock {doc['id']} exists already; send the request again")
    return version


# --- for checkout (chalicelib/ordering) ----------------------------------------------------------
def order_hold(order_ref: Mapping[str, Any], order_items: Sequence[Mapping[str, Any]], customer_id: str | None,
               channel: str | None) -> tuple[dict[str, Any], Callable[[Any], None]] | None:
    """The reservation an order's handsets need, and its writes for the order's own transaction;
    None when no item is of a stocked offering (one with a stock in the central warehouse or at
    the item's store). 409 insufficientStock, nothing written, when a stock has less than asked
    now (the transaction's conditions catch one emptied meanwhile)."""
    wanted: list[Any] = []
    holds: dict[str, int] = {}
    read: dict[str, Any] = {}   # each stock read once, however many items name it (1,000 business lines)

    def stock(sid: str) -> Any:
        if sid not in read:
            read[sid] = store.load_stock(sid)
        return read[sid]

    for item in domain.order_stock_items(order_items):
        sid, offering = item["productStockRequested"]["id"], item["requestedProduct"]["productOffering"]["id"]
        found, central = stock(sid), domain.stock_id(offering, domain.CENTRAL)
        if found is None and (sid == central or stock(central) is None):
            continue   # not a stocked offering (a plan, a service): nothing to hold
        holds[sid] = holds.get(sid, 0) + item["quantityRequested"]["amount"]
        if found is None or found[0]["productStockLevel"]["amount"] < holds[sid]:
            raise conflict(f"not enough stock in {sid} for item {item['id']}; nothing was ordered",
                           "insufficientStock")
        wanted.append(item)
    if not wanted:
        return None
    rid = domain.order_reservation_id(order_ref["id"])
    doc = domain.new_reservation({"reserveProductStockItem": wanted}, rid, href(domain.RESERVATION, rid), tmf.now(),
                                 domain.CENTRAL, {sid: href(domain.STOCK, sid) for sid in holds}, customer_id, channel)
    doc = domain.for_order(doc, order_ref)
    return doc, store.hold_writes(doc, holds)


def order_rehold(order_id: str) -> Callable[[Any], None] | None:
    """Paying a declined or expired order again (chalicelib/payment): the handsets its released
    reservation held are held again, its writes for the payment's transaction; None when it held
    none or holds them still. 409 insufficientStock naming the stock when one has less now."""
    found = store.load_reservation(domain.order_reservation_id(order_id))
    if found is None or found[0].get("status") != domain.RELEASED:
        return None
    doc = {**found[0], "status": domain.RESERVED, "statusChangeDate": tmf.now_iso()}
    holds = domain.held_quantities(doc)
    short = [sid for sid, n in holds.items() if ((store.load_stock(sid) or ({},))[0].get("productStockLevel")
                                                  or {}).get("amount", 0) < n]
    if short:
        raise conflict(f"not enough stock in {', '.join(short)} any more for this order's handsets; nothing was "
                       "charged: order again", "insufficientStock")
    return store.hold_writes(doc, holds, found[1])


def release_order(order_id: str) -> bool:
    """An order cancelled or failed: the stock its checkout held goes back (once; False when it
    held none or its hold had ended)."""
    done = _end(domain.order_reservation_id(order_id), domain.RELEASED, tmf.now_iso())
    return bool(done and done[2])


def consume_order(order_id: str) -> bool:
    """An order completed: its hold ends `consumed`, the stock staying taken (once)."""
    done = _end(domain.order_reservation_id(order_id), domain.CONSUMED, tmf.now_iso(), give_back=False)
    return bool(done and done[2])


def read_reservation(rid: str, caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.RESERVATION, access.READ)
    found = store.load_reservation(rid)
    if found is None or not domain.reservation_visible(found[0], caller.role, caller.customer_id, caller.channel):
        raise not_found(domain.RESERVATION, rid)
    return found


def search_reservations(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check(caller, domain.RESERVATION, access.READ)
    if not tmf.attribute_filters(params) and caller.role != "channel":   # DynamoDB pages (store.page_reservations)
        offset, limit = tmf.paging(params)
        own = (caller.customer_id or "") if caller.role == "customer" else None
        items, total = store.page_reservations(offset, limit, own)
        return tmf.selected(items, params, ALWAYS_LISTED), total
    kept = store.reservations(caller.customer_id or "") if caller.role == "customer" else store.reservations()
    mine = [d for d in kept if domain.reservation_visible(d, caller.role, caller.customer_id, caller.channel)]
    return _listed(mine, params)


def release(rid: str, patch: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """PATCH {"status": "released"}: the stock held goes back, once; the same request again
    changes nothing (200 with the released reservation)."""
    access.check(caller, domain.RESERVATION, access.WRITE)
    current, _ = read_reservation(rid, caller)    # 404 for one the caller may not see, whatever the body
    order_id = domain.order_of(current)
    if order_id:
        raise unprocessable(f"this reservation holds the handsets of productOrder {order_id}: cancel the order "
                            "(cancelProductOrder) to release them", "orderReservation")
    if set(patch) != {"status"}:
        raise bad_request("a reservation takes one change: {\"status\": \"released\"}", "readOnlyField")
    validate_payload("reserveProductStock patch", schemas.ReservationPatch, patch)
    ended = _end(rid, domain.RELEASED, tmf.now_iso())
    if ended is None:
        raise not_found(domain.RESERVATION, rid)
    logger.info("reservation released" if ended[2] else "reservation already ended",
                extra={"reservationId": rid, "by": caller.role, "status": ended[0]["status"]})
    return ended[0], ended[1]


def _end(rid: str, status: str, at: str, only_if_due: bool = False,
         give_back: bool = True) -> tuple[dict[str, Any], int, bool] | None:
    """End a reservation's hold (released, expired): its stock back in the same transaction.
    Nothing when it holds nothing any more (released, expired, rejected): safe to repeat.
    (doc, version, ended now), or None when there is no such reservation."""
    gone: set[str] = set()
    ended: list[bool] = [False]

    def load() -> tuple[dict[str, Any], int]:
        found = store.load_reservation(rid)
        if found is None:
            raise not_found(domain.RESERVATION, rid)
        return found

    def mutate(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if doc.get("status") != domain.RESERVED or (only_if_due and doc["validFor"]["endDateTime"] > at):
            return None
        return domain.ended(doc, status, at)

    def write(done: dict[str, Any], version: int) -> int:
        try:
            version = store.end_hold(done, version, gone, give_back)
        except store.Short as exc:      # a stock deleted since: nothing to give back to it; read again
            gone.update(exc.stocks)
            raise store.StaleVersion() from None
        ended[0] = True
        return version

    try:
        doc, version = db.change(f"reserveProductStock {rid}", load, mutate, write)
    except NotFound:
        return None
    return doc, version, ended[0]


def sweep(at: str | None = None, only: set[str] | None = None) -> int:
    """End the holds whose validFor has ended (expired), their stock back: how many were ended.
    `only`: just those holding one of these stocks."""
    at = at or tmf.now_iso()
    ended = 0
    for doc, _ in store.due_by(at):
        if only is None or only & set(domain.held_quantities(doc)):
            done = _end(doc["id"], domain.EXPIRED, at, only_if_due=True)
            ended += bool(done and done[2])
    return ended
