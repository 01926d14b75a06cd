"""The payment table: payments, refunds and each order's payment record, versioned.

    pk                 kind          sort                  owner          due        until
    <payment id>       payment       <paymentDate>#<id>    CUSTOMER#<id>  waiting    <step deadline>
    <refund id>        refund        <refundDate>#<id>     CUSTOMER#<id>  refunding  <ask the provider again>
    order#<order id>   orderPayment  -                     -              unpaid     <payment window ends>

- by-kind: every payment, every refund (lists); by-owner: a customer's (her list: one Query).
- by-due (sparse, the stock table's index shape): payments waiting for the customer's step, refunds
  the provider has not done, orders nobody paid, each by deadline: the payment sweep's Queries.
An order's payment record (written with the order at checkout) names its current payment and how
many were tried; each payment's id derives from the order and the attempt (domain.order_payment_id):
the transaction that creates a payment and moves that record on is what makes two at once one.
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
