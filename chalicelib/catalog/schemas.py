"""Payload models for TMF620 resources (pydantic). TMF entities are extensible, so unknown
attributes are kept; known ones must have the right type and, for enums, a known value."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, field_validator

from chalicelib.schemas import ChannelRef, Ref, RelatedParty, TimePeriod, Tmf

LIFECYCLE = Literal["inStudy", "inDesign", "inTest", "active", "launched", "retired", "obsolete", "rejected"]
PRICE_TYPES = Literal["recurring", "oneTime", "usage", "discount", "allowance", "penalty"]
PERIODS = Literal["day", "week", "month", "year"]
JOB_STATUS = Literal["Not Started", "Running", "Succeeded", "Failed"]  # TMF620 JobStateType


class Quantity(Tmf):
    amount: float = Field(gt=0)
    units: PERIODS


class Term(Tmf):
    name: Optional[str] = None
    duration: Optional[Quantity] = None


class Money(Tmf):
    unit: str = Field(pattern=r"^[A-Z]{3}$")
    value: float = Field(ge=0)


class TargetSchema(Tmf):
    schemaLocation: str = Field(alias="@schemaLocation", min_length=1, max_length=2048)
    type: str = Field(alias="@type", min_length=1, max_length=100)


class SpecificationRef(Ref):
    targetProductSchema: Optional[TargetSchema] = None


class ServiceSpecificationRef(Ref):
    targetServiceSchema: Optional[TargetSchema] = None


class CharValueUse(Tmf):
    productSpecification: Optional[SpecificationRef] = None


class CatalogParty(RelatedParty):
    # TMF620's RelatedParty requires @referredType (the customer APIs' does not).
    referredType: str = Field(alias="@referredType", min_length=1, max_length=100)


class PopRelationship(Ref):
    relationshipType: Optional[str] = None


class Entity(Tmf):
    name: str = Field(min_length=1, max_length=256)
    description: Optional[str] = None
    lifecycleStatus: Optional[LIFECYCLE] = None
    validFor: Optional[TimePeriod] = None
    version: Optional[str] = None

    @field_validator("name")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class Catalog(Entity):
    catalogType: Optional[str] = None
    category: list[Ref] = []
    relatedParty: list[CatalogParty] = []


class Category(Entity):
    isRoot: Optional[StrictBool] = None
    parentId: Optional[str] = None
    productOffering: list[Ref] = []
    subCategory: list[Ref] = []


class ProductSpecification(Entity):
    brand: Optional[str] = None
    isBundle: Optional[StrictBool] = None
    productNumber: Optional[str] = None
    bundledProductSpecification: list[Ref] = []
    relatedParty: list[CatalogParty] = []
    productSpecCharacteristic: list[Tmf] = []
    resourceSpecification: list[Ref] = []
    serviceSpecification: list[ServiceSpecificationRef] = []
    targetProductSchema: Optional[TargetSchema] = None


class ProductOfferingPrice(Entity):
    isBundle: Optional[StrictBool] = None
    priceType: Optional[PRICE_TYPES] = None
    price: Optional[Money] = None
    percentage: Optional[float] = Field(default=None, ge=0, le=100)
    recurringChargePeriodType: Optional[PERIODS] = None
    recurringChargePeriodLength: Optional[int] = Field(default=None, ge=1)
    popRelationship: list[PopRelationship] = []
    bundledPopRelationship: list[Ref] = []
    productOfferingTerm: list[Term] = []
    constraint: list[Ref] = []
    place: list[Ref] = []
    prodSpecCharValueUse: list[CharValueUse] = []
    # Our extension (TMF620 v4 prices have no channel): the channels the price applies in, as an
    # offering's channel list; none: every channel (chalicelib/basket/pricing.py prices_for).
    channel: list[ChannelRef] = []
    # Our extension too: the market segments the price is for, as an offering's marketSegment
    # (a business price); none: every segment.
    marketSegment: list[Ref] = []


class BundledOffering(Ref):
    lifecycleStatus: Optional[str] = None


class ProductOffering(Entity):
    isBundle: Optional[StrictBool] = None
    isSellable: Optional[StrictBool] = None
    statusReason: Optional[str] = None
    bundledProductOffering: list[BundledOffering] = []
    category: list[Ref] = []
    channel: list[ChannelRef] = []
    marketSegment: list[Ref] = []
    productOfferingPrice: list[Ref] = []
    productOfferingTerm: list[Term] = []
    productSpecification: Optional[SpecificationRef] = None
    agreement: list[Ref] = []
    place: list[Ref] = []
    prodSpecCharValueUse: list[CharValueUse] = []
    resourceCandidate: Optional[Ref] = None
    serviceCandidate: Optional[Ref] = None
    serviceLevelAgreement: Optional[Ref] = None


class CategoryMapping(Tmf):
    """Our extension of ImportJob: which of our categories an imported offering goes in. With
    partnerCategoryId: instead of that partner category; without: when it has no category."""
    partnerCategoryId: Optional[str] = Field(default=None, min_length=1, max_length=256)
    category: Ref


class ImportJob(Tmf):
    url: str = Field(min_length=1)
    contentType: Optional[str] = None
    path: Optional[str] = None
    categoryMapping: list[CategoryMapping] = Field(default=[], max_length=500)


class ExportJob(Tmf):
    url: Optional[str] = None
    contentType: Optional[str] = None
    path: Optional[str] = None
    query: Optional[str] = None
