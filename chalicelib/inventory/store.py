"""Inventory persistence (PynamoDB): conditional writes on the version and the Queries lists are
made of. See models.py for the key design."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, versioned, written  # noqa: F401 (store.StaleVersion)
from chalicelib.inventory import domain
from chalicelib.inventory.models import ProductRecord

MAX_ID = 256


def _record(doc: dict[str, Any], version: int | None) -> ProductRecord:
    customer = domain.customer_of(doc)
    rec = ProductRecord(doc["id"], kind=domain.RESOURCE, sort=f"{doc.get('startDate') or ''}#{doc['id']}",
                        owner=customer_pk(customer) if customer else None, stack=domain.stack_of(doc), body=doc)
    if version is not None:
        rec.version = version
    return rec


def load(product_id: str) -> tuple[dict[str, Any], int] | None:
    if len(product_id) > MAX_ID:
        return None
    try:
        rec = ProductRecord.get(product_id, consistent_read=True)
    except DoesNotExist:
        return None
    return rec.body, rec.version


def insert(doc: dict[str, Any]) -> int | None:
    """Write a new product; None when one with this id exists (a replayed completion)."""
    rec = _record(doc, None)
    return rec.version if written(rec.save) else None


def replace(doc: dict[str, Any], version: int) -> int:
    """Replace the product stored at `version`; StaleVersion when it changed meanwhile."""
    rec = _record(doc, version)
    with versioned():
        rec.save()
    return rec.version


def delete(product_id: str, version: int) -> None:
    rec = ProductRecord(product_id)
    rec.version = version
    with versioned():
        rec.delete()


def of_customer(customer_id: str) -> list[dict[str, Any]]:
    """A customer's products, oldest first: one Query (by-owner)."""
    if len(customer_id) > MAX_ID:
        return []
    return [rec.body for rec in ProductRecord.by_owner.query(customer_pk(customer_id))]


def of_stack(stack: str) -> list[dict[str, Any]]:
    return [rec.body for rec in ProductRecord.by_stack.query(stack)]


def every() -> list[dict[str, Any]]:
    return [rec.body for rec in ProductRecord.by_kind.query(domain.RESOURCE)]
