"""Payload models for TMF648 quote (pydantic). TMF entities are extensible, so unknown attributes
are kept; known ones must have the right type and size. Beyond TMF648 (docs/decisions.md):
`shoppingCart` (quote a basket instead of listing items), `discount` on the quote and its items
(an agreed discount an agent proposes: {"percentage": 15}), `itemTerm` on an item (a contract term
other than the offering's), and on a PATCH `stateReason` (why it was approved or rejected) and
`version` (the version the customer accepts)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictInt, model_validator

from chalicelib.quote.domain import MAX_ITEMS, MAX_QUANTITY, STATES
from chalicelib.schemas import Ref, RelatedParty, Text, TimePeriod, Tmf

STATE = Literal[STATES]  # type: ignore[valid-type]


class Discount(Tmf):
    percentage: float = Field(gt=0, le=100)
    description: Optional[str] = Text


class Duration(Tmf):
    amount: StrictInt = Field(ge=1, le=120)
    units: Literal["month", "months", "year", "years"] = "month"


class Term(Tmf):
    name: Optional[str] = Field(default=None, max_length=100)
    duration: Duration


class QuoteItemIn(Tmf):
    id: Optional[str] = Field(default=None, min_length=1, max_length=64)
    action: Literal["add"] = "add"
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)
    productOffering: Ref
    product: Optional[dict] = None
    discount: Optional[Discount] = None
    itemTerm: Optional[list[Term]] = Field(default=None, max_length=1)


class _QuoteFields(Tmf):
    description: Optional[str] = Field(default=None, max_length=4000)
    category: Optional[str] = Field(default=None, max_length=100)
    externalId: Optional[str] = Field(default=None, max_length=256)
    quoteItem: Optional[list[QuoteItemIn]] = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    discount: Optional[Discount] = None
    validFor: Optional[TimePeriod] = None


class Quote(_QuoteFields):
    """Quote_Create: items listed (`quoteItem`) or a basket to quote (`shoppingCart`)."""
    relatedParty: Optional[list[RelatedParty]] = Field(default=None, max_length=20)
    shoppingCart: Optional[Ref] = None

    @model_validator(mode="after")
    def items_or_basket(self) -> "Quote":
        if (self.quoteItem is None) == (self.shoppingCart is None):
            raise ValueError("a quote lists quoteItem or names a shoppingCart to quote, one of the two")
        return self


class QuotePatch(_QuoteFields):
    """A change (items, discounts, validity: a sent quote becomes a new version) or a move of its
    state (with `stateReason`; `version` when the customer accepts)."""
    state: Optional[STATE] = None
    stateReason: Optional[str] = Field(default=None, min_length=1, max_length=1000)
    version: Optional[str] = Field(default=None, max_length=20)
