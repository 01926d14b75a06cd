"""The order table: one item per TMF622 resource (productOrder, child productOrder,
cancelProductOrder), its document in `body`, versioned.

    pk           kind                 sort                owner                 parent
    <order id>   productOrder | ...   <orderDate>#<id>    CUSTOMER#<id> | -     <parent id> | -

- by-kind: every order (or cancellation request), oldest first: an agent's list.
- by-owner (sparse): a customer's orders, newest first: their list.
- open-by-owner (sparse): a customer's top-level orders not final yet (`open_owner`), newest
  first: the 360 view reads a few of them whatever the customer's history.
A top-level order of more than 100 items keeps them in pages of the `order-page` table
(chalicelib/pages.py): its record's body is the order without `productOrderItem`, and `pages`
says how many pages it has. Child orders are split to hold at most 100 items, so they are
always whole.
`token` holds the Step Functions task token a child order's workflow step waits on (callback
pattern); `dispatched` says its message went to the stack's queue. The stream
(NEW_AND_OLD_IMAGES) starts the workflows, publishes TMF622 events and sends the milestone SMS.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.pages import PageRecord
from chalicelib.db import ByKind, ByOwner, JsonBody, OpenByOwner, meta


class OrderRecord(Model):
    Meta = meta("order")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    parent = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    open_owner = UnicodeAttribute(null=True)   # = owner while open (sparse open-by-owner)
    body = JsonBody(null=True)
    token = UnicodeAttribute(null=True)
    dispatched = BooleanAttribute(null=True)
    pages = NumberAttribute(null=True)   # its items' pages, when it has more than one page of them (chalicelib/pages.py)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    open_by_owner = OpenByOwner()


class OrderPage(PageRecord):
    """A page of a large order's items (chalicelib/pages.py): written only with its order."""
    Meta = meta("order-page")
