"""The catalogue's rules as plain functions over plain values: what each resource kind is,
validation, lifecycle transitions, who may see what, which references must exist."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib import deferred, tmf
from chalicelib.errors import bad_request, conflict, invalid, unprocessable

if TYPE_CHECKING:
    from pydantic import BaseModel

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.catalog.schemas")
pydantic = deferred.module("pydantic")

API_ROOT = "/tmf-api/productCatalogManagement/v4"
API_NAME = "productCatalogManagement"
STACKS = ("csp-stack-a", "csp-stack-b", "iot-partner-x")
FULFILMENT_ROLE = "fulfilmentStack"
PUBLISHED = ("active", "launched")
SERVER_OWNED = ("id", "href", "lastUpdate", "@type")

# Allowed lifecycle moves (TMF620 recommends this life cycle; same-state writes are always fine).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "inStudy": ("inDesign", "rejected"),
    "inDesign": ("inStudy", "inTest", "active", "rejected"),
    "inTest": ("inDesign", "active", "rejected"),
    "active": ("launched", "retired"),
    "launched": ("retired",),
    "retired": ("obsolete",),
    "obsolete": (),
    "rejected": ("inStudy",),
}


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str                  # path segment and resource name in events: productOffering
    type_name: str             # @type, and the name of its model in schemas.py: ProductOffering
    lifecycle: bool = True     # has lifecycleStatus / validFor
    is_job: bool = False

    @property
    def schema(self) -> type[BaseModel]:
        return getattr(schemas, self.type_name)

    @functools.cached_property
    def attributes(self) -> tmf.Attributes:
        """What a list of this kind may be filtered by: TMF620's definition and our model."""
        return tmf.attributes(self.name, "TMF620", self.type_name, [self.schema])

    @property
    def events(self) -> bool:
        return not self.is_job


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("catalog", "Catalog"),
    Kind("category", "Category"),
    Kind("productSpecification", "ProductSpecification"),
    Kind("productOfferingPrice", "ProductOfferingPrice"),
    Kind("productOffering", "ProductOffering"),
    Kind("importJob", "ImportJob", lifecycle=False, is_job=True),
    Kind("exportJob", "ExportJob", lifecycle=False, is_job=True),
)}
# Import order: what a resource may reference comes before it.
IMPORT_ORDER = ("productSpecification", "productOfferingPrice", "category", "productOffering", "catalog")


def kind(name: str) -> Kind:
    return KINDS[name]


def validate(k: Kind, body: Mapping[str, Any]) -> None:
    """Check a whole document of kind k; raise 400 saying what is wrong."""
    try:
        k.schema.model_validate(body)
    except pydantic.ValidationError as exc:
        raise invalid(k.name, exc) from None
    if k.lifecycle and body.get("validFor"):
        _check_period(body["validFor"], "validFor")
    for i, term in enumerate(body.get("productOfferingTerm") or []):
        if term.get("validFor"):
            _check_period(term["validFor"], f"productOfferingTerm.{i}.validFor")


def _check_period(period: Mapping[str, Any], field: str) -> None:
    start = period.get("startDateTime")
    end = period.get("endDateTime")
    s = tmf.parse_datetime(start, f"{field}.startDateTime") if start is not None else None
    e = tmf.parse_datetime(end, f"{field}.endDateTime") if end is not None else None
    if s and e and e <= s:
        raise bad_request(f"{field}.endDateTime must be after {field}.startDateTime")


def check_transition(k: Kind, old: str | None, new: str | None) -> None:
    if not k.lifecycle or old is None or new is None or old == new:
        return
    if new not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ())) or "none"
        raise unprocessable(
            f"lifecycleStatus cannot go from {old} to {new} (allowed from {old}: {allowed})",
            "illegalLifecycleTransition")


def _strip_server_owned(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in SERVER_OWNED}


def new_resource(k: Kind, body: Mapping[str, Any], rid: str, href: str, at: str) -> dict[str, Any]:
    """The stored document for a create: caller's attributes plus the server-made ones."""
    doc = _strip_server_owned(body)
    if body.get("@type") not in (None, k.type_name):
        doc["@baseType"] = k.type_name
        doc["@type"] = body["@type"]
    if k.lifecycle:
        doc.setdefault("lifecycleStatus", "inDesign")
        doc.setdefault("version", "1.0")
    if k.is_job:
        doc.update(status="Not Started", creationDate=at)
        doc.pop("completionDate", None)
        doc.pop("errorLog", None)
    out = {"id": rid, "href": href, "@type": doc.pop("@type", k.type_name), **doc, "lastUpdate": at}
    validate(k, out)
    return out


def patched(k: Kind, current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The document after a JSON merge patch, validated, with the lifecycle move checked."""
    if k.is_job:
        raise unprocessable(f"an {k.name} cannot be changed once created", "immutable")
    for key in SERVER_OWNED:
        if key in patch and patch[key] != current.get(key):
            raise bad_request(f"{key} is set by the server and cannot be changed")
    doc = tmf.merge_patch(dict(current), _strip_server_owned(patch))
    doc.update(id=current["id"], href=current["href"], lastUpdate=at)
    doc["@type"] = current.get("@type", k.type_name)
    if k.lifecycle and "lifecycleStatus" not in doc:
        raise bad_request("lifecycleStatus cannot be removed")
    validate(k, doc)
    check_transition(k, current.get("lifecycleStatus"), doc.get("lifecycleStatus"))
    return doc


def check_deletable(k: Kind, current: Mapping[str, Any]) -> None:
    if k.lifecycle and current.get("lifecycleStatus") in PUBLISHED:
        raise conflict(f"{k.name} {current['id']} is {current['lifecycleStatus']}: retire it before deleting it",
                       "published")


def references(k: Kind, doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """References into this catalogue that must exist: (kind, id, where). References to
    specifications and parties may point into partner systems and are not checked."""
    out: list[tuple[str, str, str]] = []
    for i, ref in enumerate(doc.get("category") or []):
        out.append(("category", ref["id"], f"category.{i}"))
    if k.name == "category" and doc.get("parentId"):
        out.append(("category", doc["parentId"], "parentId"))
    if k.name == "productOffering":
        for i, ref in enumerate(doc.get("productOfferingPrice") or []):
            out.append(("productOfferingPrice", ref["id"], f"productOfferingPrice.{i}"))
        for i, ref in enumerate(doc.get("bundledProductOffering") or []):
            out.append(("productOffering", ref["id"], f"bundledProductOffering.{i}"))
    if k.name == "productOfferingPrice":
        for i, ref in enumerate(doc.get("popRelationship") or []):
            out.append(("productOfferingPrice", ref["id"], f"popRelationship.{i}"))
    return out


# --- who sees what ----------------------------------------------------------------------------
def in_period(doc: Mapping[str, Any], at: dt.datetime) -> bool:
    period = doc.get("validFor") or {}
    start, end = period.get("startDateTime"), period.get("endDateTime")
    if start and tmf.parse_datetime(start, "validFor.startDateTime") > at:
        return False
    if end and tmf.parse_datetime(end, "validFor.endDateTime") <= at:
        return False
    return True


def period_edges(doc: Mapping[str, Any]) -> list[dt.datetime]:
    """The instants at which in_period(doc, at) can change its answer (validFor's start and end)."""
    period = doc.get("validFor") or {}
    return [tmf.parse_datetime(period[end], f"validFor.{end}") for end in ("startDateTime", "endDateTime")
            if period.get(end)]


def is_published(k: Kind, doc: Mapping[str, Any], at: dt.datetime) -> bool:
    return k.lifecycle and doc.get("lifecycleStatus") in PUBLISHED and in_period(doc, at)


def sold_in_channel(doc: Mapping[str, Any], channel: str | None) -> bool:
    """An offering with no channel list is sold everywhere; otherwise the channel must be named."""
    channels = doc.get("channel") or []
    if not channels:
        return True
    return channel is not None and any(channel in (c.get("id"), c.get("name")) for c in channels)


def for_segment(doc: Mapping[str, Any], segment: str | None) -> bool:
    """An offering a customer of `segment` is shown: one for every segment (no marketSegment), or
    one naming hers; None (an anonymous visitor's channel, an agent): every offering."""
    named = {str(s.get("id") or s.get("name")) for s in doc.get("marketSegment") or [] if isinstance(s, Mapping)}
    return segment is None or not named or segment in named


def visible(k: Kind, doc: Mapping[str, Any], channel: str | None, at: dt.datetime) -> bool:
    """What a channel (or a customer in a channel) may see."""
    if k.is_job or not is_published(k, doc, at):
        return False
    return k.name != "productOffering" or sold_in_channel(doc, channel)


def became_published(k: Kind, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    was = (old or {}).get("lifecycleStatus") in PUBLISHED
    now = (new or {}).get("lifecycleStatus") in PUBLISHED
    return k.lifecycle and now and not was


def fulfilment_stack(spec: Mapping[str, Any]) -> str | None:
    for party in spec.get("relatedParty") or []:
        if party.get("role") == FULFILMENT_ROLE:
            return party.get("id")
    return None


def expired_but_published(k: Kind, doc: Mapping[str, Any], at: dt.datetime) -> bool:
    """Published offerings whose validFor has ended: the sweep retires them."""
    end = (doc.get("validFor") or {}).get("endDateTime")
    return (k.lifecycle and doc.get("lifecycleStatus") in PUBLISHED and end is not None
            and tmf.parse_datetime(end, "validFor.endDateTime") <= at)


def name_filter(filters: list[tuple[str, str, list[str]]]) -> str | None:
    """The one name a list asks for (`name=x`), which narrows its read to that name's keys."""
    names = [wanted[0] for path, op, wanted in filters if path == "name" and op == "eq" and len(wanted) == 1]
    return names[0] if len(names) == 1 else None
