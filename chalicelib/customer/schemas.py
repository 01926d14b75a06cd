"""Payload models for TMF629 customers and TMF683 party interactions (pydantic).
TMF entities are extensible, so unknown attributes are kept; known ones must have the right type.
Contact data (phone numbers, emails) is checked by domain.py, which never echoes it back."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, StrictFloat, model_validator

from chalicelib.schemas import ContactMedium as AnyContactMedium
from chalicelib.schemas import ChannelRef, MediumCharacteristic, Note, Ref, RelatedParty, Text, TimePeriod, Tmf

PARTY_TYPES = Literal["Individual", "Organization"]
MEDIUM_TYPES = Literal["mobile", "phone", "fax", "email", "postalAddress", "socialNetwork"]
INTERACTION_STATUS = Literal["opened", "inProgress", "completed"]

IDENTIFIER = r"^[A-Za-z0-9._:-]{1,128}$"   # journey keys and visitor ids


class ContactMedium(AnyContactMedium):
    """A customer's: its type one Omnishop reaches, its characteristic given."""
    mediumType: MEDIUM_TYPES
    characteristic: MediumCharacteristic


class Contact(RelatedParty):
    """A related party of an organisation (role `contact`), with its own contact media."""
    contactMedium: list[ContactMedium] = Field(default=[], max_length=10)


class Site(Tmf):
    """A place of a business customer (an Omnishop extension of TMF629: the organisation's sites,
    where its products are installed or delivered); items name one by id (`place`)."""
    id: str = Field(pattern=IDENTIFIER)
    name: str = Field(min_length=1, max_length=256)
    street1: Optional[str] = Text
    street2: Optional[str] = Text
    city: Optional[str] = Field(default=None, max_length=200)
    postCode: Optional[str] = Field(default=None, max_length=20)
    country: Optional[str] = Field(default=None, max_length=100)


class Characteristic(Tmf):
    name: str = Field(min_length=1, max_length=200)
    value: object
    valueType: Optional[str] = Field(default=None, max_length=100)


class AccountRef(Tmf):
    id: Optional[str] = Field(default=None, max_length=256)
    href: Optional[str] = Field(default=None, max_length=2048)
    name: str = Field(min_length=1, max_length=256)


class QuietHours(Tmf):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timeZone: str = Field(min_length=1, max_length=64)


class ContactPreference(Tmf):
    # {"sms": {"service": true, "marketing": false}, ...}: channels and purposes are checked in domain.py
    consent: dict[str, dict[str, StrictBool]] = {}
    quietHours: Optional[QuietHours] = None
    preferredChannel: Optional[str] = None


class EngagedParty(RelatedParty):
    # TMF629 requires it: whether the customer is an Individual or an Organization.
    referredType: str = Field(alias="@referredType", min_length=1, max_length=100)


class CreditDeposit(Tmf):
    """The deposit an approveWithDeposit decision asks per contract or financed item."""
    perItem: StrictFloat = Field(ge=0, le=100000, allow_inf_nan=False)
    unit: str = Field(pattern=r"^[A-Z]{3}$")


class CreditProfile(Tmf):
    """TMF629 requires the date and the validity; `decision` and what it allows are Omnishop's
    (the names are chalicelib/credit/domain.py DECISIONS), reused by checkout while valid."""
    creditProfileDate: str = Field(min_length=1, max_length=64)
    validFor: TimePeriod
    creditScore: Optional[int] = None
    creditRiskRating: Optional[int] = None
    decision: Optional[Literal["approve", "approveWithDeposit", "lineLimit", "refuse"]] = None
    lineLimit: Optional[int] = Field(default=None, ge=0)
    deposit: Optional[CreditDeposit] = None   # what approveWithDeposit charges per item checked

    @model_validator(mode="after")
    def a_deposit_decision_names_its_deposit(self) -> "CreditProfile":
        if self.decision == "approveWithDeposit" and self.deposit is None:
            raise ValueError("an approveWithDeposit decision needs its deposit: {perItem, unit}")
        return self


class Customer(Tmf):
    name: str = Field(min_length=1, max_length=256)
    engagedParty: EngagedParty
    status: Optional[str] = Field(default=None, max_length=50)
    statusReason: Optional[str] = Text
    account: list[AccountRef] = Field(default=[], max_length=50)
    agreement: list[Ref] = Field(default=[], max_length=50)
    characteristic: list[Characteristic] = Field(default=[], max_length=100)
    contactMedium: list[ContactMedium] = Field(default=[], max_length=20)
    creditProfile: list[CreditProfile] = Field(default=[], max_length=20)
    paymentMethod: list[Ref] = Field(default=[], max_length=20)
    relatedParty: list[Contact] = Field(default=[], max_length=50)
    site: list[Site] = Field(default=[], max_length=500)
    validFor: Optional[TimePeriod] = None
    contactPreference: Optional[ContactPreference] = None


class InteractionItem(Tmf):
    id: Optional[str] = Field(default=None, max_length=256)
    item: Optional[RelatedParty] = None  # a reference to a basket, order, campaign, message...
    reason: Optional[str] = Text


class PartyInteraction(Tmf):
    reason: str = Field(min_length=1, max_length=1000)
    direction: str = Field(min_length=1, max_length=50)
    description: Optional[str] = Field(default=None, max_length=4000)
    status: Optional[INTERACTION_STATUS] = None
    channel: list[ChannelRef] = Field(min_length=1, max_length=10)
    interactionDate: Optional[TimePeriod] = None
    interactionItem: list[InteractionItem] = Field(default=[], max_length=50)
    interactionRelationship: list[Ref] = Field(default=[], max_length=50)
    relatedParty: list[RelatedParty] = Field(default=[], max_length=20)
    note: list[Note] = Field(default=[], max_length=50)
    journeyKey: Optional[str] = Field(default=None, pattern=IDENTIFIER)


class IdentityLink(Tmf):
    visitorId: str = Field(pattern=IDENTIFIER)
