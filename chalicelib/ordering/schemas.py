"""Payload models for TMF622 product orders (pydantic). TMF entities are extensible: unknown
attributes are kept; computed ones (state, prices, terms, dates made by the server) are
recomputed whatever a client sends."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, StrictInt

from chalicelib.schemas import ChannelRef, Note, Ref, RelatedParty, Tmf

ITEM_ACTIONS = Literal["add", "modify", "delete", "noChange"]
IDENTIFIER = r"^[A-Za-z0-9._:-]{1,64}$"


class Characteristic(Tmf):
    name: str = Field(min_length=1, max_length=64)
    value: Any = None


class ProductRefOrValue(Tmf):
    id: Optional[str] = Field(default=None, min_length=1, max_length=256)
    productCharacteristic: list[Characteristic] = Field(default=[], max_length=20)


class ProductOrderItem(Tmf):
    id: str = Field(pattern=IDENTIFIER)
    action: ITEM_ACTIONS
    quantity: Optional[StrictInt] = Field(default=None, ge=1, le=100)
    productOffering: Optional[Ref] = None
    product: Optional[ProductRefOrValue] = None


class ProductOrder(Tmf):
    productOrderItem: list[ProductOrderItem] = Field(default=[], max_length=100)
    relatedParty: list[RelatedParty] = Field(default=[], max_length=10)
    channel: list[ChannelRef] = Field(default=[], max_length=5)
    shoppingCart: Optional[Ref] = None
    note: list[Note] = Field(default=[], max_length=20)
    externalId: Optional[str] = Field(default=None, max_length=256)
    description: Optional[str] = Field(default=None, max_length=4000)
    category: Optional[str] = Field(default=None, max_length=256)
    priority: Optional[str] = Field(default=None, max_length=16)
    requestedStartDate: Optional[str] = None
    requestedCompletionDate: Optional[str] = None


class AmendedItem(ProductOrderItem):
    """An item of an order in flight as the caller wants it: as it is, `cancelled`, or new."""
    action: Optional[ITEM_ACTIONS] = None   # type: ignore[assignment]
    state: Optional[str] = Field(default=None, max_length=32)


class ProductOrderAmendment(Tmf):
    """PATCH productOrder/{id} on an order in flight: its whole productOrderItem list."""
    productOrderItem: list[AmendedItem] = Field(min_length=1, max_length=100)


class CancelProductOrder(Tmf):
    productOrder: Ref
    cancellationReason: Optional[str] = Field(default=None, max_length=1000)
    requestedCancellationDate: Optional[str] = None


class ReportedItem(Tmf):
    id: str = Field(min_length=1, max_length=64)
    state: Optional[str] = Field(default=None, max_length=32)


class ReportedOrder(Tmf):
    """The child order as its stack reports it (states are checked against the stack states)."""
    id: str = Field(min_length=1, max_length=256)
    state: Optional[str] = Field(default=None, max_length=32)
    productOrderItem: list[ReportedItem] = Field(default=[], max_length=100)
    expectedCompletionDate: Optional[str] = Field(default=None, max_length=40)


class ReportedEvent(Tmf):
    productOrder: ReportedOrder


class OrderEvent(Tmf):
    """What a stack posts on the listener: a TMF622 ProductOrderStateChangeEvent."""
    eventId: Optional[str] = Field(default=None, max_length=256)
    eventType: Optional[str] = Field(default=None, max_length=100)
    event: ReportedEvent
