"""Basket persistence (PynamoDB): a header per basket, versioned, and a record per line; a change
writes its lines and the header at its version in one transaction. See models.py for the keys."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from pynamodb.exceptions import DoesNotExist

from chalicelib import db, documents
from chalicelib.basket import domain
from chalicelib.basket.models import BasketLine, BasketRecord
from chalicelib.db import StaleVersion, versioned  # noqa: F401 (store.StaleVersion)

# DynamoDB takes at most 100 actions in a transaction: the header and 99 lines.
MAX_LINES_PER_WRITE = 99


@dataclasses.dataclass
class Stored:
    """A basket as read: `doc` its document (the header's; with `cartItem` when read whole),
    `version`, the customer `facts` kept with it, and its `composition` (chalicelib/basket/lines.py)."""
    doc: dict[str, Any]
    version: int
    facts: dict[str, Any] | None
    composition: dict[str, Any] | None = None
    legacy: list[dict[str, Any]] | None = None   # the items of a basket stored before lines were records


def load_header(basket_id: str) -> Stored | None:
    """The basket's header (no lines), read consistently: one GetItem whatever its size. A basket
    stored whole, before its lines were records of their own (a local state or a stack from
    before session 10), comes with its items in `legacy`: its next change writes them as lines."""
    try:
        rec = BasketRecord.get(basket_id, consistent_read=True)
    except DoesNotExist:
        return None
    return stored(rec.body, rec.version, rec.facts, rec.composition)


def stored(body: dict[str, Any], version: int, facts: dict[str, Any] | None,
           composition: dict[str, Any] | None) -> Stored:
    """A header as read (from the table or a stream image): a basket stored whole (items in its
    body, no composition) comes with them in `legacy`."""
    if composition is None and "cartItem" in body:
        return Stored({k: v for k, v in body.items() if k != "cartItem"}, version, facts, None,
                      list(body.get("cartItem") or []))
    return Stored(body, version, facts, composition)


def placed_lines(basket_id: str, limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The basket's lines with their places (all of them, or any `limit` of them), read
    consistently (one Query), in the order they were added."""
    found = BasketLine.query(basket_id, consistent_read=True, limit=limit,
                             page_size=min(limit, 1000) if limit else None)
    return [(int(r.n or 0), r.body) for r in sorted(found, key=lambda r: (r.n or 0, r.line))]


def lines(basket_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The basket's lines, as placed_lines, without their places."""
    return [line for _, line in placed_lines(basket_id, limit)]


def lines_named(basket_id: str, ids: Iterable[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """Those of the lines `ids` the basket has, by id, with their places: one BatchGetItem per 100,
    consistent."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r.line: (int(r.n or 0), r.body)
            for r in BasketLine.batch_get([(basket_id, i) for i in wanted], consistent_read=True)}


def record(doc: dict[str, Any], version: int | None, facts: dict[str, Any] | None, expires: int,
           composition: Mapping[str, Any] | None, legacy: list[dict[str, Any]] | None = None) -> BasketRecord:
    """The header a write stores (conditional on `version`); ordering saves it in its transaction.
    `legacy`: a basket stored whole stays so (its items in its body, no composition)."""
    doc = {k: v for k, v in doc.items() if k != "cartItem"}
    if legacy is not None:
        doc, composition = {**doc, "cartItem": legacy}, None
    owner = domain.owner_key(doc)
    rec = BasketRecord(doc["id"], owner=owner, listed=domain.list_key(doc),
                       sort=f"{doc['lastUpdate']}#{doc['id']}", status=doc.get("status"), body=doc, facts=facts,
                       composition=dict(composition) if composition is not None else None,
                       expires=expires, open_owner=owner if domain.customer_of(doc) and
                       doc.get("status") in domain.OPEN else None)
    if version is not None:
        rec.version = version
    return rec


def write(doc: dict[str, Any], version: int | None, facts: dict[str, Any] | None, expires: int,
          composition: Mapping[str, Any] | None, puts: Iterable[tuple[int, Mapping[str, Any]]] = (),
          deletes: Iterable[str] = ()) -> int:
    """Insert (version None) or replace the header stored at `version`, with the lines `puts`
    ((place, line)) written and `deletes` deleted in the same transaction; StaleVersion when the
    header moved. The new version is stamped on the lines written."""
    rec = record(doc, version, facts, expires, composition)
    puts, deletes = list(puts), sorted(set(deletes))
    if len(puts) + len(deletes) > MAX_LINES_PER_WRITE:
        raise AssertionError("the service checks the lines of a change before writing them")
    with versioned():
        if not puts and not deletes:
            rec.save()
            return rec.version
        new_version = (version or 0) + 1
        with db.transaction() as tx:
            tx.save(rec)   # PynamoDB's version condition, as rec.save() checks it
            for n, line in puts:
                tx.save(BasketLine(doc["id"], line["id"], body=dict(line), v=new_version, n=n))
            for line_id in deletes:
                tx.delete(BasketLine(doc["id"], line_id))
    return rec.version


def remove(basket_id: str, version: int) -> None:
    """Delete the header at `version`; its lines are deleted after it (delete_lines, by the stream)."""
    rec = BasketRecord(basket_id, version=version)
    with versioned():
        rec.delete()


def delete_lines(basket_id: str) -> int:
    """Delete every line of a basket whose header is gone (safe to repeat): BatchWriteItem."""
    gone = [BasketLine(basket_id, r.line) for r in BasketLine.query(basket_id, attributes_to_get=["pk", "line"])]
    with BasketLine.batch_write() as batch:
        for rec in gone:
            batch.delete(rec)
    return len(gone)


def by_owner(owner: str, limit: int | None = None) -> list[dict[str, Any]]:
    """An owner's baskets (headers), newest change first."""
    return [r.body for r in BasketRecord.by_owner.query(owner, scan_index_forward=False, limit=limit)]


def headers_by_owner(owner: str) -> list[Stored]:
    """by_owner's baskets as stored headers, with their facts and composition (the index projects
    the whole item): what a list needs to show them whole with no GetItem each."""
    return [stored(r.body, r.version, r.facts, r.composition)
            for r in BasketRecord.by_owner.query(owner, scan_index_forward=False)]


def headers_by_list(listed: str) -> list[Stored]:
    """by_list's baskets as stored headers (see headers_by_owner)."""
    return [stored(r.body, r.version, r.facts, r.composition)
            for r in BasketRecord.by_list.query(listed, scan_index_forward=False)]


def page_headers(keys: list[str], offset: int, limit: int, *, by_list: bool = False) -> tuple[list[Stored], int]:
    """Headers offset .. offset+limit of `headers_by_owner` (or, `by_list`, `headers_by_list`) of
    `keys` one after another, and how many there are (documents.paged_keys: at most offset+limit
    read, the total a COUNT per key)."""
    recs, total = documents.paged_keys(BasketRecord.by_list if by_list else BasketRecord.by_owner, keys, offset, limit,
                                       newest_first=True)
    return [stored(r.body, r.version, r.facts, r.composition) for r in recs], total


def open_of(owner: str, limit: int | None = None) -> list[dict[str, Any]]:
    """A customer's (newest `limit`) open baskets (headers), from the sparse open-by-owner index:
    with a limit, one Query of at most `limit` items whatever the number of baskets closed before."""
    return [r.body for r in BasketRecord.open_by_owner.query(owner, scan_index_forward=False, limit=limit,
                                                              page_size=limit)]


def by_list(listed: str, before: str | None = None) -> list[dict[str, Any]]:
    """A list's baskets (headers), newest change first; `before`: only those last changed before
    then (ISO)."""
    condition = BasketRecord.sort < before if before else None
    return [r.body for r in BasketRecord.by_list.query(listed, condition, scan_index_forward=False)]
