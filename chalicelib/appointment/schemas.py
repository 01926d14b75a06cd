"""Payload models for TMF646 appointment and searchTimeSlot (pydantic). TMF entities are
extensible, so unknown attributes are kept; known ones must have the right type and size.
Required fields are the v4.0.0 swagger's (Appointment_Create: validFor)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from chalicelib.schemas import ContactMedium, Note, Ref, RelatedParty, Text, TimePeriod, Tmf


class Place(Tmf):
    """RelatedPlaceRefOrValue: here the installation address, named by its postcode (`id`)."""
    role: str = Field(min_length=1, max_length=100)
    id: Optional[str] = Field(default=None, max_length=16)
    name: Optional[str] = Text


class Entity(Ref):
    role: str = Field(min_length=1, max_length=100)


class TimeSlot(Tmf):
    validFor: TimePeriod


class SearchTimeSlotCreate(Tmf):
    relatedPlace: Optional[Place] = None
    relatedParty: Optional[RelatedParty] = None
    relatedEntity: Optional[list[Entity]] = Field(default=None, max_length=20)
    requestedTimeSlot: Optional[list[TimeSlot]] = Field(default=None, max_length=10)


class _Fields(Tmf):
    category: Optional[str] = Field(default=None, max_length=100)
    description: Optional[str] = Field(default=None, max_length=4000)
    externalId: Optional[str] = Field(default=None, max_length=256)
    relatedPlace: Optional[Place] = None
    relatedParty: Optional[list[RelatedParty]] = Field(default=None, max_length=20)
    relatedEntity: Optional[list[Entity]] = Field(default=None, max_length=20)
    contactMedium: Optional[list[ContactMedium]] = Field(default=None, max_length=10)
    note: Optional[list[Note]] = Field(default=None, max_length=20)


class AppointmentCreate(_Fields):
    validFor: TimePeriod


class AppointmentPatch(Tmf):
    """The changes an appointment takes: a new slot (reschedule) or cancellation."""
    validFor: Optional[TimePeriod] = None
    status: Optional[Literal["cancelled"]] = None
