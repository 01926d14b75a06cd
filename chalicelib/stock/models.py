"""The stock table: productStocks and reservations, versioned.

    pk               kind                  sort                      level   due    until     owner          expires
    <stock id>       productStock          <location>#<offering>#id  <n>     -      -         -              -
    <reservation id> reserveProductStock   <creationDate>#<id>       -       held   <expiry>  CUSTOMER#<id>  <epoch>

- `level` is the stock's productStockLevel.amount (available to reserve), a number so that a
  reservation takes from it with one conditional update (`level >= quantity`), never below 0.
- by-kind: every stock, every reservation (lists).
- by-owner (sparse): a customer's reservations (her list: one Query).
- by-due (sparse): the reservations that hold stock, by expiry: the sweep's one Query.
- `expires` (TTL): a reservation that holds nothing any more (released, expired, rejected) is
  kept RETENTION_DAYS, then DynamoDB deletes it: the reservations listed stay the recent ones.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta


class ByDue(GlobalSecondaryIndex):
    """Reservations holding stock, soonest expiry first."""

    class Meta:
        index_name = "by-due"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    until = UnicodeAttribute(range_key=True)


class StockRecord(Model):
    Meta = meta("stock")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    level = NumberAttribute(null=True)
    due = UnicodeAttribute(null=True)
    until = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    expires = NumberAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_due = ByDue()
