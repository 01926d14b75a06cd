"""TM Forum Open API conventions, written once: ids, hrefs, timestamps, `fields=`, attribute
filters, offset/limit paging, JSON merge patch and the shape of TMF events.

Everything here is plain Python over plain values.
"""
from __future__ import annotations

import contextvars
import copy
import dataclasses
import datetime as dt
import functools
import json
import pathlib
import re
import types
import typing
import urllib.parse
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from chalicelib import settings
from chalicelib.errors import Stale, bad_request

if TYPE_CHECKING:
    import pydantic

# Query parameters that are not attribute filters.
RESERVED_PARAMS = frozenset({"fields", "offset", "limit", "sort", "depth", "expand"})
ALWAYS_SELECTED = ("id",)
# What every TMF entity has, for resources described by a model of ours rather than a TMF spec.
ENTITY = ("id", "href", "@type", "@baseType", "@schemaLocation", "lastUpdate")


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(now())


def parse_datetime(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a date-time string (ISO 8601)")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{field} is not a valid ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def check_period(start: Any, end: Any, field: str, start_name: str = "startDateTime",
                 end_name: str = "endDateTime") -> tuple[dt.datetime | None, dt.datetime | None]:
    """Parse an optional start and end (400 if malformed); the end must come after the start."""
    s = parse_datetime(start, f"{field}.{start_name}") if start is not None else None
    e = parse_datetime(end, f"{field}.{end_name}") if end is not None else None
    if s and e and e <= s:
        raise bad_request(f"{field}.{end_name} must be after {field}.{start_name}")
    return s, e


_request_base: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_base", default=None)


def set_request_base(headers: Mapping[str, str], stage: str | None) -> None:
    """Remember where this request reached us, for hrefs when no public base URL is configured."""
    host = headers.get("host")
    if not host:
        _request_base.set(None)
        return
    on_gateway = host.endswith(".amazonaws.com")
    proto = headers.get("x-forwarded-proto") or ("https" if on_gateway else "http")
    _request_base.set(f"{proto}://{host}/{stage}" if on_gateway and stage else f"{proto}://{host}")


def use_base_of(resource_href: str, api_root: str) -> None:
    """Outside a request (a job run by a function): build hrefs like the request that made it."""
    base = resource_href.split(api_root, 1)[0] if api_root in resource_href else None
    _request_base.set(base or None)


def base_url() -> str:
    return settings.public_base_url() or _request_base.get() or settings.local_base_url()


def href(api_root: str, resource: str, rid: str) -> str:
    return f"{base_url()}{api_root}/{resource}/{rid}"


def ref(resource: Mapping[str, Any], referred_type: str | None = None) -> dict[str, Any]:
    """A TMF reference {id, href, name, @referredType} to a resource."""
    out = {"id": resource["id"], "href": resource.get("href")}
    if resource.get("name") is not None:
        out["name"] = resource["name"]
    out["@referredType"] = referred_type or resource.get("@type")
    return {k: v for k, v in out.items() if v is not None}


# --- reading query parameters -----------------------------------------------------------------
def paging(params: Mapping[str, str]) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise bad_request(f"{name} must not be negative")
        return value

    offset = number("offset", 0)
    limit = number("limit", settings.default_page_limit())
    if limit == 0 or limit > settings.max_page_limit():
        raise bad_request(f"limit must be between 1 and {settings.max_page_limit()}")
    return offset, limit


class MoreThan(int):
    """The total of a list with more items than its window (settings.list_window(), issue 16): its
    COUNT stopped there, so this is a bound (its value: the window), not a count. http.listing
    sends no X-Total-Count for it, a rel="next" Link instead. An int so that it passes unchanged
    through every `(items, total)` the contexts hand on; arithmetic on it gives a plain int (don't)."""

    def __repr__(self) -> str:
        return f"MoreThan({int(self)})"


def windowed(offset: int, counted: int) -> int:
    """A list's total from a COUNT that stopped after window+1 items (`counted`): that count when
    it is at most the window; else MoreThan(window), and an `offset` at or past the window is a
    400 (paging there would read offset+limit items whole)."""
    window = settings.list_window()
    if counted <= window:
        return counted
    if offset >= window:
        raise bad_request(f"offset {offset} is past the list window: this list has more than {window} items and "
                          f"pages through the first {window} only; narrow the list with a filter (an attribute such "
                          "as its state, status or date) to reach the others", "offsetPastWindow")
    return MoreThan(window)


_request_page: contextvars.ContextVar[tuple[str, Mapping[str, str]] | None] = \
    contextvars.ContextVar("request_page", default=None)


def set_request_page(path_template: str, path_params: Mapping[str, str], query: Mapping[str, str]) -> None:
    """Remember this request's path (its route with the parameters filled in) and query, for the
    rel="next" Link of a list whose total is not known (`next_page`)."""
    path = re.sub(r"{([^}]+)}", lambda m: urllib.parse.quote(path_params.get(m.group(1), m.group(0)), safe=""),
                  path_template)
    _request_page.set((path, dict(query)))


def next_page(shown: int, total: int) -> str | None:
    """The URL of the page after this request's (its offset moved on by its limit, every other
    query parameter kept), when the total is not known (MoreThan), the page is full and the next
    offset is inside the window; None otherwise (a known total says where the list ends)."""
    page = _request_page.get()
    if page is None or not isinstance(total, MoreThan):
        return None
    path, query = page
    offset, limit = paging(query)
    if shown < limit or offset + limit >= total:
        return None
    return f"{base_url()}{path}?{urllib.parse.urlencode({**query, 'offset': str(offset + limit)})}"


def field_selection(params: Mapping[str, str]) -> list[str] | None:
    raw = params.get("fields")
    if not raw:
        return None
    names = [f.strip() for f in raw.split(",") if f.strip()]
    return None if "none" in names and len(names) == 1 else names


def select_fields(resource: Mapping[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """`fields=a,b.c`: keep exactly those (first-level names decide) plus `id`, the key a client
    needs to come back (TMF679's kit counts the attributes: nothing else may be added)."""
    if not fields:
        return dict(resource)
    keep = set(ALWAYS_SELECTED) | {f.split(".", 1)[0] for f in fields}
    return {k: v for k, v in resource.items() if k in keep}


_OPS = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def attribute_filters(params: Mapping[str, str]) -> list[tuple[str, str, list[str]]]:
    """`name=x`, `lifecycleStatus=active,launched` (OR), `validFor.startDateTime.gt=...`;
    a value may be given in double quotes (`id="14"`)."""
    out = []
    for key, raw in params.items():
        if key in RESERVED_PARAMS:
            continue
        path, op = key, "eq"
        tail = key.rsplit(".", 1)
        if len(tail) == 2 and tail[1] in _OPS:
            path, op = tail
        values = raw.split(",") if op == "eq" else [raw]
        out.append((path, op, [_unquoted(v) for v in values]))
    return out


# --- which attributes a list may be filtered by ---------------------------------------------------
# A graph of definitions: {definition: {attribute: definition it holds | FREE_FORM | None (a plain value)}}.
FREE_FORM = "*"
Graph = Mapping[str, Mapping[str, "str | None"]]


@functools.cache
def _tmf_graphs() -> dict[str, Graph]:
    """The TMF v4 resources' attributes, from the specs (written by tests/support/tmf_attributes.py)."""
    return json.loads((pathlib.Path(__file__).parent / "tmf_attributes.json").read_text())


@functools.cache
def _model_graph(model: type[pydantic.BaseModel]) -> Graph:
    """A pydantic model's declared attributes (by alias) as a graph like the specs'."""
    import pydantic   # only lists with a model pay for it, on their first request

    out: dict[str, dict[str, str | None]] = {}

    def held(annotation: Any) -> str | None:
        if annotation is Any or annotation is dict or typing.get_origin(annotation) is dict:
            return FREE_FORM
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            add(annotation)
            return annotation.__name__
        if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Literal):
            targets = [held(a) for a in typing.get_args(annotation) if not isinstance(a, (str, int))]
            return next((t for t in targets if t is not None), None)
        return None

    def add(m: type[pydantic.BaseModel]) -> None:
        if m.__name__ not in out:
            out[m.__name__] = {}
            out[m.__name__].update({f.alias or name: held(f.annotation) for name, f in m.model_fields.items()})

    add(model)
    return out


@dataclasses.dataclass(frozen=True)
class Attributes:
    """The attributes a list's resources have, so a filter on anything else is refused: the TMF
    spec's definition of the resource, the pydantic models of our extensions and named extras
    (route parameters, attributes we add such as a basket's `status`; `context.*` for anything
    below `context`). Dotted paths walk into held
    definitions (`relatedParty.id`); below a free-form value (`characteristic.value`) any path goes."""
    resource: str
    sources: tuple[tuple[Graph, str], ...] = ()
    extras: frozenset[str] = frozenset()

    def knows(self, path: str) -> bool:
        if path in self.extras or any(path == e[:-2] or path.startswith(e[:-1]) for e in self.extras if e.endswith(".*")):
            return True
        parts = path.split(".")
        return any(_resolves(graph, root, parts) for graph, root in self.sources)

    def common(self) -> list[str]:
        names = {a for graph, root in self.sources for a in graph[root]} | self.extras
        first = ("id", "name", "lifecycleStatus", "status", "state")
        return sorted(names, key=lambda a: (a not in first, first.index(a) if a in first else 0, a.startswith("@"), a))


def _resolves(graph: Graph, node: str | None, parts: list[str]) -> bool:
    for part in parts:
        if node == FREE_FORM:
            return True
        if node is None or part not in graph[node]:
            return False
        node = graph[node][part]
    return True


def attributes(resource: str, tmf: str | None = None, definition: str | None = None,
               models: Iterable[type[pydantic.BaseModel]] = (), extras: Iterable[str] = ()) -> Attributes:
    """`attributes("productOffering", "TMF620", "ProductOffering", [schemas.ProductOffering])`."""
    sources: list[tuple[Graph, str]] = []
    if tmf:
        sources.append((_tmf_graphs()[tmf], definition or resource[0].upper() + resource[1:]))
    sources.extend((_model_graph(m), m.__name__) for m in models)
    return Attributes(resource, tuple(sources), frozenset(extras))


def checked_filters(params: Mapping[str, str], known: Attributes,
                    route_params: Iterable[str] = ()) -> list[tuple[str, str, list[str]]]:
    """The attribute filters of a list request; 400 naming every attribute the resource has not."""
    filters = attribute_filters(params)
    unknown = sorted({path for path, _, _ in filters if not known.knows(path)})
    if unknown:
        shown = ", ".join(repr(u[:60]) for u in unknown[:5])
        raise bad_request(f"{known.resource} has no attribute {shown} to filter by; filter by its attributes "
                          f"(e.g. {', '.join(known.common()[:8])}) or use {', '.join(sorted(RESERVED_PARAMS | set(route_params)))}",
                          "unknownFilter")
    return filters


@dataclasses.dataclass(frozen=True)
class ListQuery:
    offset: int
    limit: int
    fields: list[str] | None
    filters: list[tuple[str, str, list[str]]]


def list_query(params: Mapping[str, str], known: Attributes, route_params: Iterable[str] = ()) -> ListQuery:
    """Everything a TMF list request asks: paging, `fields=` and the (known) attribute filters.
    `route_params` are the route's own query parameters (not attributes): not filters, not refused."""
    offset, limit = paging(params)
    own = set(route_params)
    filters = checked_filters({k: v for k, v in params.items() if k not in own}, known, own)
    return ListQuery(offset, limit, field_selection(params), filters)


def _unquoted(value: str) -> str:
    """`relatedParty.id="14"`: a value in double quotes is the value without them."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _lookup(resource: Any, path: str) -> list[Any]:
    values = [resource]
    for part in path.split("."):
        nxt = []
        for v in values:
            if isinstance(v, Mapping) and part in v:
                nxt.append(v[part])
            elif isinstance(v, list):
                nxt.extend(x[part] for x in v if isinstance(x, Mapping) and part in x)
        values = nxt
    flat = []
    for v in values:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(resource: Mapping[str, Any], filters: Iterable[tuple[str, str, list[str]]]) -> bool:
    for path, op, wanted in filters:
        found = _lookup(resource, path)
        if op == "eq":
            if not any(_as_text(v) == w for v in found for w in wanted):
                return False
        else:
            if not any(_compare(v, wanted[0], op) for v in found):
                return False
    return True


def _compare(value: Any, wanted: str, op: str) -> bool:
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _OPS[op](float(value), float(wanted))
    except ValueError:
        return False
    return _OPS[op](_as_text(value), wanted)


def page(items: list[dict[str, Any]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return items[offset: offset + limit], len(items)


def listed(docs: list[dict[str, Any]], params: Mapping[str, str],
           always: list[str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """A list answer from the documents read: attribute filters, one page, `fields=` (plus the
    `always` fields: the TMF687 and TMF676 kits ask `fields=id` and expect href too); and the total."""
    offset, limit = paging(params)
    items, total = page([d for d in docs if matches(d, attribute_filters(params))], offset, limit)
    return selected(items, params, always), total


def selected(items: list[dict[str, Any]], params: Mapping[str, str],
             always: list[str] | None = None) -> list[dict[str, Any]]:
    """A page's documents as `listed` shows them: `fields=` (plus the `always` fields)."""
    fields = field_selection(params)
    return [select_fields(d, fields and fields + (always or [])) for d in items]


# --- writing ----------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (TMF PATCH with application/json or merge-patch+json)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def event(event_type: str, resource_name: str, resource: Mapping[str, Any], event_id: str,
          event_time: str, field_path: str | None = None) -> dict[str, Any]:
    """A TMF event envelope, e.g. ProductOfferingCreateEvent with event.productOffering."""
    body: dict[str, Any] = {
        "eventId": event_id,
        "eventTime": event_time,
        "eventType": event_type,
        "@type": event_type,
        "event": {resource_name: dict(resource)},
    }
    if field_path:
        body["fieldPath"] = field_path
    return body


def etag(version: int) -> str:
    """The ETag of a stored version (optimistic concurrency)."""
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names; None for no header or `*`."""
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    try:
        return int(raw)
    except ValueError:
        raise Stale(f"If-Match {value!r} is not an ETag of this API",
                       "staleVersion") from None
