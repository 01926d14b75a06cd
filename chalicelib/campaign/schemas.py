"""Payload models for campaigns and TMF680 queryProductRecommendation (pydantic). TMF entities are
extensible: unknown attributes are kept; known ones must have the right type. A campaign follows
TMF671 Promotion where it has an equivalent (name, description, lifecycleStatus, validFor, a
productOffering reference, channel references)."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field

from chalicelib import schemas
from chalicelib.schemas import Ref, RelatedParty, TimePeriod, Tmf

STATUS = Literal["active", "suspended", "retired"]


class Rule(Tmf):
    attribute: str = Field(min_length=1, max_length=64)
    operator: Optional[str] = Field(default=None, max_length=16)
    value: Any = None


class TargetSegment(Tmf):
    rule: list[Rule] = Field(default=[], max_length=20)


class ChannelRef(schemas.ChannelRef):
    """A campaign's channel: one it sends through."""
    id: Literal["sms", "email", "social"]


class Schedule(Tmf):
    at: Optional[str] = Field(default=None, max_length=40)
    cron: Optional[str] = Field(default=None, max_length=200)


class Campaign(Tmf):
    name: str = Field(min_length=1, max_length=256)
    description: Optional[str] = Field(default=None, max_length=2000)
    lifecycleStatus: STATUS = "active"
    productOffering: Ref
    targetSegment: TargetSegment
    channel: list[ChannelRef] = Field(min_length=1, max_length=3)
    messageTemplate: dict[str, str]
    schedule: Optional[Schedule] = None
    validFor: Optional[TimePeriod] = None
    # The TMF671 promotion the campaign's customers get (chalicelib/promotion), instead of a price of its own.
    promotion: Optional[Ref] = None


class CartRef(Tmf):
    id: str = Field(min_length=1, max_length=256)


class QueryProductRecommendation(Tmf):
    """POST body: the customer (relatedParty, one), the channel, optionally a shopping cart."""
    relatedParty: Optional[RelatedParty | list[RelatedParty]] = None
    channel: list[Ref] = Field(default=[], max_length=1)
    shoppingCart: list[CartRef] = Field(default=[], max_length=1)
    instantSyncRecommendation: Optional[bool] = None
