"""The inventory table: one item per TMF637 product a customer holds (its document in `body`),
versioned.

    pk            kind      sort                 owner                  stack
    <product id>  product   <startDate>#<id>     CUSTOMER#<id>          <stack id> | -

- by-owner: a customer's products (products held, the 360 view, the rules' facts): one Query.
- by-kind: every product (an agent's list).
- by-stack (sparse): the products one fulfilment stack provides (a stack's list).
A product's `productOrderItem` lists the order items already applied to it, so a completion
event delivered twice changes nothing the second time. The stream (NEW_AND_OLD_IMAGES)
publishes the TMF637 hub events (functions/inventory_events.py).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta


class ByStack(GlobalSecondaryIndex):
    """The products one fulfilment stack provides, oldest first."""

    class Meta:
        index_name = "by-stack"
        projection = AllProjection()

    stack = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class ProductRecord(Model):
    Meta = meta("inventory")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    stack = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_stack = ByStack()
