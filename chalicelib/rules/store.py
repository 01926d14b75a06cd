"""Qualification persistence (PynamoDB): answers written once, read by id, listed by Query.
See models.py for the key design."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib import documents
from chalicelib.customer.keys import customer_of, customer_pk
from chalicelib.rules import domain
from chalicelib.rules.models import QualificationRecord

MAX_ID = 64


def insert(doc: dict[str, Any], customer_id: str | None, expires: int) -> None:
    """Write a new answer (under a new uuid)."""
    QualificationRecord(doc["id"], kind=domain.API_NAME, sort=f"{doc['productOfferingQualificationDate']}#{doc['id']}",
                        owner=customer_pk(customer_id) if customer_id else None, body=doc, expires=expires).save()


def load(qualification_id: str) -> tuple[dict[str, Any], str | None] | None:
    """The answer and its customer (None: anonymous or a party outside Omnishop)."""
    if len(qualification_id) > MAX_ID:
        return None
    try:
        rec = QualificationRecord.get(qualification_id, consistent_read=True)
    except DoesNotExist:
        return None
    return rec.body, customer_of(rec.owner or "")


def page(offset: int, limit: int, customer_id: str | None) -> tuple[list[dict[str, Any]], int]:
    """Answers offset .. offset+limit of `newest(customer_id)` and how many there are
    (documents.paged: at most offset+limit read, the total a COUNT)."""
    if customer_id is not None:
        recs, total = documents.paged(QualificationRecord.by_owner, customer_pk(customer_id), offset, limit,
                                      newest_first=True)
    else:
        recs, total = documents.paged(QualificationRecord.by_kind, domain.API_NAME, offset, limit, newest_first=True)
    return [rec.body for rec in recs], total


def newest(customer_id: str | None) -> list[dict[str, Any]]:
    """A customer's answers (by-owner), or every answer (by-kind), newest first: one Query."""
    if customer_id is not None:
        found = QualificationRecord.by_owner.query(customer_pk(customer_id), scan_index_forward=False)
    else:
        found = QualificationRecord.by_kind.query(domain.API_NAME, scan_index_forward=False)
    return [rec.body for rec in found]
