"""Campaign rules as plain functions over plain values: what a valid campaign is (TMF conventions,
TMF671 Promotion as the nearest model), targeting rules as data over customer facts, message
templates with personal fields, schedules, tracking codes, the frequency-cap week and the report.

Messages never echo a phone number or an email address.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

if TYPE_CHECKING:
    from pydantic import BaseModel

from chalicelib import deferred, schedules, tmf
from chalicelib.errors import bad_request, invalid

if TYPE_CHECKING:
    from chalicelib.customer import domain as customer_domain
    from chalicelib.notify import domain as notify_domain
else:   # only a customer's targeting facts need the one, checking a campaign's templates the other
    customer_domain = deferred.module("chalicelib.customer.domain")
    notify_domain = deferred.module("chalicelib.notify.domain")

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.campaign.schemas")
pydantic = deferred.module("pydantic")

API_ROOT = "/tmf-api/campaignManagement/v4"
API_NAME = "campaignManagement"
RESOURCE = "campaign"
TYPE = "Campaign"
REPORT_TYPE = "CampaignReport"
KIND = "campaign"
PURPOSE = "marketing"

ACTIVE, SUSPENDED, RETIRED = "active", "suspended", "retired"
STATUSES = (ACTIVE, SUSPENDED, RETIRED)
CHANNELS = ("sms", "email", "social")
SERVER_OWNED = ("id", "href", "@type", "lastUpdate", "creationDate", "schedule.name", "trackingCode")
# The personal fields a campaign fills in (a subset of notify's).
TEMPLATE_FIELDS = ("firstName", "name", "offerName", "link", "campaignCode")
SOCIAL_MAX_CHARS = 500
TAG_BYTES = 6
CODE = re.compile(r"^([A-Za-z0-9-]{1,40})\.([a-f0-9]{12})$")
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")

# Target record states (one per customer per campaign).
PENDING, SENT, SUPPRESSED_CONSENT, SUPPRESSED_CAP, DEFERRED, FAILED = (
    "pending", "sent", "suppressedConsent", "suppressedCap", "deferred", "failed")
FINAL = (SENT, SUPPRESSED_CONSENT, SUPPRESSED_CAP, FAILED)
COUNTERS = ("targeted", "sent", "suppressedConsent", "suppressedCap", "deferred", "failed", "landed",
            "baskets", "orders", "revenue", "runs")


# --- validation -------------------------------------------------------------------------------
def _validated(schema: type[BaseModel], doc: Mapping[str, Any], what: str) -> Any:
    try:
        return schema.model_validate(doc)
    except pydantic.ValidationError as exc:
        raise invalid(what, exc) from None


# --- targeting rules as data -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Facts:
    """What targeting knows about a customer (from the central rules' customer profile)."""
    segment: str | None
    customer_type: str | None
    region: str | None
    held: tuple[tuple[str, int | None], ...]   # (offering id, contract days left)
    consent: tuple[str, ...] = ()              # channels with marketing consent (when known)


@dataclasses.dataclass(frozen=True)
class Attribute:
    operators: tuple[str, ...]
    kind: type                                  # str (a list of strings) or int (a number)
    test: Callable[[Facts, str, Any, Mapping[str, Any]], bool]
    about: str


def _in(value: str | None, op: str, wanted: list[str]) -> bool:
    return (value in wanted) if op == "in" else (value not in wanted)


def _held(facts: Facts, op: str, wanted: list[str], _: Mapping[str, Any]) -> bool:
    holds = any(oid in wanted for oid, _days in facts.held)
    return holds if op == "in" else not holds


def _contract_end(facts: Facts, op: str, days: int, rules: Mapping[str, Any]) -> bool:
    """A held product (of the productsHeld rule's offerings, when there is one) ends within `days`."""
    op_held, offerings = rules.get("productsHeld") or ("in", None)
    offerings = offerings if op_held == "in" else None
    return any(left is not None and 0 <= left <= days for oid, left in facts.held
               if offerings is None or oid in offerings)


def _consent(facts: Facts, op: str, wanted: list[str], _: Mapping[str, Any]) -> bool:
    return any(c in wanted for c in facts.consent)


ATTRIBUTES: dict[str, Attribute] = {
    "segment": Attribute(("in", "notIn"), str, lambda f, op, v, _: _in(f.segment, op, v),
                         "the customer's market segment (residential, business, ...)"),
    "customerType": Attribute(("in", "notIn"), str, lambda f, op, v, _: _in(f.customer_type, op, v),
                              "individual or organization"),
    "region": Attribute(("in", "notIn"), str, lambda f, op, v, _: _in(f.region, op, v),
                        "the region of the customer's postal address (the central rules' coverage table)"),
    "productsHeld": Attribute(("in", "notIn"), str, _held, "offerings the customer holds (any of / none of)"),
    "contractEndWithinDays": Attribute(("lte",), int, _contract_end,
                                       "a held product's contract ends within N days"),
    "consent": Attribute(("in",), str, _consent, "marketing consent given for one of these channels"),
}


def check_rules(rules: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The rules by attribute, checked: known attributes and operators, values of the right kind."""
    out: dict[str, Any] = {}
    for i, rule in enumerate(rules):
        where, name = f"targetSegment.rule.{i}", rule.get("attribute")
        if not isinstance(name, str) or name not in ATTRIBUTES:
            raise bad_request(f"{where}: unknown attribute {name!r}; targeting can use "
                              f"{', '.join(sorted(ATTRIBUTES))}", "unknownAttribute")
        spec = ATTRIBUTES[name]
        op = rule.get("operator") or spec.operators[0]
        if op not in spec.operators:
            raise bad_request(f"{where}: {name} takes the operator {' or '.join(spec.operators)}, not {op!r}",
                              "unknownOperator")
        value = rule.get("value")
        if spec.kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad_request(f"{where}: {name} needs a whole number of days (0 or more)")
        else:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise bad_request(f"{where}: {name} needs a non-empty list of names")
            if name == "consent" and set(value) - set(CHANNELS):
                raise bad_request(f"{where}: consent channels are {', '.join(CHANNELS)}", "unknownChannel")
        if name in out:
            raise bad_request(f"{where}: {name} appears twice; put every value in one rule")
        out[name] = (op, value)
    return out


def targeted(rules: Iterable[Mapping[str, Any]], facts: Facts) -> bool:
    """Every rule holds for the customer (rules were checked when the campaign was made)."""
    by_name = check_rules(rules)
    return all(ATTRIBUTES[name].test(facts, op, value, by_name) for name, (op, value) in by_name.items())


def facts(profile: Mapping[str, Any], region: str | None, at: dt.datetime,
          customer: Mapping[str, Any] | None = None) -> Facts:
    """Facts from a central-rules customer profile (segment, type, held with contract ends)."""
    held = tuple((oid, customer_domain.days_left(end, at))
                 for oid, end in profile.get("held") or [])
    consent = tuple(c for c in CHANNELS if customer and customer_domain.consent(customer, c, PURPOSE))
    return Facts(profile.get("segment"), profile.get("customerType"), region, held, consent)


# --- templates --------------------------------------------------------------------------------
def check_templates(templates: Mapping[str, Any], channels: Iterable[str]) -> None:
    """Every channel has a template; each uses only the fields a campaign fills in."""
    for channel in channels:
        text = templates.get(channel)
        if not isinstance(text, str) or not text.strip():
            raise bad_request(f"messageTemplate.{channel} is missing: every channel of the campaign needs its text",
                              "invalidTemplate")
    for key, text in templates.items():
        if key not in (*CHANNELS, "subject"):
            raise bad_request(f"messageTemplate.{key}: templates are per channel ({', '.join(CHANNELS)}) "
                              "plus an email subject", "invalidTemplate")
        names = notify_domain.check_template(text)
        unknown = sorted(set(names) - set(TEMPLATE_FIELDS))
        if unknown:
            raise bad_request(f"messageTemplate.{key}: unknown template field(s) {', '.join(unknown)}; a campaign "
                              f"fills in {', '.join(TEMPLATE_FIELDS)}", "invalidTemplate")


def message_fields(campaign: Mapping[str, Any], code: str, link: str) -> dict[str, str]:
    """The campaign's own fields; firstName/name come from the customer (notify fills them in)."""
    return {"offerName": campaign["productOffering"].get("name") or campaign["productOffering"]["id"],
            "link": link, "campaignCode": code}


# --- schedules --------------------------------------------------------------------------------
def expression(schedule: Mapping[str, Any]) -> str:
    """The EventBridge Scheduler expression of a campaign's schedule."""
    if schedule.get("at"):
        when = tmf.parse_datetime(schedule["at"], "schedule.at").astimezone(dt.timezone.utc)
        return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"
    return f"cron({schedule['cron']})"


def check_schedule(schedule: Mapping[str, Any] | None, valid_for: tuple[dt.datetime | None, dt.datetime | None],
                   now: dt.datetime) -> dt.datetime | None:
    """The first firing of the schedule (None: run on demand only); 400 when it is malformed, in
    the past or never fires inside the validity window."""
    if not schedule:
        return None
    if bool(schedule.get("at")) == bool(schedule.get("cron")):
        raise bad_request("schedule is either {\"at\": <date-time>} (once) or {\"cron\": <expression>} (recurring)",
                          "invalidSchedule")
    start, end = valid_for
    if schedule.get("at"):
        when = tmf.parse_datetime(schedule["at"], "schedule.at")
        if when <= now:
            raise bad_request(f"schedule.at {schedule['at']} is in the past", "scheduleInPast")
        first: dt.datetime | None = when.replace(microsecond=0)
    else:
        cron = schedule["cron"]
        if not isinstance(cron, str) or cron.startswith("cron("):
            raise bad_request("schedule.cron is the six fields only, e.g. \"0 9 ? * MON *\"", "invalidSchedule")
        try:
            first = schedules.Cron(cron).next_after(max(now, start or now))
        except (ValueError, KeyError) as exc:
            raise bad_request(f"schedule.cron {cron!r} is not a valid cron expression: {exc}",
                              "invalidSchedule") from None
        if first is None:
            raise bad_request(f"schedule.cron {cron!r} never fires", "invalidSchedule")
    if end is not None and first is not None and first >= end:
        raise bad_request("the schedule's first run is after validFor.endDateTime", "invalidSchedule")
    return first


def in_validity(campaign: Mapping[str, Any], at: dt.datetime) -> bool:
    period = campaign.get("validFor") or {}
    start, end = period.get("startDateTime"), period.get("endDateTime")
    return (not start or tmf.parse_datetime(start, "validFor.startDateTime") <= at) and (
        not end or at < tmf.parse_datetime(end, "validFor.endDateTime"))


def live(campaign: Mapping[str, Any], at: dt.datetime) -> bool:
    return campaign.get("lifecycleStatus") == ACTIVE and in_validity(campaign, at)


# --- the campaign document ----------------------------------------------------------------------
def _strip_server_owned(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in SERVER_OWNED}


def validate(doc: Mapping[str, Any], now: dt.datetime, new_schedule: bool) -> dt.datetime | None:
    """Check a whole campaign; the first time its schedule fires (when it is new or changed)."""
    campaign = _validated(schemas.Campaign, doc, "campaign")
    channels = [c.id for c in campaign.channel]
    if len(set(channels)) != len(channels):
        raise bad_request("channel names a channel twice")
    check_rules(doc["targetSegment"].get("rule") or [])
    check_templates(doc["messageTemplate"], channels)
    period = doc.get("validFor") or {}
    valid_for = tmf.check_period(period.get("startDateTime"), period.get("endDateTime"), "validFor")
    if valid_for[1] is not None and valid_for[1] <= now and doc.get("lifecycleStatus") == ACTIVE:
        raise bad_request("validFor.endDateTime is in the past: an active campaign must be valid in the future",
                          "invalidValidity")
    return check_schedule(doc.get("schedule"), valid_for, now) if new_schedule else None


def new_campaign(body: Mapping[str, Any], rid: str, href: str, at: str, now: dt.datetime) -> tuple[dict[str, Any], dt.datetime | None]:
    doc = {"id": rid, "href": href, **_strip_server_owned(body), "@type": TYPE, "creationDate": at, "lastUpdate": at}
    doc.setdefault("lifecycleStatus", ACTIVE)
    first = validate(doc, now, new_schedule=True)
    return doc, first


def patched(current: Mapping[str, Any], patch: Mapping[str, Any], at: str, now: dt.datetime) -> tuple[dict[str, Any], bool]:
    """The campaign after a merge patch, validated; and whether its schedule must be made again."""
    for key in ("id", "href", "@type", "creationDate"):
        if key in patch and patch[key] != current.get(key):
            raise bad_request(f"{key} is set by the server and cannot be changed")
    doc = tmf.merge_patch(dict(current), {k: v for k, v in patch.items() if k not in ("lastUpdate",)})
    doc.update(id=current["id"], href=current["href"], lastUpdate=at, creationDate=current.get("creationDate"))
    doc["@type"] = TYPE
    reschedule = (doc.get("schedule") or {}) != (current.get("schedule") or {}) or (
        doc.get("lifecycleStatus") != current.get("lifecycleStatus"))
    validate(doc, now, new_schedule="schedule" in patch and bool(doc.get("schedule")))
    return doc, reschedule


# --- tracking codes ---------------------------------------------------------------------------
def tag(campaign_id: str, customer_id: str) -> str:
    """The customer's tag in a campaign: the same for every retry, not the customer id itself."""
    return hashlib.blake2b(customer_id.encode(), key=campaign_id.encode()[:64], digest_size=TAG_BYTES).hexdigest()


def tracking_code(campaign_id: str, customer_id: str) -> str:
    return f"{campaign_id}.{tag(campaign_id, customer_id)}"


def parse_code(code: Any) -> tuple[str, str] | None:
    """(campaign id, tag) of a tracking code, or None when it is not one."""
    found = CODE.match(code) if isinstance(code, str) else None
    return (found.group(1), found.group(2)) if found else None


def message_id(campaign_id: str, customer_id: str) -> str:
    """One message per customer per campaign, whatever the retries: the notify idempotency key."""
    return f"campaign-{campaign_id}-{customer_id}"


# --- frequency cap ------------------------------------------------------------------------------
def week(at: dt.datetime) -> str:
    year, number, _ = at.astimezone(dt.timezone.utc).isocalendar()
    return f"{year}-W{number:02d}"


# --- attribution and the report ---------------------------------------------------------------
def revenue(cart_total_price: Iterable[Mapping[str, Any]] | None) -> float:
    """What an ordered basket brings in first: its one-off total plus its first month."""
    total = 0.0
    for price in cart_total_price or []:
        value = ((price.get("price") or {}).get("taxIncludedAmount") or {}).get("value")
        if isinstance(value, (int, float)):
            total += float(value)
    return round(total, 2)


def report(campaign: Mapping[str, Any], stats: Mapping[str, Any], at: str) -> dict[str, Any]:
    counts = {k: stats.get(k) or 0 for k in COUNTERS}
    counts["revenue"] = round(float(counts["revenue"]), 2)
    return {"@type": REPORT_TYPE, "id": campaign["id"],
            "campaign": tmf.ref(campaign, TYPE), "productOffering": campaign.get("productOffering"),
            **{k: counts[k] for k in ("targeted", "sent")},
            "suppressed": {"consent": counts["suppressedConsent"], "frequencyCap": counts["suppressedCap"]},
            "deferred": counts["deferred"], "failed": counts["failed"], "landed": counts["landed"],
            "baskets": counts["baskets"], "orders": counts["orders"],
            "revenue": {"value": counts["revenue"], "unit": "EUR"}, "runs": counts["runs"], "generatedAt": at}
