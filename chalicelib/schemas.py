"""The pydantic building blocks every TMF payload model shares. TMF entities are extensible, so
unknown attributes are kept; known ones must have the right type."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

Text = Field(default=None, max_length=1000)


def _is_text_attribute(key: Any) -> bool:
    """Attributes every TMF schema types as a string: id, href and the @ attributes."""
    return isinstance(key, str) and (key.startswith("@") or key in ("id", "href"))


def _meta_not_text(value: Any, where: str) -> str | None:
    """Where, in kept unknown attributes, an id, href or @ attribute (@type, ...) is not text."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_text_attribute(key) and not isinstance(item, str):
                return f"{where}.{key}"
            found = _meta_not_text(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _meta_not_text(item, f"{where}[{index}]")
            if found:
                return found
    return None


class Tmf(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def meta_attributes_are_text(self) -> "Tmf":
        # Unknown attributes are kept and served back as they came: their ids, hrefs, @type,
        # @baseType, @schemaLocation and @referredType must still be strings, as every TMF schema says.
        found = _meta_not_text(self.model_extra or {}, "")
        if found:
            raise ValueError(f"{found.lstrip('.')} must be a string")
        return self


class TimePeriod(Tmf):
    startDateTime: Optional[str] = None
    endDateTime: Optional[str] = None


class Ref(Tmf):
    id: str = Field(min_length=1, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
    name: Optional[str] = Text


class RelatedParty(Ref):
    role: Optional[str] = Field(default=None, max_length=100)
    referredType: Optional[str] = Field(default=None, alias="@referredType", max_length=100)


class MediumCharacteristic(Tmf):
    """How to reach a party through one contact medium (TMF629's and TMF663's MediumCharacteristic)."""
    phoneNumber: Optional[str] = Field(default=None, max_length=64)
    faxNumber: Optional[str] = Field(default=None, max_length=64)
    emailAddress: Optional[str] = Field(default=None, max_length=254)
    contactType: Optional[str] = Field(default=None, max_length=100)
    street1: Optional[str] = Text
    street2: Optional[str] = Text
    city: Optional[str] = Field(default=None, max_length=200)
    postCode: Optional[str] = Field(default=None, max_length=20)
    stateOrProvince: Optional[str] = Field(default=None, max_length=200)
    country: Optional[str] = Field(default=None, max_length=100)
    socialNetworkId: Optional[str] = Field(default=None, max_length=256)


class ContactMedium(Tmf):
    """A TMF ContactMedium (TMF663's, TMF646's): every attribute optional, each of its type. An
    entity echoes its contact media back, and the spec types what it echoes (a fuzz find: a
    basket took a list as stateOrProvince, which the spec makes a string, and answered 201
    echoing it)."""
    mediumType: Optional[str] = Field(default=None, max_length=64)
    preferred: Optional[StrictBool] = None
    characteristic: Optional[MediumCharacteristic] = None
    validFor: Optional[TimePeriod] = None


class Note(Tmf):
    """A TMF Note (orders, customers, appointments): author, date and text are strings."""
    author: Optional[str] = Field(default=None, max_length=200)
    date: Optional[str] = Field(default=None, max_length=64)
    text: Optional[str] = None


class ChannelRef(Tmf):
    """A TMF ChannelRef (interactions, orders): the channel's id, and its name."""
    id: str = Field(min_length=1, max_length=256)
    name: Optional[str] = Field(default=None, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
