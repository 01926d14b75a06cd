"""Catalogue persistence (PynamoDB) and the per-container read cache.

The cache is trusted for OMNISHOP_CATALOG_CACHE_SECONDS; after that the next read checks the
catalogue stamp (one GetItem), which the catalogue's stream consumer moves on every change, and
drops everything if it moved. A write in this container drops the cache at once.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
import time
from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import documents, settings, tmf
from chalicelib.db import StaleVersion, versioned
from chalicelib.catalog.models import CatalogRecord, CatalogStamp

STAMP_KEY = "META#stamp"
SKIP_PAGE = 5000     # keys read per call while skipping to an offset
SCAN_PAGE = 200      # records read per call when a list must look at every record (filters)


def pk(kind: str, rid: str) -> str:
    return f"{kind}#{rid}"


def split_pk(value: str) -> tuple[str, str]:
    kind, _, rid = value.partition("#")
    return kind, rid


def _sort(doc: dict[str, Any]) -> str:
    return f"{str(doc.get('name') or '').lower()[:200]}#{doc['id']}"


# --- raw access -------------------------------------------------------------------------------
def load(kind: str, rid: str) -> tuple[dict[str, Any], int] | None:
    try:
        rec = CatalogRecord.get(pk(kind, rid), consistent_read=True)
    except DoesNotExist:
        return None
    return rec.body, rec.version


@contextmanager
def _writing() -> Iterator[None]:
    """A versioned write (StaleVersion when refused) that drops this container's cache either way."""
    try:
        with versioned():
            yield
    finally:
        cache.clear()


def insert(kind: str, doc: dict[str, Any]) -> int:
    """Write a new record; StaleVersion if one with this id exists."""
    rec = CatalogRecord(pk(kind, doc["id"]), kind=kind, sort=_sort(doc), body=doc)
    with _writing():
        rec.save(condition=CatalogRecord.pk.does_not_exist())
    return rec.version


def replace(kind: str, doc: dict[str, Any], version: int) -> int:
    """Write `doc` if the stored version is still `version`; StaleVersion otherwise."""
    rec = CatalogRecord(pk(kind, doc["id"]), kind=kind, sort=_sort(doc), body=doc, version=version)
    with _writing():
        rec.save()
    return rec.version


def upsert(kind: str, doc: dict[str, Any]) -> None:
    """Unconditional write (imports: the partner's export is the truth for its records)."""
    existing = load(kind, doc["id"])
    if existing is None:
        try:
            insert(kind, doc)
            return
        except StaleVersion:
            existing = load(kind, doc["id"])
    replace(kind, doc, existing[1])  # type: ignore[index]


def remove(kind: str, rid: str, version: int) -> None:
    rec = CatalogRecord(pk(kind, rid), version=version)
    with _writing():
        rec.delete()


def query_kind(kind: str) -> list[dict[str, Any]]:
    return [rec.body for rec in CatalogRecord.by_kind.query(kind)]


def count_kind(kind: str) -> int:
    """How many records of a kind, counted up to the list window and one more (issue 16): COUNT
    Queries on the keys-only index (no document is read or returned; a call per about 10,000 keys)
    that stop there, so a kind with more than the window answers window+1."""
    return documents.counted(CatalogRecord.by_kind_keys, kind, settings.list_window() + 1)


def page_kind(kind: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Records offset .. offset+limit of a kind in name order and how many there are
    (tmf.windowed: tmf.MoreThan past the list window, whose offsets are then refused): the count
    first (`count_kind`); then the keys-only index skips the first `offset` (keys alone) and one
    Query with Limit reads the page from that ExclusiveStartKey."""
    total = tmf.windowed(offset, count_kind(kind))
    start = None
    if offset:
        skipped = CatalogRecord.by_kind_keys.query(kind, limit=offset, page_size=min(offset, SKIP_PAGE))
        if sum(1 for _ in skipped) < offset or skipped.last_evaluated_key is None:
            return [], total   # the kind ends at or before the offset
        start = skipped.last_evaluated_key
    return [rec.body for rec in CatalogRecord.by_kind.query(kind, limit=limit, page_size=limit,
                                                            last_evaluated_key=start)], total


def iter_kind(kind: str, name: str | None = None) -> Iterator[dict[str, Any]]:
    """Every record of a kind (with `name`: only that name's key range), a page at a time."""
    condition = CatalogRecord.sort.startswith(f"{name.lower()[:200]}#") if name is not None else None
    for rec in CatalogRecord.by_kind.query(kind, condition, page_size=SCAN_PAGE):
        yield rec.body


def read_stamp() -> str | None:
    try:
        return CatalogStamp.get(STAMP_KEY).body.get("stamp")
    except DoesNotExist:
        return None


def move_stamp(stamp: str) -> None:
    CatalogStamp(STAMP_KEY, body={"stamp": stamp}).save()


# --- cache ------------------------------------------------------------------------------------
class Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], tuple[dict[str, Any], int] | None] = {}
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._stamp: str | None = None
        self._checked = 0.0

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._lists.clear()
            self._checked = 0.0

    def _revalidate(self) -> None:
        if time.monotonic() - self._checked < settings.catalog_cache_seconds():
            return
        stamp = read_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._items.clear()
                self._lists.clear()
                self._stamp = stamp
            self._checked = time.monotonic()

    def get(self, kind: str, rid: str) -> tuple[dict[str, Any], int] | None:
        self._revalidate()
        key = (kind, rid)
        with self._lock:
            if key in self._items:
                return self._items[key]
        found = load(kind, rid)
        with self._lock:
            self._items[key] = found
        return found

    def all(self, kind: str) -> list[dict[str, Any]]:
        self._revalidate()
        with self._lock:
            if kind in self._lists:
                return self._lists[kind]
        docs = query_kind(kind)
        with self._lock:
            self._lists[kind] = docs
        return docs


cache = Cache()
