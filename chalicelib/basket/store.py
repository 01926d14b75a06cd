"""Basket persistence (PynamoDB): conditional writes on the version, and the Queries lists are
made of. See models.py for the key design."""
from __future__ import annotations

import dataclasses
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.basket import domain
from chalicelib.basket.models import BasketRecord
from chalicelib.db import StaleVersion, versioned  # noqa: F401 (store.StaleVersion)


@dataclasses.dataclass
class Stored:
    doc: dict[str, Any]
    version: int
    facts: dict[str, Any] | None


def load(basket_id: str) -> Stored | None:
    try:
        rec = BasketRecord.get(basket_id, consistent_read=True)
    except DoesNotExist:
        return None
    return Stored(rec.body, rec.version, rec.facts)


def record(doc: dict[str, Any], version: int | None, facts: dict[str, Any] | None, expires: int) -> BasketRecord:
    """The item a write stores (conditional on `version`); ordering saves it in its transaction."""
    owner = domain.owner_key(doc)
    rec = BasketRecord(doc["id"], owner=owner, listed=domain.list_key(doc),
                       sort=f"{doc['lastUpdate']}#{doc['id']}", status=doc.get("status"), body=doc, facts=facts,
                       expires=expires, open_owner=owner if domain.customer_of(doc) and
                       doc.get("status") in domain.OPEN else None)
    if version is not None:
        rec.version = version
    return rec


def write(doc: dict[str, Any], version: int | None, facts: dict[str, Any] | None, expires: int) -> int:
    """Insert (version None) or replace the basket stored at `version`; StaleVersion otherwise."""
    rec = record(doc, version, facts, expires)
    with versioned():
        rec.save()
    return rec.version


def remove(basket_id: str, version: int) -> None:
    rec = BasketRecord(basket_id, version=version)
    with versioned():
        rec.delete()


def by_owner(owner: str, limit: int | None = None) -> list[dict[str, Any]]:
    """An owner's baskets, newest change first."""
    return [r.body for r in BasketRecord.by_owner.query(owner, scan_index_forward=False, limit=limit)]


def open_of(owner: str, limit: int | None = None) -> list[dict[str, Any]]:
    """A customer's (newest `limit`) open baskets, from the sparse open-by-owner index: with a
    limit, one Query of at most `limit` items whatever the number of baskets closed before."""
    return [r.body for r in BasketRecord.open_by_owner.query(owner, scan_index_forward=False, limit=limit,
                                                              page_size=limit)]


def by_list(listed: str, before: str | None = None) -> list[dict[str, Any]]:
    """A list's baskets, newest change first; `before`: only those last changed before then (ISO)."""
    condition = BasketRecord.sort < before if before else None
    return [r.body for r in BasketRecord.by_list.query(listed, condition, scan_index_forward=False)]
