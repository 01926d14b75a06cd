"""Inventory persistence (PynamoDB): conditional writes on the version (chalicelib.documents) and
the Queries lists are made of. See models.py for the key design."""
from __future__ import annotations

from typing import Any

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion  # noqa: F401 (store.StaleVersion)
from chalicelib import documents
from chalicelib.documents import MAX_ID, Documents
from chalicelib.inventory import domain
from chalicelib.inventory.models import ProductRecord


def _attributes(doc: dict[str, Any]) -> dict[str, Any]:
    customer = domain.customer_of(doc)
    return {"sort": f"{doc.get('startDate') or ''}#{doc['id']}", "stack": domain.stack_of(doc),
            "owner": customer_pk(customer) if customer else None}


_PRODUCTS = Documents(ProductRecord, domain.RESOURCE, _attributes)


def load(product_id: str) -> tuple[dict[str, Any], int] | None:
    return _PRODUCTS.load(product_id)


def insert(doc: dict[str, Any]) -> int | None:
    """Write a new product; None when one with this id exists (a replayed completion)."""
    return _PRODUCTS.insert(doc)


def replace(doc: dict[str, Any], version: int) -> int:
    """Replace the product stored at `version`; StaleVersion when it changed meanwhile."""
    return _PRODUCTS.replace(doc, version)


def delete(product_id: str, version: int) -> None:
    _PRODUCTS.remove(product_id, version)


def of_customer(customer_id: str) -> list[dict[str, Any]]:
    """A customer's products, oldest first: one Query (by-owner)."""
    return _PRODUCTS.of_customer(customer_id)


def of_stack(stack: str) -> list[dict[str, Any]]:
    return [rec.body for rec in ProductRecord.by_stack.query(stack)]


def page(offset: int, limit: int, *, customer_id: str | None = None,
         stack: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Products offset .. offset+limit, oldest first, of `every()`, `of_customer(customer_id)` or
    `of_stack(stack)`, and how many there are (documents.paged: at most offset+limit read, the
    total a COUNT)."""
    if stack is None:
        return _PRODUCTS.page(offset, limit, customer_id)
    if not stack or len(stack) > MAX_ID:
        return [], 0
    recs, total = documents.paged(ProductRecord.by_stack, stack, offset, limit)
    return [rec.body for rec in recs], total


def every() -> list[dict[str, Any]]:
    return _PRODUCTS.every()
