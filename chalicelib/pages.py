"""A document's long list kept in pages of its own (issue 13 part 4: an order or a quote of 1,000
business lines is more than one DynamoDB item may hold, 400 KB).

A document whose list (`field`: an order's productOrderItem, a quote's quoteItem) holds more
than `per_page` entries is stored as a header, the document without that list, and pages of
`per_page` entries each in a table of its own (`pk` the document's key, `n` the page's number):

- The header says which version of itself wrote each page (`versions`, kept on the header's
  record). A write moves the header's version and puts, in the same transaction, only the pages
  whose entries changed, each marked with the header's new version, and deletes pages beyond the
  new count. So a change to one item of a 1,000-item order writes the header and one page, and
  the header's condition (its version) guards the pages too.
- A read is the header and one Query of its pages. A page newer than the header names means a
  writer moved between the two reads: the reader reads again (`Moved`), so a reader never sees
  one version's header with another's items.
- A document of `per_page` entries or fewer is stored whole, as before: small documents cost
  exactly what they did, and their stream images carry the whole document.

Pages are plain writes inside the header's transaction: at most `MAX_PAGES` of them, so a
header, its pages and what goes with them stay within DynamoDB's 100 actions and 4 MB.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from pynamodb.models import Model

from chalicelib import db
from chalicelib.errors import Unavailable, Unprocessable

Write = Callable[[Any], None]
T = TypeVar("T")
PER_PAGE = 100
MAX_PAGES = 20
READ_ATTEMPTS = 5


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
    raise Unavailable("the document changed on every read; retry", "busy", headers={"Retry-After": "1"})


def _text(entries: Sequence[Any]) -> str:
    return json.dumps(entries, separators=(",", ":"), sort_keys=True, allow_nan=False)


def _put(rec: Model) -> Write:
    return lambda tx: tx.save(rec)


def _delete(rec: Model) -> Write:
    return lambda tx: tx.delete(rec)


@dataclass(frozen=True)
class Kept:
    """How a stored document's pages were read: each page's version and text (what a write
    compares against to write only what changed)."""
    versions: tuple[int, ...] = ()
    texts: tuple[str, ...] = ()


NONE = Kept()


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

    def writes(self, key: str, pages: list[list[Any]] | None, kept: Kept, version: int) -> tuple[list[Write], list[int] | None]:
        """(the writes for the header's transaction, the page versions the header records) for
        storing `pages` over the pages read as `kept`, the header being written as `version`
        (its version after the write)."""
        cls: Any = self.model
        out: list[Write] = []
        versions: list[int] = []
        for n, entries in enumerate(pages or []):
            text = _text(entries)
            if n < len(kept.texts) and kept.texts[n] == text:
                versions.append(kept.versions[n])
                continue
            versions.append(version)
            out.append(_put(cls(key, n, items=entries, v=version)))
        for n in range(len(pages or []), len(kept.texts)):   # fewer pages than before: the rest go
            out.append(_delete(cls(key, n)))
        return out, (versions if pages is not None else None)

    def read(self, key: str, versions: Sequence[int]) -> tuple[list[Any], Kept]:
        """The entries of a header that records `versions` (one consistent Query), and how they
        were read. Moved when a page is not the one the header names."""
        cls: Any = self.model
        found = {int(r.n): r for r in cls.query(key, consistent_read=True)}
        entries: list[Any] = []
        texts: list[str] = []
        for n, v in enumerate(versions):
            rec = found.get(n)
            if rec is None or int(rec.v) != int(v):
                raise Moved()
            entries.extend(rec.items)
            texts.append(_text(rec.items))
        return entries, Kept(tuple(int(v) for v in versions), tuple(texts))

    def delete_all(self, key: str) -> int:
        """Delete every page stored under `key` (after its header is gone; safe to repeat)."""
        cls: Any = self.model
        recs = list(cls.query(key))
        with cls.batch_write() as batch:
            for rec in recs:
                batch.delete(rec)
        return len(recs)
