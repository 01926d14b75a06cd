"""Promotion persistence (PynamoDB): versioned writes, one Query for the list. See models.py."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.db import versioned, written
from chalicelib.promotion import domain
from chalicelib.promotion.models import PromotionRecord

MAX_ID = 256


def _record(doc: dict[str, Any], version: int | None) -> PromotionRecord:
    rec = PromotionRecord(doc["id"], kind=domain.RESOURCE, body=doc,
                          sort=f"{str(doc.get('name') or '').lower()[:200]}#{doc['id']}")
    if version is not None:
        rec.version = version
    return rec


def load(promotion_id: str) -> tuple[dict[str, Any], int] | None:
    if not promotion_id or len(promotion_id) > MAX_ID:
        return None
    try:
        rec = PromotionRecord.get(promotion_id, consistent_read=True)
    except DoesNotExist:
        return None
    return rec.body, rec.version


def insert(doc: dict[str, Any]) -> int | None:
    """Write a new promotion; None when one with this id exists."""
    rec = _record(doc, None)
    return rec.version if written(rec.save) else None


def replace(doc: dict[str, Any], version: int) -> int:
    rec = _record(doc, version)
    with versioned():
        rec.save()
    return rec.version


def remove(promotion_id: str, version: int) -> None:
    rec = PromotionRecord(promotion_id)
    rec.version = version
    with versioned():
        rec.delete()


def promotions() -> list[dict[str, Any]]:
    """Every promotion, by name (one Query)."""
    return [rec.body for rec in PromotionRecord.by_kind.query(domain.RESOURCE)]
