"""Quote persistence (PynamoDB): one item per quote, written on its version (optimistic
concurrency); a new quote version keeps the one sent before as its own item, in the same
transaction. See models.py for the key design."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib import db
from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, versioned, written  # noqa: F401 (store.StaleVersion)
from chalicelib.quote import domain
from chalicelib.quote.models import QuoteRecord

MAX_ID = 256
OPEN = "open"


def _record(doc: dict[str, Any], version: int | None) -> QuoteRecord:
    customer = domain.customer_of(doc)
    state = doc.get("state")
    rec = QuoteRecord(doc["id"], kind=domain.RESOURCE, sort=f"{doc['quoteDate']}#{doc['id']}", body=doc,
                      owner=customer_pk(customer) if customer else None,
                      waiting=domain.PENDING if state == domain.PENDING else None,
                      due=OPEN if state in domain.OPEN else None,
                      until=(doc.get("validFor") or {}).get("endDateTime") if state in domain.OPEN else None)
    if version is not None:
        rec.version = version
    return rec


def _get(pk: str) -> QuoteRecord | None:
    if not pk or len(pk) > MAX_ID:
        return None
    try:
        return QuoteRecord.get(pk, consistent_read=True)
    except DoesNotExist:
        return None


def load(quote_id: str) -> tuple[dict[str, Any], int] | None:
    rec = _get(quote_id)
    return (rec.body, rec.version) if rec is not None and rec.kind == domain.RESOURCE else None


def load_version(quote_id: str, number: int) -> dict[str, Any] | None:
    """Version `number` as it was sent (the current one is `load`'s)."""
    rec = _get(f"{quote_id}#v{number}")
    return rec.body if rec is not None else None


def insert(doc: dict[str, Any]) -> int | None:
    rec = _record(doc, None)
    return rec.version if written(lambda: rec.save(condition=QuoteRecord.pk.does_not_exist())) else None


def replace(doc: dict[str, Any], version: int, kept: dict[str, Any] | None = None) -> int:
    """Store `doc` over the quote at `version` (StaleVersion otherwise); `kept`: the version sent
    before, kept as its own item in the same write."""
    rec = _record(doc, version)
    with versioned():
        if kept is None:
            rec.save()
        else:
            with db.transaction() as tx:
                tx.save(rec)
                tx.save(QuoteRecord(f"{kept['id']}#v{kept['version']}", body=kept),
                        condition=QuoteRecord.pk.does_not_exist())
    return rec.version


def ordered_write(doc: dict[str, Any], version: int) -> QuoteRecord:
    """For the order's own transaction: the quote, marked ordered, written only if it is still at
    `version` (accepted and not ordered when it was read: PynamoDB adds the version condition)."""
    return _record(doc, version)


def quotes(customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every quote, oldest first, or one customer's (one Query either way)."""
    if customer_id is not None:
        if len(customer_id) > MAX_ID:
            return []
        return [r.body for r in QuoteRecord.by_owner.query(customer_pk(customer_id))]
    return [r.body for r in QuoteRecord.by_kind.query(domain.RESOURCE)]


def waiting() -> list[dict[str, Any]]:
    """Quotes pending approval, oldest first: the approvers' worklist (one Query)."""
    return [r.body for r in QuoteRecord.by_waiting.query(domain.PENDING)]


def due_by(at: str, limit: int = 100) -> list[dict[str, Any]]:
    """Open quotes whose validity ended at or before `at` (one Query)."""
    return [r.body for r in QuoteRecord.by_due.query(OPEN, QuoteRecord.until <= at, limit=limit)]

