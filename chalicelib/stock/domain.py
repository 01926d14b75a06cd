"""TMF687 stock rules, pure: what a productStock and a reserveProductStock look like, which stock
an item of a reservation takes from, what each role sees. No I/O.

- One productStock per device offering per location (`stock_id`): the central warehouse and each
  store (`LOCATIONS`). `productStockLevel.amount` is what is available to reserve now; a
  reservation takes from it, a release gives back.
- A reservation (reserveProductStock) holds its items' quantities until `validFor.endDateTime`
  (then the sweep releases it), until it is released (PATCH status=released) or consumed.
  Its `reserveProductStockState` is the TMF task state: `done` when the stock is held,
  `terminatedWithError` when nothing could be held; `status` (an Omnishop extension) says where
  the hold is: reserved, released, expired, rejected, or consumed (its order completed).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import tmf
from chalicelib.view import Document

API_NAME = "stockManagement"
API_ROOT = "/tmf-api/stockManagement/v4"
STOCK, RESERVATION = "productStock", "reserveProductStock"
STOCK_ROLE = "stockLocation"            # the place role of a stock's location
CUSTOMER_ROLE = "customer"

CENTRAL = "central-warehouse"
LOCATIONS = {CENTRAL: "Central warehouse", "store-dublin-grafton": "Omnishop Dublin, Grafton Street",
             "store-cork-patrick": "Omnishop Cork, Patrick Street"}
HOLD_MINUTES = 30                       # how long a reservation holds stock unless released first

DONE, FAILED = "done", "terminatedWithError"
RESERVED, RELEASED, EXPIRED, REJECTED = "reserved", "released", "expired", "rejected"
CONSUMED = "consumed"                   # its order completed: the handsets left the stock for good


# --- productStock ---------------------------------------------------------------------------------
def offering_of(doc: Mapping[str, Any]) -> str | None:
    product = doc.get("stockedProduct") or {}
    return ref_id(product, "productOffering") if isinstance(product, Mapping) else None


def location_of(doc: Mapping[str, Any]) -> str:
    return (ref_id(doc, "place")) or CENTRAL


def stock_id(offering: str, location: str) -> str:
    return f"{offering}--{location}"


def place(location: str) -> dict[str, Any]:
    return {"id": location, "name": LOCATIONS.get(location, location), "role": STOCK_ROLE,
            "@referredType": "GeographicSite"}


def unknown_location(doc: Mapping[str, Any]) -> str | None:
    location = location_of(doc)
    return None if location in LOCATIONS else location


def new_stock(body: Mapping[str, Any], rid: str, href: str, at: str) -> dict[str, Any]:
    doc = {**body, "id": rid, "href": href, "creationDate": at, "lastUpdate": at, "@type": "ProductStock",
           "place": {**place(location_of(body)), **(body.get("place") or {})}}
    doc["productStockLevel"] = {"units": "unit", **body["productStockLevel"]}
    return doc


READ_ONLY = ("id", "href", "creationDate", "@type")


def stock_patched(current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The stock after a merge patch. Raises ValueError naming what may not change: its id and
    dates, and what names it (the offering and the location its id is made of)."""
    for name in READ_ONLY:
        if name in patch and patch[name] != current.get(name):
            raise ValueError(name)
    doc = tmf.merge_patch(dict(current), dict(patch))
    if offering_of(doc) != offering_of(current) or location_of(doc) != location_of(current):
        raise ValueError("stockedProduct.productOffering and place.id")
    doc["lastUpdate"] = at
    return doc


# --- reserveProductStock --------------------------------------------------------------------------
def item_stock(item: Mapping[str, Any], location: str) -> str | None:
    """The productStock an item takes from: the one it names, or its offering's at `location`."""
    named = ref_id(item, "productStockRequested")
    if named:
        return named
    offering = offering_of({"stockedProduct": item.get("requestedProduct") or {}})
    return stock_id(offering, location) if offering else None


def holds(items: list[Mapping[str, Any]], location: str) -> dict[str, int]:
    """Quantity per stock id (items taking from the same stock add up); {} when an item names
    no product (nothing can be held)."""
    out: dict[str, int] = {}
    for item in items:
        sid = item_stock(item, location)
        if sid is None:
            return {}
        out[sid] = out.get(sid, 0) + item["quantityRequested"]["amount"]
    return out


def new_reservation(body: Mapping[str, Any], rid: str, href: str, now: dt.datetime, location: str,
                    stocks: Mapping[str, str] | None, customer: str | None, channel: str | None) -> dict[str, Any]:
    """The reservation as stored. `stocks`: the stock href of each item's stock id when it is held,
    None when it is rejected (an item names no product)."""
    held = stocks is not None
    items = []
    for item in body["reserveProductStockItem"]:
        out = {**item, "reserveProductStockState": DONE if held else FAILED,
               "quantityReserved": {"amount": item["quantityRequested"]["amount"] if held else 0, "units": "unit"}}
        if stocks is not None:
            sid = item_stock(item, location) or ""
            out["productStockReserved"] = {"id": sid, "href": stocks[sid], "@referredType": "ProductStock"}
        items.append(out)
    doc = {**body, "id": rid, "href": href, "creationDate": tmf.iso(now), "@type": "ReserveProductStock",
           "reserveProductStockItem": items,
           "reserveProductStockState": DONE if held else FAILED, "status": RESERVED if held else REJECTED,
           "validFor": {"startDateTime": tmf.iso(now),
                        "endDateTime": tmf.iso(now + dt.timedelta(minutes=HOLD_MINUTES))}}
    if body.get("place") or any(not ref_id(i, "productStockRequested")
                                for i in body["reserveProductStockItem"]):
        doc["place"] = {**place(location), **(body.get("place") or {})}   # where offerings are taken from
    if not held:
        doc["statusReason"] = "an item names neither productStockRequested nor requestedProduct.productOffering"
    parties = [p for p in body.get("relatedParty") or [] if p.get("role") != CUSTOMER_ROLE]
    if customer:
        parties.append({"id": customer, "role": CUSTOMER_ROLE, "@referredType": "Customer"})
    if parties:
        doc["relatedParty"] = parties
    if channel:
        doc["channel"] = [{"id": channel, "name": channel, "@referredType": "SalesChannel"}]
    return doc


# --- reservations made by checkout (chalicelib/ordering) -------------------------------------------
def order_reservation_id(order_id: str) -> str:
    """One reservation per order, named after it: the same order captured twice holds once."""
    return f"{order_id}-stock"


def item_location(order_item: Mapping[str, Any]) -> str:
    """Where an order item's handset comes from: the store its product names as a place
    (click-and-collect), else the central warehouse."""
    places = ((order_item.get("product") or {}).get("place") or []) if isinstance(order_item.get("product"), Mapping) \
        else []
    return next((str(p["id"]) for p in places if isinstance(p, Mapping) and p.get("id") in LOCATIONS), CENTRAL)


def order_stock_items(order_items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The reservation items an order's `add` items ask for, each naming the stock it takes from."""
    out = []
    for item in order_items:
        offering = ref_id(item, "productOffering")
        if item.get("action", "add") != "add" or not offering:
            continue
        out.append({"id": str(item.get("id")), "quantityRequested": {"amount": int(item.get("quantity") or 1)},
                    "productStockRequested": {"id": stock_id(offering, item_location(item))},
                    "requestedProduct": {"productOffering": {"id": offering}}})
    return out


def for_order(reservation: Mapping[str, Any], order_ref: Mapping[str, Any]) -> dict[str, Any]:
    """A checkout's reservation holds until the order is cancelled (no expiry: the order is placed)."""
    return {**reservation, "validFor": {"startDateTime": reservation["validFor"]["startDateTime"]},
            "relatedEntity": [{**order_ref, "role": "productOrder", "@referredType": "ProductOrder"}]}


def order_of(reservation: Mapping[str, Any]) -> str | None:
    """The order a checkout's reservation holds stock for (None for one made through the API)."""
    return next((e.get("id") for e in reservation.get("relatedEntity") or []
                 if isinstance(e, Mapping) and e.get("role") == "productOrder"), None)


def held_quantities(doc: Mapping[str, Any]) -> dict[str, int]:
    """What a reservation holds now, per stock id ({} once released, expired or rejected)."""
    if doc.get("status") != RESERVED:
        return {}
    out: dict[str, int] = {}
    for item in doc.get("reserveProductStockItem") or []:
        sid = ref_id(item, "productStockReserved")
        if sid:
            out[sid] = out.get(sid, 0) + (item.get("quantityReserved") or {}).get("amount", 0)
    return out


def ended(doc: Mapping[str, Any], status: str, at: str) -> dict[str, Any]:
    """The reservation once its hold ends (released or expired): the items keep what they had reserved."""
    return {**doc, "status": status, "statusChangeDate": at}


class Reservation(Document):
    """A thin typed view of a stored reserveProductStock (chalicelib/view.py)."""

    @property
    def channel(self) -> str | None:
        channels = self.doc.get("channel")
        return next((c.get("id") for c in channels if isinstance(c, Mapping)), None) \
            if isinstance(channels, list) else None


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Reservation(doc).party(CUSTOMER_ROLE)


def channel_of(doc: Mapping[str, Any]) -> str | None:
    return Reservation(doc).channel


def reservation_visible(doc: Mapping[str, Any], role: str, customer_id: str | None, channel: str | None) -> bool:
    """Customers see their own reservations, channels those they made for visitors; others all."""
    if role == "customer":
        return customer_id is not None and customer_of(doc) == customer_id
    if role == "channel":
        return customer_of(doc) is None and channel is not None and channel_of(doc) == channel
    return True
