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
- `pages`: a long list of the document kept in pages of its own (chalicelib/pages.py; the model
  then has a `pages` attribute); a write names the document as read (`before`) so that only the
  pages that changed are written.

Every write is conditional on the version read (PynamoDB's VersionAttribute) or, for an insert,
on the key being free; a refused one is db.StaleVersion (or, for `insert`, None), and conflicts
and throttling are answered by db.versioned() as everywhere. Each model names its hash key `pk`
and its version `version`; by-kind and by-owner are db.ByKind and db.ByOwner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from pynamodb.constants import COUNT, LAST_EVALUATED_KEY
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib import db, settings, tmf
from chalicelib.customer.keys import customer_pk
from chalicelib.pages import Pages, consistent

MAX_ID = 256   # a longer id names nothing: answered None (404) without reading
PAGE_READ = 1000   # items asked per Query call while reading a list's first offset+limit

M = TypeVar("M", bound=Model)
Write = Callable[[Any], None]   # one write for a transaction (`with db.transaction() as tx: write(tx)`)


def paged(source: Any, hash_key: str, offset: int, limit: int, *, condition: Condition | None = None,
          only: Condition | None = None, newest_first: bool = False,
          consistent: bool = False) -> tuple[list[Any], int]:
    """Records offset .. offset+limit of one Query (`source`: a model or one of its indexes, at
    `hash_key`, narrowed by a key `condition`, in sort order or `newest_first`) and how many it has
    in all: the one way a list pages in DynamoDB rather than in Python (issue 16). Both reads are
    bounded by the list window W (settings.list_window()):
    - The total: a COUNT Query (Select=COUNT, `counted`) that stops after W+1 items. DynamoDB
      answers a number and returns no item, but reads each item it counts (the indexes lists use
      project whole items, so a count costs what reading them costs). At most W items: the total,
      exact. More: tmf.MoreThan(W), the total not known (no X-Total-Count; http.listing).
    - The page: nothing when `offset` is past a known total; an offset at or past W on a list of
      more than W is a 400 (tmf.windowed); else one Query with Limit offset+limit (then
      ExclusiveStartKey, a call per PAGE_READ items or 1 MB) that reads the first offset+limit
      items and drops the first `offset`. No keys-only projection exists on these indexes to skip
      the offset over keys alone, so the skipped items are read whole. So a request reads at most
      W+1 items to count and W+limit to page.
    With `only` (a FilterExpression), Limit counts the items looked at: the COUNT goes on until
    W+1 matched, and the page until offset+limit matched, each also reading the items the filter
    drops (a customer's items of other kinds under her key), and each further call asks for as
    many again (PynamoDB's page size), so a filter that drops few costs about one call more."""
    return paged_keys(source, [hash_key], offset, limit, condition=condition, only=only, newest_first=newest_first,
                      consistent=consistent)


def paged_keys(source: Any, hash_keys: list[str], offset: int, limit: int, *, condition: Condition | None = None,
               only: Condition | None = None, newest_first: bool = False,
               consistent: bool = False) -> tuple[list[Any], int]:
    """`paged` for a list made of several keys' items one after another (a worklist per status, a
    channel's baskets per day). The keys are counted one after another, each up to what the window
    leaves (W+1 less the keys before it): once that runs out, the key it ran out in has at least
    that many and the keys after it are not counted (the total is tmf.MoreThan). The page is read
    from the key the offset falls in (a key wholly before it, counted exactly, is not read), then
    from the next ones while the page is not full; a key whose count ran out, or that was not
    counted, is read rather than skipped (what it holds past the count is not known)."""
    left = settings.list_window() + 1
    counts: list[int | None] = []   # per key: its count; None: at least what was left (or not counted)
    for key in hash_keys:
        found = counted(source, key, left, condition=condition, only=only, consistent=consistent) if left else 0
        counts.append(found if found < left else None)
        left -= found
    total = tmf.windowed(offset, settings.list_window() + 1 - left)
    out: list[Any] = []
    for key, count in zip(hash_keys, counts):
        if count is not None and offset >= count:
            offset -= count
            continue
        wanted = offset + limit - len(out)
        recs = list(source.query(key, condition, only, consistent_read=consistent, scan_index_forward=not newest_first,
                                 limit=wanted, page_size=min(wanted, PAGE_READ)))
        out += recs[offset:]
        offset = max(0, offset - len(recs))
        if len(out) >= limit:
            break
    return out, total


def counted(source: Any, hash_key: str, cap: int, *, condition: Condition | None = None,
            only: Condition | None = None, consistent: bool = False) -> int:
    """How many items `source` (a model or one of its indexes) holds under `hash_key` (narrowed by
    `condition` and `only`), counted up to `cap`: Select=COUNT Queries with Limit cap less those
    counted so far, while DynamoDB says there are more (LastEvaluatedKey; a call stops at 1 MB).
    Not PynamoDB's count(limit=): that sends Limit as each call's page size but goes on to the
    last page, reading every item under the key (pynamodb 6.1 ResultIterator: a COUNT page yields
    no item, so its limit never runs down)."""
    model: Any = source if isinstance(source, type) else source._model
    index = None if isinstance(source, type) else source.Meta.index_name
    found, start = 0, None
    while found < cap:
        page = model._get_connection().query(hash_key, range_key_condition=condition, filter_condition=only,
                                             index_name=index, consistent_read=consistent, limit=cap - found,
                                             select=COUNT, exclusive_start_key=start)
        found += int(page["Count"])
        start = page.get(LAST_EVALUATED_KEY)
        if start is None:
            break
    return found


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
    pages: Pages | None = None

    def record(self, doc: dict[str, Any], version: int | None = None, **extra: Any) -> M:
        """The item for `doc` (to be written at `version`; None: a new one), stored whole."""
        rec: Any = self.model(self.key(self.id_of(doc)), **{"kind": self.kind, "body": doc,
                                                             **self.attributes(doc, **extra)})
        if version is not None:
            rec.version = version
        return rec

    def _records(self, doc: dict[str, Any], version: int | None, before: dict[str, Any] | None,
                 **extra: Any) -> tuple[Any, list[Write]]:
        """The item for `doc` and the writes of its pages that changed since `before` (with no
        `pages`: the item alone)."""
        if self.pages is None:
            return self.record(doc, version, **extra), []
        key = self.key(self.id_of(doc))
        header, count, writes = self.pages.stored(key, doc, (version or 0) + 1, before)
        rec: Any = self.model(key, **{"kind": self.kind, "body": header, "pages": count,
                                      **self.attributes(doc, **extra)})
        if version is not None:
            rec.version = version
        return rec, writes

    def _whole(self, rec: Any) -> dict[str, Any]:
        """The document of a record read, its pages read too (pages.Moved: read again)."""
        if self.pages is None:
            return self.shown(rec)
        return self.pages.whole(rec.pk, self.shown(rec), rec.pages, rec.version)

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
        def read() -> tuple[dict[str, Any], int] | None:
            rec: Any = self.get(rid)
            return None if rec is None else (self._whole(rec), int(rec.version))

        return consistent(read)

    def put(self, doc: dict[str, Any], version: int | None = None, *, condition: Condition | None = None,
            before: dict[str, Any] | None = None, **extra: Any) -> Write:
        """`doc` as a write for a transaction: at `version` (and `condition`, if given), or, with
        no version, only if its key is free. A refused one cancels the whole transaction."""
        def write(tx: Any) -> None:
            rec, pages = self._records(doc, version, before, **extra)
            if version is None:
                free = self._pk.does_not_exist()
                tx.save(rec, condition=free if condition is None else free & condition)
            else:
                tx.save(rec, condition=condition)
            for page in pages:
                page(tx)

        return write

    def insert(self, doc: dict[str, Any], **extra: Any) -> int | None:
        """Write a new document: its version (1), or None when one with its key exists (a
        replayed request: the caller takes it as done, or answers 409)."""
        rec, pages = self._records(doc, None, None, **extra)
        if not pages:
            return int(rec.version) if db.written(lambda: rec.save(condition=self._pk.does_not_exist())) else None

        def write() -> None:
            with db.transaction() as tx:
                tx.save(rec, condition=self._pk.does_not_exist())
                for page in pages:
                    page(tx)

        return 1 if db.written(write) else None

    def replace(self, doc: dict[str, Any], version: int, *, also: Iterable[Write] = (),
                before: dict[str, Any] | None = None, **extra: Any) -> int:
        """Replace the document stored at `version` (StaleVersion when it changed meanwhile) and
        give its new version; with `also`, those writes in the same transaction (all or none).
        `before`: the document as read at `version` (a paged one's unchanged pages are not written)."""
        rec, pages = self._records(doc, version, before, **extra)
        writes = [*pages, *also]
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

    def every(self, whole: bool = True) -> list[dict[str, Any]]:
        """Every document of this kind, in by-kind order (one Query, all pages). `whole=False`:
        a paged document without its long list (`filled` reads it, for those a list shows)."""
        return [self.listed(rec) if whole else self.shown(rec) for rec in self._index("by_kind").query(self.kind)]

    def of_customer(self, customer_id: str, whole: bool = True) -> list[dict[str, Any]]:
        """One customer's documents of this kind, in by-owner order (one Query, all pages; the
        kind is its filter, so DynamoDB returns only those). `whole` as for `every`."""
        if len(customer_id) > MAX_ID:
            return []
        return [self.listed(rec) if whole else self.shown(rec)
                for rec in self._index("by_owner").query(customer_pk(customer_id), filter_condition=self._of_kind)]

    def page(self, offset: int, limit: int, customer_id: str | None = None,
             whole: bool = True) -> tuple[list[dict[str, Any]], int]:
        """Documents offset .. offset+limit of `every` (or, for `customer_id`, of `of_customer`) and
        how many there are in all, read by `paged` (at most offset+limit items; the total a COUNT
        up to the list window, tmf.MoreThan past it).
        `whole` as for `every`."""
        if customer_id is None:
            recs, total = paged(self._index("by_kind"), str(self.kind), offset, limit)
        elif len(customer_id) > MAX_ID:
            return [], 0
        else:
            recs, total = paged(self._index("by_owner"), customer_pk(customer_id), offset, limit, only=self._of_kind)
        return [self.listed(rec) if whole else self.shown(rec) for rec in recs], total

    def listed(self, rec: Any) -> dict[str, Any]:
        """A listed document whole: a paged one is read again with its pages (the index's copy
        may be older than they are)."""
        if not getattr(rec, "pages", None):
            return self.shown(rec)
        found = self.load(self.id_of(self.shown(rec)))
        return found[0] if found is not None else self.shown(rec)

    def filled(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Listed documents (`whole=False`) with the long list of the paged ones read (a document
        of this kind always has one: one without is a header whose list is in pages)."""
        if self.pages is None:
            return docs
        field = self.pages.field
        return [doc if field in doc else (self.load(self.id_of(doc)) or (doc, 0))[0] for doc in docs]

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
