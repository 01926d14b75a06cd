"""TMF events from state changes, and which subscriptions want them. Plain functions."""
from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib import deferred, tmf
from chalicelib.errors import bad_request

if TYPE_CHECKING:
    from chalicelib import outbound
else:   # by the first subscription checked: publishing events does not need it (cold start)
    outbound = deferred.module("chalicelib.outbound")

STATUS_FIELDS = ("lifecycleStatus", "status", "state")
IGNORED_FIELDS = ("lastUpdate",)
# The resource as it was before the change, carried on change events for chalicelib/access.py
# (`event_for` strips it): a channel is told an entry it could see left its view.
PREVIOUS = "_previous"


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = set(old) | set(new)
    return sorted(k for k in keys if k not in IGNORED_FIELDS and old.get(k) != new.get(k))


def events_for_change(resource_name: str, type_name: str, old: Mapping[str, Any] | None,
                      new: Mapping[str, Any] | None, event_id: str, at: str) -> list[dict[str, Any]]:
    """Create / AttributeValueChange / StateChange / Delete events, TMF style
    (e.g. ProductOfferingStateChangeEvent carrying event.productOffering)."""
    def make(suffix: str, resource: Mapping[str, Any], field_path: str | None = None) -> dict[str, Any]:
        return tmf.event(f"{type_name}{suffix}", resource_name, resource, f"{event_id}-{suffix}", at, field_path)

    if old is None and new is not None:
        return [make("CreateEvent", new)]
    if new is None and old is not None:
        return [make("DeleteEvent", old)]
    if old is None or new is None:
        return []
    fields = changed_fields(old, new)
    state = [f for f in fields if f in STATUS_FIELDS]
    other = [f for f in fields if f not in STATUS_FIELDS]
    out = []
    if state:
        out.append(make("StateChangeEvent", new, ",".join(state)))
    if other:
        out.append(make("AttributeValueChangeEvent", new, ",".join(other)))
    return [{**e, PREVIOUS: dict(old)} for e in out]


def parse_query(query: str | None) -> list[tuple[str, str, list[str]]]:
    """A hub `query` ("eventType=ProductOfferingCreateEvent&event.productOffering.name=x")."""
    if not query:
        return []
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=False, strict_parsing=True)
    except ValueError:
        raise bad_request(f"query {query!r} is not of the form attribute=value&...") from None
    return tmf.attribute_filters(dict(pairs))


def wants(query: str | None, event: Mapping[str, Any]) -> bool:
    return tmf.matches(event, parse_query(query))


def check_subscription(body: Mapping[str, Any]) -> tuple[str, str | None]:
    callback = body.get("callback")
    if not isinstance(callback, str) or not callback:
        raise bad_request("callback is mandatory: the URL events are POSTed to")
    try:
        outbound.check(callback)
    except (outbound.Refused, outbound.Unreachable) as exc:
        raise bad_request(f"callback refused: {exc}", "invalidCallback") from None
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise bad_request("query must be a string")
    parse_query(query)
    return callback, query
