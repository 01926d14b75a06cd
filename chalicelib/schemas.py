"""The pydantic building blocks every TMF payload model shares. TMF entities are extensible, so
unknown attributes are kept; known ones must have the right type."""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

Text = Field(default=None, max_length=1000)


class Tmf(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


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
