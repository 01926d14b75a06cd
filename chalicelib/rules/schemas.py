"""Payload models for qualification rules and TMF679 productOfferingQualification requests
(pydantic). TMF entities are extensible: unknown attributes are kept."""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import Field, StrictBool, field_validator, model_validator

from chalicelib.schemas import Ref, Tmf

RULE_TYPES = Literal["channel", "eligibility", "requires", "excludes", "upgrade", "serviceability", "bundlePrice"]
RULE_STATUS = Literal["active", "retired"]


class QualificationRule(Tmf):
    """One rule. Every type names the offerings it is about in `productOffering`, except
    bundlePrice, which names its bundle offering in `bundle`."""
    name: str = Field(min_length=1, max_length=256)
    description: Optional[str] = None
    ruleType: RULE_TYPES
    lifecycleStatus: RULE_STATUS = "active"
    productOffering: list[Ref] = []
    channel: list[str] = []            # channel: sold only in these channels
    marketSegment: list[str] = []      # eligibility: for these segments only
    customerType: list[Literal["individual", "organization"]] = []  # eligibility
    requires: list[Ref] = []           # requires: one of these in the basket or held
    excludes: list[Ref] = []           # excludes: none of these in the basket
    upgradeFrom: list[Ref] = []        # upgrade: holders of these must be near contract end
    withinDays: int = Field(default=60, ge=0, le=3650)
    technology: list[str] = []         # serviceability: one of these at the address
    bundle: Optional[Ref] = None       # bundlePrice: parts bought apart are priced as this bundle
    message: Optional[str] = Field(default=None, max_length=500)  # the reason shown when it fails


class QualificationItem(Tmf):
    """What to qualify: an offering, or a category (which of its offerings can be sold)."""
    id: str = Field(min_length=1, max_length=64)
    productOffering: Optional[Ref] = None
    category: Optional[Ref] = None

    @model_validator(mode="after")
    def _one_subject(self) -> "QualificationItem":
        if (self.productOffering is None) == (self.category is None):
            raise ValueError("names either a productOffering or a category")
        return self


def _date_time(value: Optional[str]) -> Optional[str]:
    if value is not None:
        if "T" not in value:
            raise ValueError("must be a date-time (ISO 8601, e.g. 2026-01-31T12:00:00Z)")
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


class Place(Tmf):
    postCode: Optional[str] = Field(default=None, max_length=16)


class ProductOfferingQualification(Tmf):
    productOfferingQualificationItem: list[QualificationItem] = Field(min_length=1, max_length=50)
    place: list[Place] = []
    relatedParty: list[Ref] = []
    channel: Optional[Ref] = None
    description: Optional[str] = Field(default=None, max_length=1000)
    expectedQualificationDate: Optional[str] = Field(default=None, max_length=40)
    provideAlternative: Optional[StrictBool] = None        # strict: "false" must not read as true later
    provideOnlyAvailable: Optional[StrictBool] = None
    provideUnavailabilityReason: Optional[StrictBool] = None

    _dates = field_validator("expectedQualificationDate")(_date_time)

    @field_validator("productOfferingQualificationItem")
    @classmethod
    def _unique_ids(cls, items: list[QualificationItem]) -> list[QualificationItem]:
        if len({i.id for i in items}) != len(items):
            raise ValueError("item ids must be unique")
        return items

