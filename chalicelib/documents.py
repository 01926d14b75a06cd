"""A versioned JSON document in a PynamoDB table: the one way a store loads, inserts, replaces and
removes one (issue 19, session 9: six stores had each written it again).

A store declares one `Documents` per sort of item it keeps (a table may hold several: payments,
refunds and orders' payment records), saying what differs between them:
- `kind`: the item's `kind` attribute (by-kind lists; `load` answers None for an item of another
  kind at that key). None: items that have none (a quote's kept versions, a time-slot search).
- `attributes(doc, **extra)`: the attributes beside the document (sort, owner, due/until of a
  sparse index, a TTL...), from the document and what the store's caller passes as `extra`; it may
  return `body` too, to store something other than the document as given (stock keeps its level
  apart), and `shown(record)` turns such a record back into the document.
- `key(id)`: the item's key for a document id (default: the id itself); `id_of(doc)`: the id in a
  document (default: doc["id"]).

Every write is conditional on the version read (PynamoDB's VersionAttribute) or, for an insert,
on the key being free; a refused one is db.StaleVersion (or, for `insert`, None), and conflicts
and throttling are answered by db.versioned() as everywhere. Each model names its hash key `pk`
and its version `version`; by-kind and by-owner are db.ByKind and db.ByOwner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib import db
from chalicelib.customer.keys import customer_pk

MAX_ID = 256   # a longer id names nothing: answered None (404) without reading

M = TypeVar("M", bound=Model)
Write = Callable[[Any], None]   # one write for a transaction (`with db.transaction() as tx: write(tx)`)


def _no_attributes(_doc: dict[str, Any]) -> dict[str, Any]:
    return {}


def _same(key: str) -> str:
    return key


def _id(doc: dict[str, Any]) -> str:
    return str(doc["id"])


def _body(rec: Any) -> dict[str, Any]:
    return rec.body


@dataclass(frozen=True)
class Documents(Generic[M]):
    """Documents of one kind in the table of `model` (see the module's docstring)."""
    model: type[M]
    kind: str | None
    attributes: Callable[..., dict[str, Any]] = _no_attributes
    key: Callable[[str], str] = _same
    id_of: Callable[[dict[str, Any]], str] = _id
    shown: Callable[[Any], dict[str, Any]] = _body

    def record(self, doc: dict[str, Any], version: int | None = None, **extra: Any) -> M:
        """The item for `doc` (to be written at `version`; None: a new one)."""
        rec: Any = self.model(self.key(self.id_of(doc)), **{"kind": self.kind, "body": doc,
                                                             **self.attributes(doc, **extra)})
        if version is not None:
            rec.version = version
        return rec

    def get(self, rid: str) -> M | None:
        """The item of this kind for id `rid` (a consistent read), or None."""
        if not rid or len(rid) > MAX_ID:
            return None
        try:
            rec = self.model.get(self.key(rid), consistent_read=True)
        except DoesNotExist:
            return None
        return rec if getattr(rec, "kind", None) == self.kind else None

    def load(self, rid: str) -> tuple[dict[str, Any], int] | None:
        """(the document, its version), or None when there is none of this kind."""
        rec: Any = self.get(rid)
        return None if rec is None else (self.shown(rec), int(rec.version))

    def put(self, doc: dict[str, Any], version: int | None = None, *, condition: Condition | None = None,
            **extra: Any) -> Write:
        """`doc` as a write for a transaction: at `version` (and `condition`, if given), or, with
        no version, only if its key is free. A refused one cancels the whole transaction."""
        def write(tx: Any) -> None:
            rec = self.record(doc, version, **extra)
            if version is None:
                free = self._pk.does_not_exist()
                tx.save(rec, condition=free if condition is None else free & condition)
            else:
                tx.save(rec, condition=condition)

        return write

    def insert(self, doc: dict[str, Any], **extra: Any) -> int | None:
        """Write a new document: its version (1), or None when one with its key exists (a
        replayed request: the caller takes it as done, or answers 409)."""
        rec: Any = self.record(doc, None, **extra)
        return int(rec.version) if db.written(lambda: rec.save(condition=self._pk.does_not_exist())) else None

    def replace(self, doc: dict[str, Any], version: int, *, also: Iterable[Write] = (), **extra: Any) -> int:
        """Replace the document stored at `version` (StaleVersion when it changed meanwhile) and
        give its new version; with `also`, those writes in the same transaction (all or none)."""
        rec = self.record(doc, version, **extra)
        writes = list(also)
        with db.versioned():
            if not writes:
                rec.save()
            else:
                with db.transaction() as tx:
                    tx.save(rec)
                    for write in writes:
                        write(tx)
        return version + 1

    def remove(self, rid: str, version: int) -> None:
        """Delete the document stored at `version` (StaleVersion when it changed or is gone)."""
        rec: Any = self.model(self.key(rid))
        rec.version = version
        with db.versioned():
            rec.delete()

    def every(self) -> list[dict[str, Any]]:
        """Every document of this kind, in by-kind order (one Query, all pages)."""
        return [self.shown(rec) for rec in self._index("by_kind").query(self.kind)]

    def of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """One customer's documents of this kind, in by-owner order (one Query, all pages; the
        kind is its filter, so DynamoDB returns only those)."""
        if len(customer_id) > MAX_ID:
            return []
        return [self.shown(rec) for rec in self._index("by_owner").query(customer_pk(customer_id),
                                                                        filter_condition=self._of_kind)]

    @property
    def _of_kind(self) -> Condition:
        """Items of this kind (kind None: items with no kind)."""
        model: Any = self.model
        return model.kind.does_not_exist() if self.kind is None else model.kind == self.kind

    @property
    def _pk(self) -> Any:
        model: Any = self.model
        return model.pk

    def _index(self, name: str) -> Any:
        return getattr(self.model, name)
