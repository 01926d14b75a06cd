"""Notification rules as plain functions over plain values: which channel a message goes
through (consent, contact medium and quiet hours are the customer context's rules), templates
with a fixed set of personal fields, and the TMF681 communicationMessage document.

Messages never echo a phone number or an email address: they say where the problem is.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import string
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import deferred, settings, tmf
from chalicelib.errors import ApiError, Unprocessable, bad_request

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.notify.schemas")
if TYPE_CHECKING:
    from chalicelib.customer import domain as customer_rules
else:   # by the first message planned or checked: the notify stream publishes without it (cold start)
    customer_rules = deferred.module("chalicelib.customer.domain")

API_ROOT = "/tmf-api/communicationManagement/v4"
API_NAME = "communicationManagement"
MESSAGE_TYPE = "CommunicationMessage"

# TMF681 messageType per channel (and the spellings accepted on input).
MESSAGE_TYPES = {"sms": "SMS", "email": "Email"}
CHANNEL_OF_TYPE = {"sms": "sms", "email": "email", "e-mail": "email"}
CHANNELS = tuple(MESSAGE_TYPES)
DEFAULT_CHANNELS = ("sms", "email")   # SMS when it may be used, else email

INITIAL, IN_PROGRESS, COMPLETED, CANCELLED, FAILED = "initial", "inProgress", "completed", "cancelled", "failed"
FINISHED = (COMPLETED, CANCELLED)

# The personal fields a template may use; anything else in braces is refused.
PERSONAL_FIELDS = ("firstName", "name", "offerName", "link", "orderId", "status", "basketId",
                   "campaignCode", "amount", "date", "agentName")
SMS_MAX_CHARS = 1600
EMAIL_MAX_CHARS = 100_000
DEFAULT_SUBJECT = "A message from Omnishop"
PLATFORM_SENDER = "omnishop"
SERVER_OWNED = ("id", "href", "@type", "state", "sendTime", "sendTimeComplete", "creationDate", "lastUpdate",
                "stateReason")


class TemplateError(ApiError):
    """A template names a field outside PERSONAL_FIELDS, or one with no value (400)."""

    def __init__(self, message: str):
        super().__init__(400, "Bad Request", message, "invalidTemplate")


# --- templates --------------------------------------------------------------------------------
def template_fields(template: str) -> list[str]:
    """The `{field}` names a template uses (`{{` and `}}` are literal braces)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"the template is malformed: {exc}") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise TemplateError(f"template fields are plain names like {{firstName}}, not {{{name}...}}")
        names.append(name)
    return names


def check_template(template: str) -> list[str]:
    """Raise TemplateError when the template uses a field outside PERSONAL_FIELDS."""
    names = template_fields(template)
    unknown = sorted(set(names) - set(PERSONAL_FIELDS))
    if unknown:
        raise TemplateError(f"unknown template field(s) {', '.join(unknown)}; "
                            f"the fields are {', '.join(PERSONAL_FIELDS)}")
    return names


def render(template: str, values: Mapping[str, Any]) -> str:
    """The template with every field replaced by its value; TemplateError if one has none."""
    out = []
    check_template(template)
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            if values.get(name) in (None, ""):
                raise TemplateError(f"the template uses {{{name}}} but no value was given for it")
            out.append(str(values[name]))
    return "".join(out)


def first_name(customer: Mapping[str, Any] | None) -> str | None:
    if not customer:
        return None
    party = customer.get("engagedParty") or {}
    if party.get("@referredType") == "Organization":
        return None
    name = str(customer.get("name") or party.get("name") or "").strip()
    return name.split()[0] if name else None


CUSTOMER_FIELDS = ("firstName", "name")   # the template fields filled from the customer record


def customer_fields(customer: Mapping[str, Any] | None) -> dict[str, str]:
    """The personal fields the customer record gives (callers' values take precedence)."""
    if not customer:
        return {}
    return {k: v for k, v in {"firstName": first_name(customer), "name": customer.get("name")}.items() if v}


def customer_fields_used(req: MessageRequest) -> list[str]:
    """The fields a request would fill from its receiver's customer record."""
    texts = [*req.templates.values(), *([req.subject] if req.subject else [])]
    given = req.fields
    return sorted({f for t in texts for f in template_fields(t) if f in CUSTOMER_FIELDS and f not in given})


# --- requests ---------------------------------------------------------------------------------
def channel_list(channels: Iterable[str] | None) -> tuple[str, ...] | None:
    if channels is None:
        return None
    out = tuple(dict.fromkeys(channels))
    unknown = [c for c in out if c not in CHANNELS]
    if not out or unknown:
        raise bad_request(f"channels must be some of {', '.join(CHANNELS)}", "unknownChannel")
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageRequest:
    """What to send, checked when it is made (before anything is written).

    content: a template, or one per channel ({"sms": ..., "email": ...}); a string is used for
    every channel in `channels` (else every channel). It is kept as `templates`.
    fields: values of domain.PERSONAL_FIELDS for the templates (firstName/name come from the
    customer record). channels: in order of preference (None: SMS then email, the customer's
    preferred channel first). address: to this address instead of a customer's (API messages to
    a number or email, the quote approvers). resume: the notify sweep sends it when a deferral or
    a provider's refusal for now ends (no workflow waits for it). unaddressed: recorded although
    it names nobody to send to (the API keeps what it got). reason: the interaction's reason.

    The stored form is `to_item()` (the dict kept with the message); `from_item` reads it back,
    through the same checks."""
    customer_id: str | None = None
    purpose: str
    content: dataclasses.InitVar[str | Mapping[str, str]]
    templates: Mapping[str, str] = dataclasses.field(init=False)
    subject: str | None = None
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    channels: Sequence[str] | None = None
    journey_key: str | None = None
    related: Sequence[Mapping[str, Any]] = ()
    not_before: str | None = None
    address: str | None = None
    resume: bool = False
    sender_party: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unaddressed: bool = False
    reason: str | None = None

    def __post_init__(self, content: str | Mapping[str, str]) -> None:
        if self.purpose not in customer_rules.PURPOSES:
            raise bad_request(f"purpose must be one of {', '.join(customer_rules.PURPOSES)}", "unknownPurpose")
        order = channel_list(self.channels)
        templates = dict(content) if isinstance(content, Mapping) else {c: content for c in (order or CHANNELS)}
        if not templates or any(c not in CHANNELS or not isinstance(t, str) or not t for c, t in templates.items()):
            raise bad_request("content is a non-empty template, or one per channel (sms, email)", "invalidContent")
        for template in templates.values():
            check_template(template)
        values = {str(k): v for k, v in (self.fields or {}).items()}
        unknown = sorted(set(values) - set(PERSONAL_FIELDS))
        if unknown:
            raise TemplateError(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(PERSONAL_FIELDS)}")
        if not self.customer_id and not self.address and not self.unaddressed:
            raise bad_request("a message goes to a customer (customer_id) or to an address", "noReceiver")
        not_before = self.not_before
        if not_before is not None:
            not_before = tmf.iso(tmf.parse_datetime(not_before, "not_before"))
        checked = {"templates": templates, "fields": values, "channels": order or None,
                   "related": tuple(dict(r) for r in self.related or ()), "not_before": not_before,
                   "resume": bool(self.resume), "sender_party": dict(self.sender_party) if self.sender_party else None,
                   "extra": dict(self.extra or {}), "unaddressed": bool(self.unaddressed)}
        for name, value in checked.items():   # frozen: the checked values are set here, once
            object.__setattr__(self, name, value)

    def to_item(self) -> dict[str, Any]:
        """The stored form (camelCase keys, kept with the message; `reason` only when given)."""
        item = {"customerId": self.customer_id, "purpose": self.purpose, "templates": dict(self.templates),
                "subject": self.subject, "fields": dict(self.fields),
                "channels": list(self.channels) if self.channels else None, "journeyKey": self.journey_key,
                "related": [dict(r) for r in self.related], "notBefore": self.not_before, "address": self.address,
                "resume": self.resume, "senderParty": dict(self.sender_party) if self.sender_party else None,
                "extra": dict(self.extra), "unaddressed": self.unaddressed}
        if self.reason:
            item["reason"] = self.reason
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> MessageRequest:
        """A request from its stored form (to_item's, or the same dict as stored before this class)."""
        return cls(customer_id=item.get("customerId"), purpose=item["purpose"], content=item["templates"],
                   subject=item.get("subject"), fields=item.get("fields") or {}, channels=item.get("channels"),
                   journey_key=item.get("journeyKey"), related=item.get("related") or (),
                   not_before=item.get("notBefore"), address=item.get("address"), resume=bool(item.get("resume")),
                   sender_party=item.get("senderParty"), extra=item.get("extra") or {},
                   unaddressed=bool(item.get("unaddressed")), reason=item.get("reason"))


# --- channel choice ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Plan:
    action: str                   # send | defer | skip
    reason: str
    channel: str | None = None
    address: str | None = None
    not_before: str | None = None


def candidate_channels(req: MessageRequest, customer: Mapping[str, Any] | None) -> list[str]:
    if req.channels:
        return [c for c in req.channels if c in req.templates]
    order = [c for c in DEFAULT_CHANNELS if c in req.templates]
    preferred = ((customer or {}).get("contactPreference") or {}).get("preferredChannel")
    return sorted(order, key=lambda c: c != preferred)


def plan(req: MessageRequest, customer: Mapping[str, Any] | None, now: dt.datetime) -> Plan:
    """Where the message goes now: the first candidate channel the customer consented to for the
    purpose and can be reached through; in quiet hours, deferred until they end; else nothing,
    with every channel's reason."""
    if req.not_before and tmf.parse_datetime(req.not_before, "notBefore") > now:
        return Plan("defer", "not before the requested time", not_before=req.not_before)
    channels = candidate_channels(req, customer)
    if req.address:
        return Plan("send", "addressed by the sender", channels[0], req.address)
    if customer is None:
        return Plan("skip", "unknown customer")
    reasons = []
    for channel in channels:
        decision = customer_rules.contact_decision(customer, channel, req.purpose, now)
        if decision["allowed"]:
            return Plan("send", decision["reason"], channel, customer_rules.contact_address(customer, channel, req.purpose))
        if decision.get("notBefore"):
            return Plan("defer", decision["reason"], channel, not_before=decision["notBefore"])
        reasons.append(decision["reason"])
    return Plan("skip", "; ".join(reasons) or "no channel")


def compose(req: MessageRequest, channel: str, customer: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """The text (and, for email, the subject) for `channel`, its fields filled in."""
    values = {**customer_fields(customer), **req.fields}
    text = render(req.templates[channel], values)
    limit = SMS_MAX_CHARS if channel == "sms" else EMAIL_MAX_CHARS
    if len(text) > limit:
        raise bad_request(f"the {channel} text would be {len(text)} characters; at most {limit}", "contentTooLong")
    subject = render(req.subject, values) if channel == "email" and req.subject else None
    return text, (subject or DEFAULT_SUBJECT) if channel == "email" else None


# --- the TMF681 document ----------------------------------------------------------------------
def sender(channel: str, party: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": PLATFORM_SENDER, "name": settings.sms_sender_id()}
    if channel == "email":
        out["email"] = settings.email_sender()
    if party:
        out["party"] = dict(party)
    return out


def receiver(req: MessageRequest, customer_href: str | None) -> list[dict[str, Any]]:
    given = dict(req.extra.get("receiver") or {})
    if req.customer_id:
        given.setdefault("id", req.customer_id)
        party = dict(given.get("party") or {})
        party.setdefault("id", req.customer_id)
        party.setdefault("role", "customer")
        party.setdefault("@referredType", customer_rules.CUSTOMER_TYPE)
        if customer_href:
            party.setdefault("href", customer_href)
        given["party"] = party
    return [given]


def new_message(message_id: str, href: str, req: MessageRequest, at: str, customer_href: str | None) -> dict[str, Any]:
    """The communicationMessage as first stored (state initial), before a channel is chosen."""
    channel = candidate_channels(req, None)[0]
    extra = {k: v for k, v in req.extra.items() if k not in ("receiver", *SERVER_OWNED)}
    doc: dict[str, Any] = {
        **extra,
        "id": message_id, "href": href, "@type": MESSAGE_TYPE,
        "messageType": MESSAGE_TYPES[channel], "content": req.templates[channel],
        "receiver": receiver(req, customer_href), "sender": sender(channel, req.sender_party),
        "state": INITIAL, "creationDate": at, "lastUpdate": at,
    }
    doc["characteristic"] = [*[c for c in doc.get("characteristic") or [] if c.get("name") != "purpose"],
                             {"name": "purpose", "value": req.purpose}]
    if req.subject and "email" in req.templates:
        doc["subject"] = req.subject
    if req.journey_key:
        doc["journeyKey"] = req.journey_key
    if req.related:
        doc["relatedEntity"] = [dict(r) for r in req.related]
    return doc


def accepted_view(doc: Mapping[str, Any], req: MessageRequest) -> dict[str, Any]:
    """The message as it was accepted (state initial), for a sender that may not know the
    customer: the same answer whether it was sent, held or not sent, and whether the customer
    exists (no state reason, no channel chosen by her consent, no link to her record)."""
    return new_message(doc["id"], doc["href"], req, doc["creationDate"], None)


def with_state(doc: Mapping[str, Any], state: str, at: str, reason: str | None = None, **changes: Any) -> dict[str, Any]:
    out = {**doc, **{k: v for k, v in changes.items() if v is not None}, "state": state, "lastUpdate": at}
    if reason:
        out["stateReason"] = reason
    else:
        out.pop("stateReason", None)
    return out


def sent_as(doc: Mapping[str, Any], channel: str, text: str, subject: str | None, party: Mapping[str, Any] | None) -> dict[str, Any]:
    """The document with what is actually sent: its type, text, subject and sender."""
    out = {**doc, "messageType": MESSAGE_TYPES[channel], "content": text, "sender": sender(channel, party)}
    if subject:
        out["subject"] = subject
    return out


# --- the API's input --------------------------------------------------------------------------
def channel_of(message_type: str) -> str:
    channel = CHANNEL_OF_TYPE.get(message_type.strip().lower())
    if channel is None:
        raise bad_request(f"messageType must be one of {', '.join(MESSAGE_TYPES.values())}", "unknownMessageType")
    return channel


def _characteristic(body: Mapping[str, Any], name: str) -> Any:
    return next((c.get("value") for c in body.get("characteristic") or [] if c.get("name") == name), None)


def api_request(body: Mapping[str, Any], role: str, sender_party: Mapping[str, Any] | None,
                journey_key: str | None = None) -> MessageRequest:
    """A POSTed communicationMessage as a send request. The receiver is a customer (party id: its
    consent is checked), or a phone number / email (agents and channels only, service
    messages). Marketing messages are always for the marketing purpose."""
    customer_rules.validate_payload("communicationMessage", schemas.CommunicationMessage, body)
    if body.get("attachment"):
        raise bad_request("attachments are not sent: put a link in the content", "attachmentNotSupported")
    channel = channel_of(body["messageType"])
    target = body["receiver"][0]
    party_id = ref_id(target, "party")
    address_field = "phoneNumber" if channel == "sms" else "email"
    address = None if party_id else target.get(address_field)
    if address is not None:
        if channel == "sms":
            customer_rules.check_phone(address, "receiver.0.phoneNumber")
        else:
            customer_rules.check_email(address, "receiver.0.email")
    purpose = _characteristic(body, "purpose") or ("marketing" if role == "marketing" else "service")
    if role == "marketing" and purpose != "marketing":
        raise bad_request("the marketing role sends marketing messages only", "invalidPurpose")
    if address and purpose == "marketing":
        raise bad_request("marketing messages go to customers (receiver.party), whose consent is checked",
                          "consentRequired")
    if address and template_fields(body["content"]):
        raise TemplateError("personal fields need a customer receiver (receiver.party)")
    not_before = body.get("scheduledSendTime")
    extra = {k: v for k, v in body.items()
             if k not in ("content", "messageType", "sender", "subject", "state", *SERVER_OWNED)}
    extra["receiver"] = dict(target)
    return MessageRequest(customer_id=party_id, purpose=purpose, content={channel: body["content"]},
                          subject=body.get("subject"), channels=(channel,), journey_key=journey_key,
                          address=address, not_before=not_before, resume=True, sender_party=sender_party,
                          extra=extra, unaddressed=party_id is None and address is None)


def unaddressed_reason(channel: str) -> str:
    field = "phoneNumber" if channel == "sms" else "email"
    return f"the receiver names no customer (party.id) and no {field}"


def patched(current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    """A message after a merge patch: notes any time; `state: cancelled` only before it is sent."""
    customer_rules.validate_payload("communicationMessage", schemas.CommunicationMessagePatch, patch)
    fixed = sorted(k for k in patch if k not in schemas.CommunicationMessagePatch.model_fields)
    if fixed:
        raise Unprocessable(f"{', '.join(fixed)} cannot be changed on a message; "
                       "send a new one", "notChangeable")
    doc = tmf.merge_patch(dict(current), dict(patch))
    if patch.get("state") == CANCELLED and current.get("state") != CANCELLED:
        if current.get("state") != INITIAL:
            raise Unprocessable(f"a message in state {current.get('state')} cannot be "
                           "cancelled; only one not yet sent (initial)", "invalidState")
        return with_state(doc, CANCELLED, at, "cancelled by request")
    return {**doc, "lastUpdate": at}
