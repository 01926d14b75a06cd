"""Payload models for TMF637 products (pydantic). TMF entities are extensible, so unknown
attributes are kept; known ones must have the right type and size."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from chalicelib.customer.schemas import Characteristic
from chalicelib.schemas import Ref, RelatedParty, Text, TimePeriod, Tmf

STATUS = Literal["created", "pendingActive", "active", "suspended", "pendingTerminate", "terminated"]
Many = Field(default=None, max_length=50)


class Money(Tmf):
    unit: str = Field(min_length=1, max_length=10)
    value: StrictFloat | StrictInt


class Price(Tmf):
    taxIncludedAmount: Optional[Money] = None
    dutyFreeAmount: Optional[Money] = None
    percentage: Optional[StrictFloat | StrictInt] = None
    taxRate: Optional[StrictFloat | StrictInt] = None


class PriceAlteration(Tmf):
    priceType: str = Field(min_length=1, max_length=50)
    price: Price
    name: Optional[str] = Text
    applicationDuration: Optional[StrictInt] = Field(default=None, ge=0, le=1200)
    recurringChargePeriod: Optional[str] = Field(default=None, max_length=50)
    validFor: Optional[TimePeriod] = None


class ProductPrice(Tmf):
    priceType: str = Field(min_length=1, max_length=50)
    price: Price
    name: Optional[str] = Text
    recurringChargePeriod: Optional[str] = Field(default=None, max_length=50)
    productOfferingPrice: Optional[Ref] = None
    productPriceAlteration: Optional[list[PriceAlteration]] = Field(default=None, max_length=20)


class Quantity(Tmf):
    amount: StrictFloat | StrictInt
    units: str = Field(min_length=1, max_length=50)


class ProductTerm(Tmf):
    name: Optional[str] = Text
    description: Optional[str] = Text
    duration: Optional[Quantity] = None
    validFor: Optional[TimePeriod] = None


class Place(Tmf):
    role: str = Field(min_length=1, max_length=100)
    id: Optional[str] = Field(default=None, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
    name: Optional[str] = Text


class ProductRelationship(Tmf):
    relationshipType: str = Field(min_length=1, max_length=100)
    product: Ref


class PartyRef(RelatedParty):
    referredType: str = Field(alias="@referredType", min_length=1, max_length=100)


class OrderItemRef(Tmf):
    orderItemId: str = Field(min_length=1, max_length=256)
    productOrderId: str = Field(min_length=1, max_length=256)
    orderItemAction: Optional[str] = Field(default=None, max_length=50)


class Product(Tmf):
    """A product as stored and answered (after the server's defaults are applied)."""
    name: Optional[str] = Field(default=None, max_length=256)
    description: Optional[str] = Field(default=None, max_length=4000)
    status: STATUS
    isBundle: Optional[StrictBool] = None
    isCustomerVisible: Optional[StrictBool] = None
    productSerialNumber: Optional[str] = Field(default=None, max_length=256)
    orderDate: Optional[str] = None
    startDate: Optional[str] = None
    terminationDate: Optional[str] = None
    productOffering: Optional[Ref] = None
    productSpecification: Optional[Ref] = None
    billingAccount: Ref
    productCharacteristic: list[Characteristic] = Field(max_length=100)
    productPrice: list[ProductPrice] = Field(max_length=20)
    productTerm: Optional[list[ProductTerm]] = Many
    relatedParty: list[PartyRef] = Field(min_length=1, max_length=20)
    place: Optional[list[Place]] = Many
    productRelationship: Optional[list[ProductRelationship]] = Field(default=None, max_length=100)
    productOrderItem: Optional[list[OrderItemRef]] = Field(default=None, max_length=200)
    agreement: Optional[list[Ref]] = Many
    realizingService: Optional[list[Ref]] = Many
    realizingResource: Optional[list[Ref]] = Many
