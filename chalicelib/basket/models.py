"""The basket tables: a header per basket (its TMF663 document without its items, in `body`),
versioned, and one record per line (cart item) in the basket-line table under the basket's id.

    pk            owner                            listed                              sort
    <basket id>   CUSTOMER#<id> | VISITOR#<id>     WORKLIST#<status> | ANON#<channel>#<day> | -   <lastUpdate>#<id>

- by-owner: a customer's (or an anonymous visitor's) baskets, newest first: one Query.
- open-by-owner (sparse): a customer's open baskets (`open_owner`), newest first: the 360 view.
- by-list (sparse): the agents' worklists (withAgent, assistanceOffered) and each channel's
  anonymous baskets per day of creation.
`expires` is the TTL attribute (epoch seconds); `facts` is the copy of the customer facts the
rules need (segment, type, products held), refreshed every OMNISHOP_BASKET_CUSTOMER_FACTS_SECONDS;
`composition` what the lines add up to (per offering: active quantity, active lines; all lines),
so a change prices the basket without reading its lines (chalicelib/basket/lines.py).
The stream (NEW_AND_OLD_IMAGES) is the outbox: TMF663 events, hand-over interactions, the
abandoned-basket workflows, and the lines of a deleted or expired basket deleted after it.

The line table: pk = the basket's id, line = the item's id; `body` the item as stored (no prices:
they are computed when the basket is read), `v` the basket version that last wrote it. A change
writes its lines and the header (at its version) in one transaction.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByOwner, JsonBody, OpenByOwner, meta


class ByList(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-list"
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class BasketRecord(Model):
    Meta = meta("basket")

    pk = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute(null=True)
    listed = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    open_owner = UnicodeAttribute(null=True)   # = owner while open (sparse open-by-owner)
    body = JsonBody(null=True)
    facts = JsonBody(null=True)
    composition = JsonBody(null=True)
    expires = NumberAttribute(null=True)
    version = VersionAttribute(null=True)

    by_owner = ByOwner()
    open_by_owner = OpenByOwner()
    by_list = ByList()


class BasketLine(Model):
    Meta = meta("basket-line")

    pk = UnicodeAttribute(hash_key=True)
    line = UnicodeAttribute(range_key=True)
    body = JsonBody()
    v = NumberAttribute()
    n = NumberAttribute(null=True)   # the line's place in the basket (the order lines were added)
