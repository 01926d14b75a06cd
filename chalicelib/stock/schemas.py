"""Payload models for TMF687 productStock and reserveProductStock (pydantic). TMF entities are
extensible, so unknown attributes are kept; known ones must have the right type and size.
Required fields are the v4.0.0 swagger's (ProductStock_Create; ReserveProductStock_Create), except
ReserveProductStockItem.requestedProduct: the TMF687 kit (v4.1.0) reserves without it
(docs/decisions.md)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictInt

from chalicelib.schemas import Ref, RelatedParty, Text, TimePeriod, Tmf

STOCK_STATUS = Literal["reserved", "available", "unavailable", "unknown"]
USAGE = Literal["inTransit", "onDisplay", "damaged", "returned", "replenishmentInProgress", "inShop"]
MAX_LEVEL = 1_000_000
MAX_ITEMS = 20


class Quantity(Tmf):
    """Whole units: stock is counted in handsets."""
    amount: StrictInt = Field(ge=0, le=MAX_LEVEL)
    units: Optional[str] = Field(default=None, max_length=50)


class Requested(Quantity):
    amount: StrictInt = Field(ge=1, le=MAX_LEVEL)


class Place(Tmf):
    role: str = Field(min_length=1, max_length=100)
    id: Optional[str] = Field(default=None, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
    name: Optional[str] = Text


class StockedProduct(Tmf):
    """ProductRefOrValue: the product kept in stock; `productOffering` names the offering."""
    id: Optional[str] = Field(default=None, max_length=256)
    name: Optional[str] = Text
    productOffering: Optional[Ref] = None


class _StockFields(Tmf):
    name: Optional[str] = Field(default=None, max_length=256)
    description: Optional[str] = Field(default=None, max_length=4000)
    stockLevelCategory: Optional[str] = Field(default=None, max_length=100)
    productStockUsageType: Optional[USAGE] = None
    place: Optional[Place] = None
    minStockLevel: Optional[Quantity] = None
    maxStockLevel: Optional[Quantity] = None
    reorderQuantity: Optional[Quantity] = None
    stockLevelAlert: Optional[Quantity] = None
    channel: Optional[list[Ref]] = Field(default=None, max_length=20)
    relatedParty: Optional[list[RelatedParty]] = Field(default=None, max_length=20)


class ProductStockCreate(_StockFields):
    productStockLevel: Quantity
    productStockStatusType: STOCK_STATUS
    stockedProduct: StockedProduct


class ProductStockPatch(_StockFields):
    productStockLevel: Optional[Quantity] = None
    productStockStatusType: Optional[STOCK_STATUS] = None
    stockedProduct: Optional[StockedProduct] = None


class ReserveItem(Tmf):
    id: str = Field(min_length=1, max_length=64)
    quantityRequested: Requested
    productStockRequested: Optional[Ref] = None
    requestedProduct: Optional[StockedProduct] = None


class ReserveProductStockCreate(Tmf):
    reserveProductStockItem: list[ReserveItem] = Field(min_length=1, max_length=MAX_ITEMS)
    place: Optional[Place] = None
    relatedParty: Optional[list[RelatedParty]] = Field(default=None, max_length=20)
    relatedEntity: Optional[list[Ref]] = Field(default=None, max_length=20)
    requiredAvailabilityDate: Optional[str] = Field(default=None, max_length=64)
    validFor: Optional[TimePeriod] = None


class ReservationPatch(Tmf):
    """The one change a reservation takes (an Omnishop extension): release what it holds."""
    status: Literal["released"]
