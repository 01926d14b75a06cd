"""Payload models for TMF676 payments (pydantic). TMF entities are extensible: unknown attributes
are kept; known ones must have the right type and size. Required fields are the v4.0.0 swagger's
Payment_Create (account, paymentMethod, totalAmount); the model is named after the resource, so
the API reference compares its attributes with the spec's Payment. Money's value and unit are
optional there (the TMF676 kit posts `"totalAmount": {}`): a payment with nothing to charge ends
`failed`."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, StrictFloat

from chalicelib.schemas import Ref, RelatedParty, Text, Tmf

MAX_AMOUNT = 100_000


class Money(Tmf):
    unit: Optional[str] = Field(default=None, min_length=3, max_length=3)
    value: Optional[StrictFloat] = Field(default=None, gt=0, le=MAX_AMOUNT)


class PaymentMethod(Tmf):
    """PaymentMethodRefOrValue: `id` is the card token the provider gave the channel."""
    id: Optional[str] = Field(default=None, min_length=1, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
    name: Optional[str] = Text


class EntityRef(Ref):
    referredType: Optional[str] = Field(default=None, alias="@referredType", max_length=100)


class PaymentItem(Tmf):
    id: Optional[str] = Field(default=None, max_length=64)
    item: EntityRef
    totalAmount: Optional[Money] = None


class _MoneyMoved(Tmf):
    """What a Payment and a Refund share (their v4.0.0 _Create's required three, and the rest)."""
    account: Ref
    paymentMethod: PaymentMethod
    totalAmount: Money
    amount: Optional[Money] = None
    taxAmount: Optional[Money] = None
    channel: Optional[Ref] = None
    name: Optional[str] = Field(default=None, max_length=256)
    description: Optional[str] = Field(default=None, max_length=4000)
    correlatorId: Optional[str] = Field(default=None, max_length=256)


class Payment(_MoneyMoved):
    payer: Optional[RelatedParty] = None
    paymentItem: Optional[list[PaymentItem]] = Field(default=None, max_length=1)


class Refund(_MoneyMoved):
    """Refund_Create and the payment it gives back part of (required here)."""
    payment: EntityRef


class ProviderCallback(Tmf):
    """What the provider posts when the customer's step is done (signed; see provider.py)."""
    eventId: str = Field(min_length=1, max_length=256)
    paymentId: str = Field(min_length=1, max_length=256)
    outcome: str = Field(pattern=r"^(authorized|denied)$")
    reason: Optional[str] = Field(default=None, max_length=500)
