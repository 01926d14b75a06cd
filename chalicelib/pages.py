"""A document's long list kept in pages of its own (issue 13 part 4: an order or a quote of 1,000
business lines is more than one DynamoDB item may hold, 400 KB).

A document whose list (`field`: an order's productOrderItem, a quote's quoteItem) holds more
than `per_page` entries is stored as a header, the document without that list, and pages of
`per_page` entries each in a table of its own (`pk` the document's key, `n` the page's number):

- The header records how many pages it has (`pages`). A write moves the header's version and
  puts, in the same transaction, only the pages whose entries changed since the document was
  read, each marked with the header's new version (`v`), and deletes pages beyond the new count.
  So a change to one item of a 1,000-item order writes the header and one page, and the
  header's condition (its version) guards the pages too.
- A read is the header and one Query of its pages. Every page was written at or before the
  header's version; a newer page (or a missing one) means a writer moved between the two reads:
  the reader reads again (`Moved`), so a reader never sees one version's header with another's
  items.
- A document of `per_page` entries or fewer is stored whole, as before: small documents cost
  exactly what they did, and their stream images carry the whole document.

Pages are plain writes inside the header's transaction: at most `MAX_PAGES` of them, so a
header, its pages and what goes with them stay within DynamoDB's 100 actions and 4 MB.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import db
from chalicelib.errors import Unprocessable

Write = Callable[[Any], None]
T = TypeVar("T")
PER_PAGE = 100
MAX_PAGES = 20
READ_ATTEMPTS = 5


class PageRecord(Model):
    """A page of a document's long list: each table of pages is a subclass naming its Meta
    (`Meta = db.meta("order-page")`)."""
    pk = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(range_key=True)
    items = db.JsonBody()
    v = NumberAttribute()   # the header's version that wrote it


class Moved(Exception):
    """A page is newer than the header read before it: read both again."""


def consistent(read: Callable[[], T]) -> T:
    """`read` (a header and its pages) again while writers move between its two reads; 503 when
    they outpace it READ_ATTEMPTS times (nothing is wrong: retry)."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return read()
        except Moved:
            db.back_off(attempt)
    raise db.Outpaced("the document changed on every read; retry", "busy", headers={"Retry-After": "1"})


def _text(entries: Sequence[Any]) -> str:
    return json.dumps(entries, separators=(",", ":"), sort_keys=True, allow_nan=False)


def _put(rec: Model) -> Write:
    return lambda tx: tx.save(rec)


def _delete(rec: Model) -> Write:
    return lambda tx: tx.delete(rec)


@dataclass(frozen=True)
class Pages:
    """The pages of documents of one table (`model`: pk hash, n range, items, v)."""
    model: type[Model]
    field: str
    per_page: int = PER_PAGE

    def split(self, doc: dict[str, Any]) -> tuple[dict[str, Any], list[list[Any]] | None]:
        """(what the header stores, the pages) for `doc`; pages None: the document is stored whole."""
        entries = doc.get(self.field)
        if not isinstance(entries, list) or len(entries) <= self.per_page:
            return doc, None
        pages = [entries[i:i + self.per_page] for i in range(0, len(entries), self.per_page)]
        if len(pages) > MAX_PAGES:
            raise Unprocessable(f"{self.field} holds {len(entries)} entries; one document holds at most "
                                f"{MAX_PAGES * self.per_page}; nothing was written", "tooManyItems")
        return {k: v for k, v in doc.items() if k != self.field}, pages

    def stored(self, key: str, doc: dict[str, Any], version: int,
               before: dict[str, Any] | None = None) -> tuple[dict[str, Any], int | None, list[Write]]:
        """Storing `doc` under `key` as the header's `version` (its version once written), over
        `before` (the document as read; None: a new one): (what the header stores, its page
        count or None when whole, the page writes for the header's transaction)."""
        header, pages = self.split(doc)
        old = self.split(before)[1] or [] if before is not None else []
        cls: Any = self.model
        writes = [_put(cls(key, n, items=entries, v=version)) for n, entries in enumerate(pages or [])
                  if n >= len(old) or _text(old[n]) != _text(entries)]
        writes += [_delete(cls(key, n)) for n in range(len(pages or []), len(old))]   # fewer pages: the rest go
        return header, (len(pages) if pages is not None else None), writes

    def whole(self, key: str, header: dict[str, Any], count: Any, version: Any) -> dict[str, Any]:
        """The document of a header with `count` pages at `version` (one consistent Query; None
        count: stored whole). Moved when a page is newer than the header or missing."""
        if not count:
            return header
        cls: Any = self.model
        found = {int(r.n): r for r in cls.query(key, consistent_read=True)}
        entries: list[Any] = []
        for n in range(int(count)):
            rec = found.get(n)
            if rec is None or int(rec.v) > int(version):
                raise Moved()
            entries.extend(rec.items)
        return {**header, self.field: entries}
