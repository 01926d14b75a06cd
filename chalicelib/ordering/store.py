"""Order persistence (PynamoDB): conditional writes on the version, transactions (capture with the
basket, decomposition with the children) and the Queries lists are made of. See models.py."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib.db import StaleVersion, transaction, versioned  # noqa: F401 (store.StaleVersion)
from chalicelib.ordering import domain
from chalicelib.ordering.models import OrderRecord

MAX_ID = 256


@dataclasses.dataclass
class Stored:
    doc: dict[str, Any]
    version: int
    token: str | None = None
    dispatched: bool = False


def record(doc: dict[str, Any], version: int | None, kind: str = domain.RESOURCE) -> OrderRecord:
    customer = domain.customer_of(doc)
    owner = f"CUSTOMER#{customer}" if customer else None
    rec = OrderRecord(doc["id"], kind=kind, sort=f"{doc.get('orderDate') or doc.get('creationDate')}#{doc['id']}",
                      owner=owner, parent=domain.parent_of(doc), state=doc.get("state"), body=doc,
                      open_owner=owner if domain.in_flight(doc) else None)
    if version is not None:
        rec.version = version
    return rec


def order_write(found: Stored, doc: dict[str, Any]) -> Callable[[Any], None]:
    """For another context's transaction (payment's): `doc` written over the order read as `found`,
    conditional on that version, keeping its stack token and dispatch mark."""
    rec = record(doc, found.version)
    rec.token, rec.dispatched = found.token, found.dispatched or None
    return lambda tx: tx.save(rec)


def load(order_id: str) -> Stored | None:
    if len(order_id) > MAX_ID:
        return None
    try:
        rec = OrderRecord.get(order_id, consistent_read=True)
    except DoesNotExist:
        return None
    return Stored(rec.body, rec.version, rec.token, bool(rec.dispatched))


def load_many(order_ids: Iterable[str]) -> dict[str, Stored]:
    """Orders by id (BatchGetItem, consistent)."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {}
    return {r.pk: Stored(r.body, r.version, r.token, bool(r.dispatched))
            for r in OrderRecord.batch_get(ids, consistent_read=True)}


def insert(doc: dict[str, Any], also: Iterable[Model | Callable[[Any], None]] = (), kind: str = domain.RESOURCE) -> int:
    """A new order, with other items (the basket marked ordered, at its version; a stock
    reservation's writes) in one transaction. StaleVersion when the order exists or another item's condition fails."""
    rec = record(doc, None, kind)
    also = list(also)
    with versioned():
        if also:
            with transaction() as tx:
                tx.save(rec, condition=OrderRecord.pk.does_not_exist())
                for other in also:   # an item to put, or a function adding its writes (stock holds)
                    other(tx) if callable(other) else tx.save(other)
        else:
            rec.save(condition=OrderRecord.pk.does_not_exist())
    return rec.version


def replace(doc: dict[str, Any], version: int, kind: str = domain.RESOURCE, token: str | None = None,
            dispatched: bool = False) -> int:
    rec = record(doc, version, kind)
    rec.token, rec.dispatched = token, dispatched or None
    with versioned():
        rec.save()
    return rec.version


def write_children(parent: dict[str, Any], parent_version: int, children: list[dict[str, Any]]) -> None:
    """The parent (listing its children) and the new child orders, all or nothing."""
    with versioned():
        with transaction() as tx:
            tx.save(record(parent, parent_version))
            for child in children:
                tx.save(record(child, None), condition=OrderRecord.pk.does_not_exist())


def write_amendment(parent: dict[str, Any], parent_version: int, changed: list[tuple[dict[str, Any], Stored]],
                    created: list[dict[str, Any]], also: Iterable[Callable[[Any], None]] = ()) -> int:
    """An amendment, all or nothing: the parent and each child order it changes at the versions
    read (their task token and dispatched flag kept), the child orders it creates, and `also`'s
    writes (the appointments it confirms)."""
    parent_rec = record(parent, parent_version)
    with versioned():
        with transaction() as tx:
            tx.save(parent_rec)
            for doc, was in changed:
                rec = record(doc, was.version)
                rec.token, rec.dispatched = was.token, was.dispatched or None
                tx.save(rec)
            for child in created:
                tx.save(record(child, None), condition=OrderRecord.pk.does_not_exist())
            for other in also:
                other(tx)
    return parent_version + 1


def _unread(order_id: str) -> OrderRecord:
    """An order not read first, for an update that must move its version on (ADD 1) without a
    version condition: PynamoDB SETs the version to 1 when the local one is None."""
    return OrderRecord(order_id, version=0)


def set_token(order_id: str, token: str) -> bool:
    """Remember the task token a workflow waits on; True when the order was not yet dispatched.
    The version moves on, so a read-modify-write begun before cannot write the token away."""
    rec = _unread(order_id)
    with versioned():
        rec.update(actions=[OrderRecord.token.set(token)], condition=OrderRecord.pk.exists(),
                   add_version_condition=False)
    return not rec.dispatched


def mark_dispatched(order_id: str) -> None:
    _unread(order_id).update(actions=[OrderRecord.dispatched.set(True)], add_version_condition=False)


def by_owner(customer_id: str) -> list[dict[str, Any]]:
    return [r.body for r in OrderRecord.by_owner.query(f"CUSTOMER#{customer_id}", scan_index_forward=False)]


def in_flight(customer_id: str, limit: int) -> list[dict[str, Any]]:
    """The customer's newest `limit` orders in flight (the sparse open-by-owner index): one Query
    that reads at most `limit` items whatever the number of orders finished before."""
    return [r.body for r in OrderRecord.open_by_owner.query(f"CUSTOMER#{customer_id}", scan_index_forward=False,
                                                             limit=limit, page_size=limit)]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [r.body for r in OrderRecord.by_kind.query(kind)]
