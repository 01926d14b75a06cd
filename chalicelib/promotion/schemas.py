"""Payload models for TMF671 promotions (pydantic). TMF entities are extensible: unknown attributes
are kept; known ones must have the right type and size. The criteria parameters and action types
are those the evaluator knows (chalicelib/promotion/evaluator.py, a test holds them equal):
anything else is a 400.

Extensions to TMF671 v4 (additive): `exclusiveGroup` on the promotion; `priceType` and
`applicationDuration` (months) on an action; the lifecycle inDesign -> active -> retired."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, StrictInt, StrictStr, field_validator

from chalicelib.schemas import Ref, TimePeriod, Tmf

STATUS = Literal["inDesign", "active", "retired"]
PARAMETER = Literal["channel", "customerSegment", "customerStatus", "campaignCode", "productHeld",
                    "basketOffering", "basketCategory"]
ACTION = Literal["percentageOff", "amountOff", "freeMonths", "freeItem"]
MAX_LIST = 20
MAX_MONTHS = 120
Name = Field(min_length=1, max_length=256)


class Criteria(Tmf):
    criteriaParameter: PARAMETER
    criteriaOperator: Literal["=", "<>"] = "="
    criteriaValue: StrictStr = Field(min_length=1, max_length=256)


class CriteriaGroup(Tmf):
    groupName: Optional[str] = Field(default=None, max_length=256)
    criteriaLogicalRelationship: Optional[Literal["AND", "OR"]] = None
    criteria: list[Criteria] = Field(min_length=1, max_length=MAX_LIST)


class Action(Tmf):
    actionType: ACTION
    actionValue: Optional[Union[StrictStr, StrictInt, float]] = None
    actionEntityRef: Optional[Ref] = None
    priceType: Optional[Literal["recurring", "oneTime"]] = None
    applicationDuration: Optional[StrictInt] = Field(default=None, ge=1, le=MAX_MONTHS)

    @field_validator("actionValue")
    @classmethod
    def numeric(cls, value: object) -> object:
        if value is None:
            return value
        try:
            number = float(str(value))
        except ValueError:
            raise ValueError("actionValue must be a number (given as a string, as TMF671 types it)") from None
        if not number == number or number in (float("inf"), float("-inf")):
            raise ValueError("actionValue must be a finite number")
        return value


class Pattern(Tmf):
    name: Optional[str] = Field(default=None, max_length=256)
    description: Optional[str] = Field(default=None, max_length=2000)
    priority: Optional[StrictInt] = Field(default=None, ge=0, le=1_000_000)
    criteriaGroupLogicalRelationship: Optional[Literal["AND", "OR"]] = None
    criteriaGroup: list[CriteriaGroup] = Field(min_length=1, max_length=MAX_LIST)
    action: list[Action] = Field(min_length=1, max_length=MAX_LIST)
    validFor: Optional[TimePeriod] = None


class _Fields(Tmf):
    description: Optional[str] = Field(default=None, max_length=2000)
    promotionType: Optional[str] = Field(default=None, max_length=64)
    lifecycleStatus: Optional[STATUS] = None
    validFor: Optional[TimePeriod] = None
    exclusiveGroup: Optional[str] = Field(default=None, min_length=1, max_length=64)


class PromotionCreate(_Fields):
    name: str = Name
    pattern: list[Pattern] = Field(min_length=1, max_length=MAX_LIST)


class PromotionPatch(_Fields):
    name: Optional[str] = Field(default=None, min_length=1, max_length=256)
    pattern: Optional[list[Pattern]] = Field(default=None, min_length=1, max_length=MAX_LIST)

