"""Quote persistence (PynamoDB): one item per quote, written on its version (optimistic
concurrency); a new quote version keeps the one sent before as its own item, in the same
transaction. See models.py for the key design."""
from __future__ import annotations

from typing import Any

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion  # noqa: F401 (store.StaleVersion)
from chalicelib.documents import Documents
from chalicelib.quote import domain
from chalicelib.quote.models import QuoteRecord

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


_QUOTES = Documents(QuoteRecord, domain.RESOURCE, _attributes)
# a version sent before, kept as it was (no kind: in no index), never written over
_KEPT = Documents(QuoteRecord, None, id_of=lambda kept: _kept_id(kept["id"], kept["version"]))


def load(quote_id: str) -> tuple[dict[str, Any], int] | None:
    return _QUOTES.load(quote_id)


def load_version(quote_id: str, number: int) -> dict[str, Any] | None:
    """Version `number` as it was sent (the current one is `load`'s)."""
    rec = _KEPT.get(_kept_id(quote_id, number))
    return rec.body if rec is not None else None


def insert(doc: dict[str, Any]) -> int | None:
    return _QUOTES.insert(doc)


def replace(doc: dict[str, Any], version: int, kept: dict[str, Any] | None = None) -> int:
    """Store `doc` over the quote at `version` (StaleVersion otherwise); `kept`: the version sent
    before, kept as its own item in the same write."""
    return _QUOTES.replace(doc, version, also=[] if kept is None else [_KEPT.put(kept)])


def ordered_write(doc: dict[str, Any], version: int) -> QuoteRecord:
    """For the order's own transaction: the quote, marked ordered, written only if it is still at
    `version` (accepted and not ordered when it was read: PynamoDB adds the version condition)."""
    return _QUOTES.record(doc, version)


def quotes(customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every quote, oldest first, or one customer's (one Query either way)."""
    return _QUOTES.every() if customer_id is None else _QUOTES.of_customer(customer_id)


def waiting() -> list[dict[str, Any]]:
    """Quotes pending approval, oldest first: the approvers' worklist (one Query)."""
    return [r.body for r in QuoteRecord.by_waiting.query(domain.PENDING)]


def due_by(at: str, limit: int = 100) -> list[dict[str, Any]]:
    """Open quotes whose validity ended at or before `at` (one Query)."""
    return [r.body for r in QuoteRecord.by_due.query(OPEN, QuoteRecord.until <= at, limit=limit)]

