"""Stock persistence (PynamoDB). A stock's level changes by conditional updates only: a
reservation and the stock it takes are one transaction (never below zero, nothing half-held),
and so are a release and the stock it gives back. See models.py for the key design."""
from __future__ import annotations

import time
from typing import Any, Callable, Collection

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import db
from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, versioned, written  # noqa: F401 (store.StaleVersion)
from chalicelib.stock import domain
from chalicelib.stock.models import StockRecord

MAX_ID = 256
HELD = "held"
RETENTION_DAYS = 90      # how long a reservation that holds nothing any more is kept


class Short(Exception):
    """A reservation refused: these stocks have less than asked (or do not exist)."""

    def __init__(self, stocks: list[str]):
        super().__init__(", ".join(stocks))
        self.stocks = stocks


def _stock_record(doc: dict[str, Any], version: int | None) -> StockRecord:
    body = {k: v for k, v in doc.items() if k != "productStockLevel"}
    body["productStockLevel"] = {k: v for k, v in doc["productStockLevel"].items() if k != "amount"}
    rec = StockRecord(doc["id"], kind=domain.STOCK, level=doc["productStockLevel"]["amount"], body=body,
                      sort=f"{domain.location_of(doc)}#{domain.offering_of(doc) or ''}#{doc['id']}")
    if version is not None:
        rec.version = version
    return rec


def _stock_doc(rec: StockRecord) -> dict[str, Any]:
    doc = dict(rec.body)
    doc["productStockLevel"] = {**doc.get("productStockLevel", {}), "amount": int(rec.level or 0)}
    return doc


def _get(pk: str) -> StockRecord | None:
    if not pk or len(pk) > MAX_ID:
        return None
    try:
        return StockRecord.get(pk, consistent_read=True)
    except DoesNotExist:
        return None


# --- productStock ---------------------------------------------------------------------------------
def load_stock(stock_id: str) -> tuple[dict[str, Any], int] | None:
    rec = _get(stock_id)
    return (_stock_doc(rec), rec.version) if rec is not None and rec.kind == domain.STOCK else None


def insert_stock(doc: dict[str, Any]) -> int | None:
    """Write a new stock; None when one with this id (offering and location) exists."""
    rec = _stock_record(doc, None)
    return rec.version if written(rec.save) else None


def replace_stock(doc: dict[str, Any], version: int) -> int:
    """Replace the stock stored at `version` (a reservation moves the version on too)."""
    rec = _stock_record(doc, version)
    with versioned():
        rec.save()
    return rec.version


def delete_stock(stock_id: str, version: int) -> None:
    rec = StockRecord(stock_id)
    rec.version = version
    with versioned():
        rec.delete()


def stocks() -> list[dict[str, Any]]:
    """Every stock, by location then offering (one Query)."""
    return [_stock_doc(rec) for rec in StockRecord.by_kind.query(domain.STOCK)]


# --- reserveProductStock --------------------------------------------------------------------------
def _reservation_record(doc: dict[str, Any], holding: bool) -> StockRecord:
    # `due` marks a hold (what a release is conditional on); `until` its end, when it has one: a
    # checkout's hold has none, so it is not in the by-due index (both its keys are needed there).
    # Once it holds nothing, `expires` lets DynamoDB delete it after RETENTION_DAYS.
    until = doc["validFor"].get("endDateTime") if holding else None
    customer = domain.customer_of(doc)
    return StockRecord(doc["id"], kind=domain.RESERVATION, sort=f"{doc['creationDate']}#{doc['id']}",
                       due=HELD if holding else None, until=until, body=doc,
                       owner=customer_pk(customer) if customer else None,
                       expires=None if holding else int(time.time()) + RETENTION_DAYS * 86400)


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
    rec = _reservation_record(doc, bool(holds))
    if not holds:
        return rec.version if written(rec.save) else None
    order = sorted(holds)
    try:
        with db.transaction() as tx:
            for stock_id in order:
                _take(tx, stock_id, holds[stock_id])
            tx.save(rec, condition=StockRecord.pk.does_not_exist())
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
    def write(tx: Any) -> None:
        rec = _reservation_record(doc, True)
        if version is not None:
            rec.version = version
        tx.save(rec, condition=StockRecord.pk.does_not_exist() if version is None else StockRecord.due.does_not_exist())
        for stock_id in sorted(holds):
            _take(tx, stock_id, holds[stock_id])

    return write


def load_reservation(rid: str) -> tuple[dict[str, Any], int] | None:
    rec = _get(rid)
    return (rec.body, rec.version) if rec is not None and rec.kind == domain.RESERVATION else None


def end_hold(doc: dict[str, Any], version: int, gone: Collection[str] = frozenset(), give_back: bool = True) -> int:
    """Store the reservation `doc` (its hold ended) if it is still at `version` and holding, and
    give its quantities back to its stocks (except those in `gone`: deleted since), in one
    transaction (`give_back` False: consumed, the stock stays taken). StaleVersion when the
    reservation changed meanwhile (released by someone else);
    Short naming stocks that no longer exist."""
    back = {sid: q for sid, q in domain.held_quantities({**doc, "status": domain.RESERVED}).items()
            if sid not in gone} if give_back else {}
    order = sorted(back)
    rec = _reservation_record(doc, False)
    rec.version = version
    try:
        with db.transaction() as tx:
            for stock_id in order:
                _give(tx, stock_id, back[stock_id])
            tx.save(rec, condition=StockRecord.due == HELD)
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
    if customer_id is not None:
        if len(customer_id) > MAX_ID:
            return []
        return [rec.body for rec in StockRecord.by_owner.query(customer_pk(customer_id))]
    return [rec.body for rec in StockRecord.by_kind.query(domain.RESERVATION)]


def due_by(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Reservations holding stock whose hold ends at or before `at` (one Query)."""
    return [(rec.body, rec.version) for rec in StockRecord.by_due.query(HELD, StockRecord.until <= at, limit=limit)]
