"""Promotion persistence (PynamoDB): versioned writes (chalicelib.documents), one Query for the
list. See models.py."""
from __future__ import annotations

from typing import Any

from chalicelib.documents import Documents
from chalicelib.promotion import domain
from chalicelib.promotion.models import PromotionRecord


def _attributes(doc: dict[str, Any]) -> dict[str, Any]:
    return {"sort": f"{str(doc.get('name') or '').lower()[:200]}#{doc['id']}"}


_PROMOTIONS = Documents(PromotionRecord, domain.RESOURCE, _attributes)


def load(promotion_id: str) -> tuple[dict[str, Any], int] | None:
    return _PROMOTIONS.load(promotion_id)


def insert(doc: dict[str, Any]) -> int | None:
    """Write a new promotion; None when one with this id exists."""
    return _PROMOTIONS.insert(doc)


def replace(doc: dict[str, Any], version: int) -> int:
    return _PROMOTIONS.replace(doc, version)


def remove(promotion_id: str, version: int) -> None:
    _PROMOTIONS.remove(promotion_id, version)


def page(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Promotions offset .. offset+limit by name, and how many there are (Documents.page: at most
    offset+limit read, the total a COUNT)."""
    return _PROMOTIONS.page(offset, limit)


def promotions() -> list[dict[str, Any]]:
    """Every promotion, by name (one Query)."""
    return _PROMOTIONS.every()
