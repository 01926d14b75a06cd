"""Stock persistence (PynamoDB). A stock's level changes by conditional updates only: a
reservation and the stock it takes are one transaction (never below zero, nothing half-held),
and so are a release and the stock it gives back. See models.py for the key design."""
from __future__ import annotations

import time
from typing import Any, Callable, Collection

from pynamodb.exceptions import TransactWriteError

from chalicelib import db
from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, versioned  # noqa: F401 (store.StaleVersion)
from chalicelib.documents import Documents
from chalicelib.stock import domain
from chalicelib.stock.models import StockRecord

HELD = "held"
RETENTION_DAYS = 90      # how long a reservation that holds nothing any more is kept


class Short(Exception):
    """A reservation refused: these stocks have less than asked (or do not exist)."""

    def __init__(self, stocks: list[str]):
        super().__init__(", ".join(stocks))
        self.stocks = stocks


def _stock_attributes(doc: dict[str, Any]) -> dict[str, Any]:
    """The level apart (a number the reservations' conditional updates change), not in the body."""
    body = {k: v for k, v in doc.items() if k != "productStockLevel"}
    body["productStockLevel"] = {k: v for k, v in doc["productStockLevel"].items() if k != "amount"}
    return {"level": doc["productStockLevel"]["amount"], "body": body,
            "sort": f"{domain.location_of(doc)}#{domain.offering_of(doc) or ''}#{doc['id']}"}


def _stock_doc(rec: StockRecord) -> dict[str, Any]:
    doc = dict(rec.body)
    doc["productStockLevel"] = {**doc.get("productStockLevel", {}), "amount": int(rec.level or 0)}
    return doc


def _reservation_attributes(doc: dict[str, Any], holding: bool) -> dict[str, Any]:
    # `due` marks a hold (what a release is conditional on); `until` its end, when it has one: a
    # checkout's hold has none, so it is not in the by-due index (both its keys are needed there).
    # Once it holds nothing, `expires` lets DynamoDB delete it after RETENTION_DAYS.
    customer = domain.customer_of(doc)
    return {"sort": f"{doc['creationDate']}#{doc['id']}", "due": HELD if holding else None,
            "until": doc["validFor"].get("endDateTime") if holding else None,
            "owner": customer_pk(customer) if customer else None,
            "expires": None if holding else int(time.time()) + RETENTION_DAYS * 86400}


_STOCKS = Documents(StockRecord, domain.STOCK, _stock_attributes, shown=_stock_doc)
_RESERVATIONS = Documents(StockRecord, domain.RESERVATION, _reservation_attributes)


# --- productStock ---------------------------------------------------------------------------------
def load_stock(stock_id: str) -> tuple[dict[str, Any], int] | None:
    return _STOCKS.load(stock_id)


def insert_stock(doc: dict[str, Any]) -> int | None:
    """Write a new stock; None when one with this id (offering and location) exists."""
    return _STOCKS.insert(doc)


def replace_stock(doc: dict[str, Any], version: int) -> int:
    """Replace the stock stored at `version` (a reservation moves the version on too)."""
    return _STOCKS.replace(doc, version)


def delete_stock(stock_id: str, version: int) -> None:
    _STOCKS.remove(stock_id, version)


def stocks() -> list[dict[str, Any]]:
    """Every stock, by location then offering (one Query)."""
    return _STOCKS.every()


def page_stocks(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Stocks offset .. offset+limit of `stocks()` and how many there are (Documents.page: at most
    offset+limit read, the total a COUNT)."""
    return _STOCKS.page(offset, limit)


# --- reserveProductStock --------------------------------------------------------------------------
def _reasons(exc: TransactWriteError) -> list[str | None]:
    """Why each write of a transaction was refused, in DynamoDB's order: PynamoDB sends the puts
    (here the reservation, first) before the updates (the stocks, in the order given)."""
    return [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])] or [None]


def _take(tx: Any, stock_id: str, quantity: int) -> None:
    """In `tx`: the stock's level down by `quantity` if it has that much (and the version on)."""
    rec = StockRecord(stock_id)
    rec.version = 0   # any value: the update then adds 1 to the version without a condition on it
    tx.update(rec, [StockRecord.level.add(-quantity)],
              condition=(StockRecord.kind == domain.STOCK) & (StockRecord.level >= quantity),
              add_version_condition=False)


def _give(tx: Any, stock_id: str, quantity: int) -> None:
    rec = StockRecord(stock_id)
    rec.version = 0
    tx.update(rec, [StockRecord.level.add(quantity)], condition=StockRecord.kind == domain.STOCK,
              add_version_condition=False)


def reserve(doc: dict[str, Any], holds: dict[str, int]) -> int | None:
    """Write the reservation and take what it holds from each stock, in one transaction. Short
    naming the stocks that had too little; None when a reservation with this id exists."""
    if not holds:
        return _RESERVATIONS.insert(doc, holding=False)
    order = sorted(holds)
    try:
        with db.transaction() as tx:
            for stock_id in order:
                _take(tx, stock_id, holds[stock_id])
            _RESERVATIONS.put(doc, holding=True)(tx)
    except TransactWriteError as exc:
        put, *updates = _reasons(exc)
        short = [sid for sid, code in zip(order, updates) if code == db.CONDITION_FAILED]
        if short:
            raise Short(short) from None
        if put == db.CONDITION_FAILED:
            return None
        with versioned():   # conflicts (409) and throttling (503) answered as every store does
            raise
    return 1


def hold_writes(doc: dict[str, Any], holds: dict[str, int], version: int | None = None) -> Callable[[Any], None]:
    """The writes of `reserve` for another context's transaction (checkout: the order, its basket
    and its reservation are one write): the reservation put on not-exists, each stock taken.
    `version`: a reservation whose hold ended, holding again (paying a refused order again)."""
    put = _RESERVATIONS.put(doc, version, condition=None if version is None else StockRecord.due.does_not_exist(),
                            holding=True)

    def write(tx: Any) -> None:
        put(tx)
        for stock_id in sorted(holds):
            _take(tx, stock_id, holds[stock_id])

    return write


def load_reservation(rid: str) -> tuple[dict[str, Any], int] | None:
    return _RESERVATIONS.load(rid)


def end_hold(doc: dict[str, Any], version: int, gone: Collection[str] = frozenset(), give_back: bool = True) -> int:
    """Store the reservation `doc` (its hold ended) if it is still at `version` and holding, and
    give its quantities back to its stocks (except those in `gone`: deleted since), in one
    transaction (`give_back` False: consumed, the stock stays taken). StaleVersion when the
    reservation changed meanwhile (released by someone else);
    Short naming stocks that no longer exist."""
    back = {sid: q for sid, q in domain.held_quantities({**doc, "status": domain.RESERVED}).items()
            if sid not in gone} if give_back else {}
    order = sorted(back)
    try:
        with db.transaction() as tx:
            for stock_id in order:
                _give(tx, stock_id, back[stock_id])
            _RESERVATIONS.put(doc, version, condition=StockRecord.due == HELD, holding=False)(tx)
    except TransactWriteError as exc:
        _, *updates = _reasons(exc)
        missing = [sid for sid, code in zip(order, updates) if code == db.CONDITION_FAILED]
        if missing:
            raise Short(missing) from None
        with versioned():
            raise
    return version + 1


def reservations(customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every reservation kept, oldest first, or one customer's (one Query either way)."""
    return _RESERVATIONS.every() if customer_id is None else _RESERVATIONS.of_customer(customer_id)


def page_reservations(offset: int, limit: int, customer_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Reservations offset .. offset+limit of `reservations(customer_id)` and how many there are
    (Documents.page: at most offset+limit read, the total a COUNT)."""
    return _RESERVATIONS.page(offset, limit, customer_id)


def due_by(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Reservations holding stock whose hold ends at or before `at` (one Query)."""
    return [(rec.body, rec.version) for rec in StockRecord.by_due.query(HELD, StockRecord.until <= at, limit=limit)]
