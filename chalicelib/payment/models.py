"""The payment table: payments and refunds, versioned.

    pk            kind      sort                   owner          due       until
    <payment id>  payment   <paymentDate>#<id>     CUSTOMER#<id>  waiting   <step deadline>
    <refund id>   refund    <refundDate>#<id>      CUSTOMER#<id>  -         -

- by-kind: every payment, every refund (lists); by-owner: a customer's (her list: one Query).
- by-due (sparse, the stock table's index shape): payments waiting for the customer's step, by
  deadline: the payment sweep's one Query.
An order's payment has an id derived from the order (domain.order_payment_id): the conditional
put that creates it is what makes a second payment of the order a conflict.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta
from chalicelib.stock.models import ByDue


class PaymentRecord(Model):
    Meta = meta("payment")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    due = UnicodeAttribute(null=True)
    until = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_due = ByDue()
