"""The basket table: one item per basket (its TMF663 document in `body`), versioned.

    pk            owner                            listed                              sort
    <basket id>   CUSTOMER#<id> | VISITOR#<id>     WORKLIST#<status> | ANON#<channel>#<day> | -   <lastUpdate>#<id>

- by-owner: a customer's (or an anonymous visitor's) baskets, newest first: one Query.
- open-by-owner (sparse): a customer's open baskets (`open_owner`), newest first: the 360 view.
- by-list (sparse): the agents' worklists (withAgent, assistanceOffered) and each channel's
  anonymous baskets per day of creation.
`expires` is the TTL attribute (epoch seconds); `facts` is the copy of the customer facts the
rules need (segment, type, products held), refreshed every OMNISHOP_BASKET_CUSTOMER_FACTS_SECONDS.
The stream (NEW_AND_OLD_IMAGES) is the outbox: TMF663 events, hand-over interactions, and the
abandoned-basket workflows.
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
    expires = NumberAttribute(null=True)
    version = VersionAttribute(null=True)

    by_owner = ByOwner()
    open_by_owner = OpenByOwner()
    by_list = ByList()
