"""Order persistence (PynamoDB): conditional writes on the version, transactions (capture with the
basket, decomposition with the children) and the Queries lists are made of. See models.py."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib import documents, pages
from chalicelib.db import StaleVersion, transaction, versioned  # noqa: F401 (store.StaleVersion)
from chalicelib.ordering import domain
from chalicelib.ordering.models import OrderPage, OrderRecord

MAX_ID = 256


@dataclasses.dataclass
class Stored:
    doc: dict[str, Any]
    version: int
    token: str | None = None
    dispatched: bool = False


PAGES = pages.Pages(OrderPage, "productOrderItem")
Write = Callable[[Any], None]


def record(doc: dict[str, Any], version: int | None, kind: str = domain.RESOURCE) -> OrderRecord:
    """The order's record for a document stored whole (see `_writes` for one of any size)."""
    customer = domain.customer_of(doc)
    owner = f"CUSTOMER#{customer}" if customer else None
    rec = OrderRecord(doc["id"], kind=kind, sort=f"{doc.get('orderDate') or doc.get('creationDate')}#{doc['id']}",
                      owner=owner, parent=domain.parent_of(doc), state=doc.get("state"), body=doc,
                      open_owner=owner if domain.in_flight(doc) else None)
    if version is not None:
        rec.version = version
    return rec


def _writes(doc: dict[str, Any], version: int | None, kind: str = domain.RESOURCE, *, was: Stored | None = None,
            token: str | None = None, dispatched: bool = False) -> tuple[OrderRecord, list[Write]]:
    """The order's record (its items split off when it has more than a page of them) and the
    writes of its pages that changed since it was read as `was` (chalicelib/pages.py). A child
    order is always whole (domain.CHILD_MAX_ITEMS): its stream images carry its items."""
    header: dict[str, Any] = doc
    count: int | None = None
    page_writes: list[Write] = []
    if not domain.parent_of(doc):
        header, count, page_writes = PAGES.stored(doc["id"], doc, (version or 0) + 1, was.doc if was else None)
    rec = record(header, version, kind)
    rec.pages = count
    rec.token, rec.dispatched = (was.token, was.dispatched or None) if was else (token, dispatched or None)
    return rec, page_writes


def order_write(found: Stored, doc: dict[str, Any]) -> Callable[[Any], None]:
    """For another context's transaction (payment's): `doc` written over the order read as `found`,
    conditional on that version, keeping its stack token and dispatch mark."""
    rec, page_writes = _writes(doc, found.version, was=found)

    def write(tx: Any) -> None:
        tx.save(rec)
        for page in page_writes:
            page(tx)

    return write


def _stored(rec: OrderRecord) -> Stored:
    """The order a record holds, its pages read (pages.Moved when a writer moved meanwhile)."""
    return Stored(PAGES.whole(rec.pk, rec.body, rec.pages, rec.version), rec.version, rec.token, bool(rec.dispatched))


def load(order_id: str) -> Stored | None:
    if len(order_id) > MAX_ID:
        return None

    def read() -> Stored | None:
        try:
            return _stored(OrderRecord.get(order_id, consistent_read=True))
        except DoesNotExist:
            return None

    return pages.consistent(read)


def load_many(order_ids: Iterable[str]) -> dict[str, Stored]:
    """Orders by id (BatchGetItem, consistent; a large one's pages with one Query more)."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {}
    out: dict[str, Stored] = {}
    for rec in OrderRecord.batch_get(ids, consistent_read=True):
        try:
            out[rec.pk] = _stored(rec)
        except pages.Moved:   # written since the batch read it: that one read again
            again = load(rec.pk)
            if again is not None:
                out[rec.pk] = again
    return out


def _listed(rec: OrderRecord) -> dict[str, Any]:
    """A listed order whole: a large one's pages are read with its record again (the index's
    copy may be older than the pages)."""
    if not rec.pages:
        return rec.body
    found = load(rec.pk)
    return found.doc if found is not None else rec.body


def _commit(rec: OrderRecord, writes: list[Write], condition: Any = None) -> None:
    """The record alone as one write, or with other writes as one transaction."""
    with versioned():
        if writes:
            with transaction() as tx:
                tx.save(rec, condition=condition)
                for other in writes:
                    other(tx)
        else:
            rec.save(condition=condition)


def insert(doc: dict[str, Any], also: Iterable[Model | Callable[[Any], None]] = (), kind: str = domain.RESOURCE) -> int:
    """A new order, with other items (the basket marked ordered, at its version; a stock
    reservation's writes) in one transaction. StaleVersion when the order exists or another item's condition fails."""
    rec, page_writes = _writes(doc, None, kind)
    others = [other if callable(other) else (lambda tx, o=other: tx.save(o)) for other in also]
    _commit(rec, [*page_writes, *others], condition=OrderRecord.pk.does_not_exist())
    return rec.version


def replace(doc: dict[str, Any], version: int, kind: str = domain.RESOURCE, token: str | None = None,
            dispatched: bool = False, was: Stored | None = None) -> int:
    """`doc` over the order at `version` (read as `was`: its token, dispatch mark and pages kept)."""
    rec, page_writes = _writes(doc, version, kind, was=was, token=token, dispatched=dispatched)
    _commit(rec, page_writes)
    return rec.version


def write_children(parent: Stored, doc: dict[str, Any], children: list[dict[str, Any]]) -> None:
    """The parent (listing its children) and the new child orders, all or nothing."""
    rec, page_writes = _writes(doc, parent.version, was=parent)
    _commit(rec, [*page_writes, *(_new(child) for child in children)])


def _save(rec: OrderRecord) -> Write:
    return lambda tx: tx.save(rec)


def _new(child: dict[str, Any]) -> Write:
    """A new child order (whole: domain.decompose keeps a child within a page) for a transaction."""
    return lambda tx: tx.save(record(child, None), condition=OrderRecord.pk.does_not_exist())


def write_amendment(parent: Stored, doc: dict[str, Any], changed: list[tuple[dict[str, Any], Stored]],
                    created: list[dict[str, Any]], also: Iterable[Callable[[Any], None]] = ()) -> int:
    """An amendment, all or nothing: the parent and each child order it changes at the versions
    read (their task token and dispatched flag kept), the child orders it creates, and `also`'s
    writes (the appointments it confirms)."""
    rec, page_writes = _writes(doc, parent.version, was=parent)
    writes = [*page_writes]
    for child, was in changed:
        child_rec, child_pages = _writes(child, was.version, was=was)
        writes += [_save(child_rec), *child_pages]
    writes += [*(_new(child) for child in created), *also]
    _commit(rec, writes)
    return parent.version + 1


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


def by_owner(customer_id: str, whole: bool = True) -> list[dict[str, Any]]:
    """A customer's orders, newest first (one Query); `whole=False`: a large order without its
    items (`filled` reads them, for the orders a list shows)."""
    recs = OrderRecord.by_owner.query(f"CUSTOMER#{customer_id}", scan_index_forward=False)
    return [_listed(r) if whole else r.body for r in recs]


def in_flight(customer_id: str, limit: int) -> list[dict[str, Any]]:
    """The customer's newest `limit` orders in flight (the sparse open-by-owner index): one Query
    that reads at most `limit` items whatever the number of orders finished before."""
    return [_listed(r) for r in OrderRecord.open_by_owner.query(f"CUSTOMER#{customer_id}", scan_index_forward=False,
                                                             limit=limit, page_size=limit)]


def by_kind(kind: str, whole: bool = True) -> list[dict[str, Any]]:
    """Every order of a kind, oldest first (one Query); `whole=False` as for by_owner."""
    return [_listed(r) if whole else r.body for r in OrderRecord.by_kind.query(kind)]


def page(kind: str, offset: int, limit: int, customer_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Orders offset .. offset+limit of a kind, oldest first, or of one customer (that kind only),
    newest first, and how many there are (documents.paged: at most offset+limit orders read, the
    total a COUNT); a large order without its items (`filled` reads them)."""
    if customer_id is None:
        recs, total = documents.paged(OrderRecord.by_kind, kind, offset, limit)
    elif len(customer_id) > MAX_ID:
        return [], 0
    else:
        recs, total = documents.paged(OrderRecord.by_owner, f"CUSTOMER#{customer_id}", offset, limit,
                                      only=OrderRecord.kind == kind, newest_first=True)
    return [r.body for r in recs], total


def filled(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listed orders with the items of the large ones read (only theirs: a ProductOrder always
    has items, so one without is a header whose items are in pages)."""
    missing = [d["id"] for d in docs if d.get("@type") == domain.TYPE and "productOrderItem" not in d]
    found = load_many(missing) if missing else {}
    return [found[d["id"]].doc if d["id"] in found else d for d in docs]
