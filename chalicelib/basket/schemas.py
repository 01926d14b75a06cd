"""Payload models for TMF663 shopping carts (pydantic). TMF entities are extensible: unknown
attributes are kept; computed ones (prices, qualification, context made by the server) are
recomputed whatever a client sends."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, StrictInt

from chalicelib.schemas import ContactMedium, Ref, RelatedParty, Tmf

ITEM_ACTIONS = Literal["add", "modify", "delete", "noChange"]
ITEM_STATUS = Literal["active", "saveForLater"]
STATUS = Literal["active", "assistanceOffered", "withAgent", "awaitingApproval", "approved", "ordered", "expired"]
IDENTIFIER = r"^[A-Za-z0-9._:-]{1,64}$"


class Characteristic(Tmf):
    name: str = Field(min_length=1, max_length=64)
    value: Any


class ProductValue(Tmf):
    productCharacteristic: list[Characteristic] = Field(default=[], max_length=20)


class CartItem(Tmf):
    id: Optional[str] = Field(default=None, pattern=IDENTIFIER)
    action: Optional[ITEM_ACTIONS] = None
    quantity: Optional[StrictInt] = None
    status: Optional[ITEM_STATUS] = None
    productOffering: Optional[Ref] = None
    product: Optional[ProductValue] = None


class Context(Tmf):
    journeyKey: Optional[str] = Field(default=None, pattern=IDENTIFIER)
    campaignCode: Optional[str] = Field(default=None, pattern=IDENTIFIER)
    device: Optional[str] = Field(default=None, max_length=64)
    postCode: Optional[str] = Field(default=None, max_length=16)


class ShoppingCart(Tmf):
    cartItem: list[CartItem] = Field(default=[], max_length=200)
    relatedParty: list[RelatedParty] = Field(default=[], max_length=10)
    contactMedium: list[ContactMedium] = Field(default=[], max_length=10)
    context: Optional[Context] = None
    status: Optional[STATUS] = None
