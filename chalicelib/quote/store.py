"""Quote persistence (PynamoDB): one item per quote, written on its version (optimistic
concurrency); a new quote version keeps the one sent before as its own item, in the same
transaction. A quote of more than a page of lines keeps them in pages (chalicelib/pages.py),
written with it: a change writes only the pages whose lines changed. See models.py."""
from __future__ import annotations

from typing import Any

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion  # noqa: F401 (store.StaleVersion)
from chalicelib.documents import Documents
from chalicelib.pages import Pages
from chalicelib.quote import domain
from chalicelib.quote.models import QuotePage, QuoteRecord

OPEN = "open"


def _attributes(doc: dict[str, Any]) -> dict[str, Any]:
    customer = domain.customer_of(doc)
    state = doc.get("state")
    return {"sort": f"{doc['quoteDate']}#{doc['id']}", "owner": customer_pk(customer) if customer else None,
            "waiting": domain.PENDING if state == domain.PENDING else None,
            "due": OPEN if state in domain.OPEN else None,
            "until": (doc.get("validFor") or {}).get("endDateTime") if state in domain.OPEN else None}


def _kept_id(quote_id: str, number: int) -> str:
    return f"{quote_id}#v{number}"


PAGES = Pages(QuotePage, "quoteItem", domain.LINES_PER_PAGE)
_QUOTES = Documents(QuoteRecord, domain.RESOURCE, _attributes, pages=PAGES)
# a version sent before, kept as it was (no kind: in no index), never written over
_KEPT = Documents(QuoteRecord, None, id_of=lambda kept: _kept_id(kept["id"], kept["version"]), pages=PAGES)


def parts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What the quote is stored as: its header and each page of its lines (each within what one
    record may hold; service.check_size checks each)."""
    header, pages = PAGES.split(doc)
    return [header, *({"quoteItem": page} for page in pages or [])]


def load(quote_id: str) -> tuple[dict[str, Any], int] | None:
    return _QUOTES.load(quote_id)


def load_version(quote_id: str, number: int) -> dict[str, Any] | None:
    """Version `number` as it was sent (the current one is `load`'s)."""
    found = _KEPT.load(_kept_id(quote_id, number))
    return found[0] if found is not None else None


def insert(doc: dict[str, Any]) -> int | None:
    return _QUOTES.insert(doc)


def replace(doc: dict[str, Any], version: int, kept: dict[str, Any] | None = None,
            before: dict[str, Any] | None = None) -> int:
    """Store `doc` over the quote at `version` (StaleVersion otherwise), read as `before`;
    `kept`: the version sent before, kept as its own item in the same write."""
    return _QUOTES.replace(doc, version, also=[] if kept is None else [_KEPT.put(kept)], before=before)


def ordered_write(doc: dict[str, Any], version: int, before: dict[str, Any]) -> Any:
    """For the order's own transaction: the quote (read as `before`), marked ordered, written
    only if it is still at `version` (accepted and not ordered when it was read)."""
    return _QUOTES.put(doc, version, before=before)


def quotes(customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every quote, oldest first, or one customer's (one Query either way); a large quote
    without its lines (`filled` reads them)."""
    return _QUOTES.every(whole=False) if customer_id is None else _QUOTES.of_customer(customer_id, whole=False)


def page(offset: int, limit: int, customer_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Quotes offset .. offset+limit of `quotes(customer_id)` and how many there are (Documents.page:
    at most offset+limit read, the total a COUNT); a large quote without its lines, as `quotes`."""
    return _QUOTES.page(offset, limit, customer_id, whole=False)


def waiting() -> list[dict[str, Any]]:
    """Quotes pending approval, oldest first: the approvers' worklist (one Query); as `quotes`."""
    return [r.body for r in QuoteRecord.by_waiting.query(domain.PENDING)]


def filled(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listed quotes with the lines of the large ones read."""
    return _QUOTES.filled(docs)


def due_by(at: str, limit: int = 100) -> list[dict[str, Any]]:
    """Open quotes whose validity ended at or before `at` (one Query)."""
    return [r.body for r in QuoteRecord.by_due.query(OPEN, QuoteRecord.until <= at, limit=limit)]

