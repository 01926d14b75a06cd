"""Payload models for TMF681 communicationMessage (pydantic). TMF entities are extensible, so
unknown attributes are kept; known ones must have the right type. Addresses (phone numbers,
emails) are checked by domain.py, which never echoes them back."""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chalicelib.schemas import RelatedParty, Text, Tmf

STATES = Literal["initial", "inProgress", "completed", "cancelled", "failed"]


class Receiver(Tmf):
    id: Optional[str] = Field(default=None, max_length=256)
    name: Optional[str] = Text
    phoneNumber: Optional[str] = Field(default=None, max_length=64)
    email: Optional[str] = Field(default=None, max_length=254)
    appUserId: Optional[str] = Field(default=None, max_length=256)
    ip: Optional[str] = Field(default=None, max_length=64)
    party: Optional[RelatedParty] = None


class Sender(Tmf):
    id: Optional[str] = Field(default=None, max_length=256)
    name: Optional[str] = Text
    phoneNumber: Optional[str] = Field(default=None, max_length=64)
    email: Optional[str] = Field(default=None, max_length=254)
    party: Optional[RelatedParty] = None


class Characteristic(Tmf):
    name: str = Field(min_length=1, max_length=200)
    value: object = None


class CommunicationMessage(Tmf):
    """POST body. One receiver per message: each receiver has its own consent and outcome."""
    content: str = Field(min_length=1, max_length=20000)
    messageType: str = Field(min_length=1, max_length=50)
    receiver: list[Receiver] = Field(min_length=1, max_length=1)
    sender: Optional[Sender] = None
    subject: Optional[str] = Field(default=None, max_length=200)
    description: Optional[str] = Text
    priority: Optional[str] = Field(default=None, max_length=20)
    logFlag: Optional[StrictBool] = None
    scheduledSendTime: Optional[str] = Field(default=None, max_length=64)
    tryTimes: Optional[int] = Field(default=None, ge=1, le=10)
    characteristic: list[Characteristic] = Field(default=[], max_length=20)
    state: Optional[STATES] = None


class CommunicationMessagePatch(Tmf):
    """PATCH body: a message not yet sent can be cancelled; notes can always be changed."""
    state: Optional[Literal["cancelled"]] = None
    description: Optional[str] = Text
    characteristic: Optional[list[Characteristic]] = Field(default=None, max_length=20)
    logFlag: Optional[StrictBool] = None


class SendTask(BaseModel):
    """The notify-send task's input (functions/notify_send.py), checked before anything is read
    or written: a poison input fails the task as `Invalid`, naming what is wrong (never retried)."""
    model_config = ConfigDict(extra="ignore", defer_build=True)   # a workflow may pass more

    messageId: str = Field(min_length=1, max_length=256)
    customerId: Optional[str] = Field(default=None, min_length=1, max_length=256)
    purpose: str = Field(default="service", min_length=1, max_length=50)
    content: Union[str, dict[str, str]]
    subject: Optional[str] = Field(default=None, max_length=200)
    fields: Optional[dict[str, Any]] = None
    channels: Optional[list[str]] = Field(default=None, max_length=5)
    journeyKey: Optional[str] = Field(default=None, max_length=256)
    related: Optional[list[dict[str, Any]]] = Field(default=None, max_length=20)
    notBefore: Optional[str] = Field(default=None, max_length=64)
    reason: Optional[str] = Field(default=None, max_length=500)
