"""What every PynamoDB model shares: region, table names from settings, and the resource body.

Each TMF resource is stored as its JSON document (`body`) beside the few attributes its keys and
indexes need, with a `version` for optimistic concurrency.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from pynamodb.attributes import Attribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.constants import STRING
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib import settings


class JsonBody(Attribute[dict]):
    """A JSON document stored as one compact string (smaller and cheaper than a DynamoDB map)."""
    attr_type = STRING

    def serialize(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def deserialize(self, value: str) -> Any:
        return json.loads(value)


def meta(logical_table: str) -> type:
    """A PynamoDB Meta for one of the tables in infra/resources.py."""

    class Meta:
        table_name = settings.table_name(logical_table)
        region = settings.region()

    return Meta


class StaleVersion(Exception):
    """A versioned write refused: the item changed (or, for an insert, exists) since it was read.
    Every store raises this one class (each store module re-exports it as `store.StaleVersion`)."""


def conditional_failed(exc: Exception) -> bool:
    """A PynamoDB write, or a transaction, refused by its condition (e.g. a stale version)."""
    if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


@contextmanager
def versioned() -> Iterator[None]:
    """Around a conditional write (save, delete, update or a transaction): a refused condition
    raises StaleVersion; any other error passes through unchanged."""
    try:
        yield
    except PynamoDBException as exc:
        if conditional_failed(exc):
            raise StaleVersion() from None
        raise


def written(write: Callable[[], object]) -> bool:
    """Run a conditional write: True when it was written, False when its condition refused it
    (the item was there already, a cap was full, another writer moved first)."""
    try:
        with versioned():
            write()
    except StaleVersion:
        return False
    return True


def transaction() -> TransactWrite:
    """A DynamoDB transaction in this region (use as `with db.transaction() as tx:`)."""
    return TransactWrite(connection=Connection(region=settings.region()))


class ByOwner(GlobalSecondaryIndex):
    """What one owner has (a customer's baskets, orders): a Query on this index (`owner`, `sort`).
    Shared by the tables whose models declare `by_owner = ByOwner()`."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class ByKind(GlobalSecondaryIndex):
    """Every list of one resource kind is a Query on this index (`kind`, ordered by `sort`).
    Shared by the tables whose models declare `by_kind = ByKind()`."""

    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)
