"""The basket's rules as plain functions over plain values: who owns and may read or edit a
basket, its life cycle and hand-overs, item changes, chosen characteristics, the context a
basket carries, its size limits and expiry.

Life cycle (TMF663 v4 has no cart status; `status` is our extension, and every status is an
ordinary cart to TMF663 clients):

    active --(customer or agent)--> withAgent --(agent)--> awaitingApproval --(customer)--> approved --> ordered
      |  ^                            |  ^                        |
      |  '--(customer takes back)-----'  '--(customer, agent)-----'   approved --(customer reopens)--> active
      '--(agent / abandoned-basket process)--> assistanceOffered --(customer accepts)--> withAgent
    active --(the customer checks out: ordering)--> ordered
    awaitingApproval --(she approves by the emailed link: ordering, one write)--> ordered
    approved --(ordering could not place it)--> withAgent (the agent who handled it) | active,
      with `context.orderIssue` saying why (and a note on the items it is about)
    any open basket past validFor reads as `expired` (TTL then deletes it)

Items are edited by the customer's channels (or the visitor's channel) while the basket is
active or assistanceOffered, and only by the agent who took it over while it is withAgent.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterable, Mapping

from chalicelib import actor as actor_module
from chalicelib import deferred, tmf
from chalicelib.actor import Actor
from chalicelib.view import Document
from chalicelib.errors import ApiError, bad_request, conflict, forbidden, not_found, unprocessable

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.basket.schemas")

API_ROOT = "/tmf-api/shoppingCart/v4"
API_NAME = "shoppingCart"
RESOURCE = "shoppingCart"
TYPE = "ShoppingCart"
ACTIVE, OFFERED, WITH_AGENT, AWAITING, APPROVED, ORDERED, EXPIRED = (
    "active", "assistanceOffered", "withAgent", "awaitingApproval", "approved", "ordered", "expired")
OPEN = (ACTIVE, OFFERED, WITH_AGENT, AWAITING, APPROVED)
# Attributes a basket has beyond TMF663 and its model, that a list may be filtered by.
EXTENSION_ATTRIBUTES = ("status", "creationDate", "lastUpdate", "context.*")
MERGEABLE = (ACTIVE, OFFERED)
SYSTEM = actor_module.SYSTEM  # the platform itself: the abandoned-basket process, ordering

# (from, to) -> who may move a basket that way.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    (ACTIVE, OFFERED): ("agent", SYSTEM),
    (ACTIVE, WITH_AGENT): ("customer", "agent"),
    (OFFERED, WITH_AGENT): ("customer", "agent"),
    (OFFERED, ACTIVE): ("customer",),
    (WITH_AGENT, WITH_AGENT): ("agent",),             # another agent takes it over
    (WITH_AGENT, AWAITING): ("agent",),
    (WITH_AGENT, ACTIVE): ("customer", "agent"),      # the customer takes it back / the agent releases it
    (AWAITING, APPROVED): ("customer",),
    (AWAITING, ACTIVE): ("customer",),
    (AWAITING, WITH_AGENT): ("customer", "agent", SYSTEM),   # SYSTEM: approved by the link, not orderable
    (APPROVED, ACTIVE): ("customer", SYSTEM),
    (APPROVED, ORDERED): (SYSTEM,),
    (APPROVED, WITH_AGENT): (SYSTEM,),               # it could not be ordered: back to the agent
    (ACTIVE, ORDERED): (SYSTEM,),                    # self-service checkout (ordering)
    (AWAITING, ORDERED): (SYSTEM,),                  # approved by the emailed link: ordered in one write
}
# What a hand-over is, for the interaction recorded about it: (from, to) -> (reason, direction).
HANDOVERS: dict[tuple[str | None, str | None], tuple[str, str]] = {
    (ACTIVE, OFFERED): ("assistance offered with the basket", "outbound"),
    (ACTIVE, WITH_AGENT): ("basket handed to an agent", "inbound"),
    (OFFERED, WITH_AGENT): ("assistance accepted: basket handed to an agent", "inbound"),
    (OFFERED, ACTIVE): ("assistance declined", "inbound"),
    (WITH_AGENT, WITH_AGENT): ("an agent took over the basket", "inbound"),
    (WITH_AGENT, AWAITING): ("agent handed the basket back for approval", "outbound"),
    (WITH_AGENT, ACTIVE): ("basket back with the customer", "inbound"),
    (AWAITING, APPROVED): ("basket approved by the customer", "inbound"),
    (AWAITING, ACTIVE): ("basket reopened by the customer", "inbound"),
    (AWAITING, WITH_AGENT): ("basket back with an agent", "inbound"),
    (APPROVED, ACTIVE): ("approved basket reopened", "inbound"),
    (APPROVED, ORDERED): ("basket ordered", "inbound"),
    (APPROVED, WITH_AGENT): ("approved basket could not be ordered: back with the agent", "outbound"),
    (ACTIVE, ORDERED): ("basket checked out by the customer", "inbound"),
    (AWAITING, ORDERED): ("basket approved by the customer and ordered", "inbound"),
}
SERVER_OWNED = ("id", "href", "@type", "cartTotalPrice", "validFor", "creationDate", "lastUpdate",
                "qualificationResult")
ITEM_COMPUTED = ("itemPrice", "ItemTotalPrice", "itemTotalPrice", "qualification", "pricingNote", "action",
                 "agreedPrice")
ISSUE_NOTE = "orderIssue"   # the id of the note ordering puts on an item it could not order
CHANGES_KEPT = 20
CALLER_CONTEXT = ("journeyKey", "campaignCode", "device", "postCode")   # what a channel tells us


# --- the view ------------------------------------------------------------------------------------
class Basket(Document):
    """A thin typed view of a stored shoppingCart (chalicelib/view.py)."""

    def status_at(self, at: dt.datetime) -> str | None:
        return effective_status(self.doc, at)

    @property
    def visitor_id(self) -> str | None:
        return self.party("visitor")

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.doc.get("cartItem") or [])

    @property
    def context(self) -> Mapping[str, Any]:
        return self.doc.get("context") or {}

    @property
    def journey_key(self) -> str | None:
        return self.context.get("journeyKey")

    @property
    def current_channel(self) -> str | None:
        return self.context.get("currentChannel")

    @property
    def originating_channel(self) -> str | None:
        return self.context.get("originatingChannel")

    @property
    def campaign_code(self) -> str | None:
        return self.context.get("campaignCode")

    @property
    def agent_id(self) -> str | None:
        """The agent working on it (taken over), if any."""
        return (self.context.get("agent") or {}).get("id")

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.context.get("changes") or [])


# --- who ----------------------------------------------------------------------------------------
def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Basket(doc).customer_id


def agent_of(doc: Mapping[str, Any]) -> str | None:
    return Basket(doc).agent_id


def owner_key(doc: Mapping[str, Any]) -> str:
    basket = Basket(doc)
    return f"CUSTOMER#{basket.customer_id}" if basket.customer_id else f"VISITOR#{basket.visitor_id or basket.id}"


def list_key(doc: Mapping[str, Any]) -> str | None:
    """The sparse second index: an agent's worklist, or a channel's anonymous baskets of a day."""
    basket = Basket(doc)
    if basket.status in (WITH_AGENT, OFFERED) and basket.customer_id:
        return f"WORKLIST#{basket.status}"
    if basket.status == APPROVED and basket.customer_id:
        return APPROVED_KEY   # the sweep finds approved baskets not ordered in time here
    if not basket.customer_id:
        return anonymous_key(basket.originating_channel, doc["creationDate"])
    return None


APPROVED_KEY = f"PENDING#{APPROVED}"


def last_agent(doc: Mapping[str, Any]) -> str | None:
    """The agent working on the basket, else the last agent who changed it (an approved basket
    has none working on it any more: the one who handed it back handled it)."""
    basket = Basket(doc)
    if basket.agent_id:
        return basket.agent_id
    return next((c["by"]["id"] for c in reversed(basket.changes) if (c.get("by") or {}).get("role") == "agent"
                 and c["by"].get("id")), None)


def anonymous_key(channel: str | None, at: str) -> str:
    return f"ANON#{channel}#{at[:10]}"


def readable(doc: Mapping[str, Any], role: str, customer_id: str | None) -> bool:
    """A customer reads their baskets, a channel anonymous baskets, an agent any basket."""
    owner = customer_of(doc)
    if role == "customer":
        return owner is not None and owner == customer_id
    if role == "channel":
        return owner is None
    return role == "agent"


def check_item_editor(doc: Mapping[str, Any], actor: Actor) -> None:
    role, sub = actor.role, actor.id
    status = effective_status(doc, tmf.now())
    if status in (ACTIVE, OFFERED):
        if role == "agent":
            raise conflict(f"basket {doc['id']} is with the customer ({status}): take it over first "
                           '(PATCH {"status": "withAgent"})', "notWithAgent")
        return
    if status == WITH_AGENT:
        if role != "agent":
            raise conflict(f"basket {doc['id']} is with an agent: the customer sees it and can take it back "
                           '(PATCH {"status": "active"})', "withAgent")
        if agent_of(doc) != sub:
            raise conflict(f"basket {doc['id']} is not taken over by you: take it over first "
                           '(PATCH {"status": "withAgent"})', "notYourBasket")
        return
    raise conflict(f"basket {doc['id']} is {status}: its items cannot change"
                   + (' (reopen it with PATCH {"status": "active"})' if status in (AWAITING, APPROVED) else ""),
                   "basketLocked")


def move(doc: dict[str, Any], to: str, actor: Actor, qualified: bool) -> dict[str, Any]:
    """The basket moved to status `to` by `actor` (checked); the agent working on it follows."""
    current = effective_status(doc, tmf.now())
    sub = actor.id
    role = "customer" if actor.role == "channel" else actor.role  # a channel acts for its anonymous visitor
    if current == EXPIRED:
        raise unprocessable(f"basket {doc['id']} has expired", "basketExpired")
    if to == current and to != WITH_AGENT:
        return doc
    allowed = TRANSITIONS.get((current, to))
    if allowed is None:
        nexts = sorted({b for (a, b) in TRANSITIONS if a == current})
        raise unprocessable(f"status cannot go from {current} to {to} (from {current}: {', '.join(nexts) or 'none'})",
                            "illegalStatusTransition")
    if role not in allowed:
        raise forbidden(f"a {role} cannot move a basket from {current} to {to}")
    if to == WITH_AGENT and role == "agent" and agent_of(doc) == sub and current == WITH_AGENT:
        return doc
    if not customer_of(doc) and to != ACTIVE:
        raise unprocessable("an anonymous basket is handed over once the visitor is identified (logs in)",
                            "identifyFirst")
    if to in (AWAITING, APPROVED) and not qualified:
        raise unprocessable(f"basket {doc['id']} cannot be {to}: it is empty or an item does not qualify "
                            "(see cartItem.qualification)", "notQualified")
    context = dict(doc.get("context") or {})
    if to == WITH_AGENT:
        context["agent"] = {"id": sub, "role": "agent"} if role == "agent" else None
    elif to in (ACTIVE, APPROVED, ORDERED):
        context["agent"] = None
    if to in (AWAITING, APPROVED, ORDERED):   # handed on again: an earlier order issue is dealt with
        context["orderIssue"] = None          # (its notes on the items are no longer shown: present)
    return {**doc, "status": to, "context": {k: v for k, v in context.items() if v is not None},
            "relatedParty": _with_agent_party(doc.get("relatedParty") or [], context.get("agent"))}


def with_issue_note(item: Mapping[str, Any], reason: str, at: str, noted: bool) -> dict[str, Any]:
    """An item without an earlier order issue's note, and with this one when `noted`."""
    notes = [n for n in item.get("note") or [] if n.get("id") != ISSUE_NOTE]
    if noted:
        notes.append({"id": ISSUE_NOTE, "author": "omnishop", "date": at, "text": reason[:500], "@type": "Note"})
    return {**{k: v for k, v in item.items() if k != "note"}, **({"note": notes} if notes else {})}


def _shown_notes(item: Mapping[str, Any], issue_items: list[str]) -> dict[str, Any]:
    """An item as shown: an order issue's note only while that issue stands and names the item."""
    notes = item.get("note") or []
    if not any(n.get("id") == ISSUE_NOTE for n in notes) or item.get("id") in issue_items:
        return dict(item)
    kept = [n for n in notes if n.get("id") != ISSUE_NOTE]
    return {**{k: v for k, v in item.items() if k != "note"}, **({"note": kept} if kept else {})}


def not_ordered(doc: dict[str, Any], reason: str, code: str, item_ids: Iterable[str], at: str,
                agent: str | None) -> dict[str, Any]:
    """An approved basket ordering could not place: back to the agent who handled it (withAgent,
    theirs) or, without one, to the customer (active); the reason in `context.orderIssue` and as
    a note on each item it is about (the caller writes those lines: with_issue_note). The caller
    writes it (a system move)."""
    moved = move(doc, WITH_AGENT if agent else ACTIVE, Actor.system(), True)
    context = dict(moved.get("context") or {})
    if agent:
        context["agent"] = {"id": agent, "role": "agent"}
    context["orderIssue"] = {"reason": reason[:500], "code": code, "at": at, "cartItem": sorted(set(item_ids)),
                             "returnedTo": "agent" if agent else "customer"}
    return {**moved, "context": context,
            "relatedParty": _with_agent_party(moved.get("relatedParty") or [], context.get("agent"))}


def _with_agent_party(parties: list[dict[str, Any]], agent: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    out = [p for p in parties if p.get("role") != "agent"]
    if agent:
        out.append({"id": agent["id"], "role": "agent", "@referredType": "Individual"})
    return out


# --- items --------------------------------------------------------------------------------------
def check_quantity(quantity: int, maximum: int, where: str) -> None:
    if not 1 <= quantity <= maximum:
        raise bad_request(f"{where}.quantity must be from 1 to {maximum}", "quantityOutOfRange")


def apply_item_changes(items: list[dict[str, Any]], changes: Iterable[Mapping[str, Any]], new_id: Callable[[], str],
                       max_quantity: int) -> tuple[list[dict[str, Any]], set[str]]:
    """(items after the changes, ids of items added or changed). A change names an item by `id`:
    with action delete it is removed (gone already is fine), an existing id is modified (merged),
    anything else is added under a new id. So a change made from a stale copy never drops items
    another channel added meanwhile."""
    out = [dict(i) for i in items]
    by_id = {i["id"]: i for i in out}
    touched: set[str] = set()
    for n, change in enumerate(changes):
        where = f"cartItem.{n}"
        change = {k: v for k, v in change.items() if k not in ITEM_COMPUTED or k == "action"}
        action, rid = change.get("action"), change.get("id")
        if action == "noChange":
            continue
        if action == "delete":
            if rid is None:
                raise bad_request(f"{where}: deleting an item needs its id")
            if rid in by_id:
                out = [i for i in out if i["id"] != rid]
                by_id.pop(rid)
                touched.discard(rid)
            continue
        if rid is not None and rid in by_id and action != "add":  # stored items all have ids
            item = by_id[rid]
            if change.get("productOffering") and change["productOffering"]["id"] != item["productOffering"]["id"]:
                raise bad_request(f"{where}: an item's productOffering cannot change; delete it and add another")
            merged = tmf.merge_patch(item, {k: v for k, v in change.items() if k not in ("id", "action")})
            merged["id"] = rid
            check_quantity(merged["quantity"], max_quantity, where)
            out[out.index(item)] = merged
            by_id[rid] = merged
            touched.add(rid)
            continue
        if action == "modify":
            raise unprocessable(f"{where}: basket has no item {rid} to modify", "unknownCartItem")
        if not change.get("productOffering"):
            raise bad_request(f"{where}: a new item needs productOffering.id")
        item = {**{k: v for k, v in change.items() if k != "action"}, "@type": "CartItem"}
        item["id"] = rid if rid and rid not in by_id else new_id()
        item.setdefault("quantity", 1)
        item.setdefault("status", "active")
        check_quantity(item["quantity"], max_quantity, where)
        out.append(item)
        by_id[item["id"]] = item
        touched.add(item["id"])
    return out, touched


def choose_characteristics(spec: Mapping[str, Any] | None, given: Iterable[Mapping[str, Any]],
                           where: str) -> list[dict[str, Any]]:
    """The chosen characteristics, each allowed by the specification; defaults fill the rest."""
    given = list(given)
    declared = {c["name"]: c for c in (spec or {}).get("productSpecCharacteristic") or []}
    if given and not declared:
        raise unprocessable(f"{where}: this offering has no characteristics to choose", "invalidCharacteristic")
    chosen: dict[str, Any] = {}
    for c in given:
        name = c["name"]
        if name not in declared:
            raise unprocessable(f"{where}: unknown characteristic {name!r} (choose from: {', '.join(declared)})",
                                "invalidCharacteristic")
        values = [v.get("value") for v in declared[name].get("productSpecCharacteristicValue") or []]
        match = next((v for v in values if str(v) == str(c["value"])), None) if values else c["value"]
        if match is None:
            raise unprocessable(f"{where}: {name} cannot be {c['value']!r} (allowed: "
                                f"{', '.join(str(v) for v in values)})", "invalidCharacteristic")
        chosen[name] = match
    out = []
    for name, decl in declared.items():
        if name not in chosen:
            default = next((v.get("value") for v in decl.get("productSpecCharacteristicValue") or []
                            if v.get("isDefault")), None)
            if default is None:
                continue
            chosen[name] = default
        out.append({"name": name, "value": chosen[name], "valueType": decl.get("valueType", "string"),
                    "@type": "Characteristic"})
    return out


def same_choice(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def key(item: Mapping[str, Any]) -> tuple:
        chars = ((item.get("product") or {}).get("productCharacteristic")) or []
        return item["productOffering"]["id"], tuple(sorted((c["name"], str(c["value"])) for c in chars))
    return key(a) == key(b)


def merge_items(target: list[dict[str, Any]], source: list[dict[str, Any]], source_id: str) -> list[dict[str, Any]]:
    """A visitor's basket merged into the customer's at login; safe to repeat (merged items keep
    an id derived from where they came from, and a choice already there is not added twice)."""
    out = [dict(i) for i in target]
    ids = {i["id"] for i in out}
    for item in source:
        rid = f"{source_id[:8]}-{item['id']}"[:64]
        if rid in ids or any(same_choice(item, i) for i in out):
            continue
        out.append({**item, "id": rid})
        ids.add(rid)
    return out


def merge_context(target: Mapping[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """What the visitor's basket knew (journey, campaign, device, postcode) and the customer's
    basket did not, kept at login."""
    out = dict(target.get("context") or {})
    for key in CALLER_CONTEXT:
        if not out.get(key) and (source.get("context") or {}).get(key):
            out[key] = source["context"][key]
    return out


# --- context ------------------------------------------------------------------------------------
def postcode_of(doc: Mapping[str, Any]) -> str | None:
    """The sale's postcode: the basket's context, else a postal address among its contactMedium."""
    code = Basket(doc).context.get("postCode")
    if code:
        return code
    return next((m.get("characteristic", {}).get("postCode") for m in doc.get("contactMedium") or []
                 if m.get("mediumType") == "postalAddress" and m.get("characteristic", {}).get("postCode")), None)


def touch(doc: dict[str, Any], actor: Actor, at: str, what: list[str], context_in: Mapping[str, Any] | None,
          region: tuple[str | None, str | None]) -> dict[str, Any]:
    """The basket's context after a change: current channel, who and what, caller-given context
    (journey key, campaign code, device, postcode) and the region derived from it."""
    context = dict(doc.get("context") or {})
    given = context_in or {}
    for key in CALLER_CONTEXT:
        if given.get(key):
            context[key] = given[key]
    if actor.channel:
        context["currentChannel"] = actor.channel
        context.setdefault("originatingChannel", actor.channel)
    if region[0]:
        context["region"] = {"name": region[0], "source": region[1]}
    change = {"at": at, "by": actor.by, "what": what}
    context["lastChange"] = change
    context["changes"] = ([*(context.get("changes") or []), change])[-CHANGES_KEPT:]
    return {**doc, "context": context, "lastUpdate": at}


def describe_changes(body: Mapping[str, Any]) -> list[str]:
    what = []
    for item in body.get("cartItem") or []:
        action = item.get("action") or ("modify" if item.get("id") and not item.get("productOffering") else "add")
        what.append(f"{action} item {item.get('id') or (item.get('productOffering') or {}).get('id')}")
    if body.get("status"):
        what.append(f"status {body['status']}")
    return what + [k for k in ("context", "contactMedium") if k in body]


# --- validity -----------------------------------------------------------------------------------
def validate_body(body: Mapping[str, Any]) -> None:
    from chalicelib.customer import domain as customer_domain   # only here: the basket stream never validates

    customer_domain.validate_payload(RESOURCE, schemas.ShoppingCart, body)


def expiry(at: dt.datetime, known: bool, anonymous_days: int, known_days: int) -> tuple[str, int]:
    end = at + dt.timedelta(days=known_days if known else anonymous_days)
    return tmf.iso(end), int(end.timestamp())


def effective_status(doc: Mapping[str, Any], at: dt.datetime) -> str:
    status = doc.get("status", ACTIVE)
    end = (doc.get("validFor") or {}).get("endDateTime")
    if status in OPEN and end and tmf.parse_datetime(end, "validFor.endDateTime") <= at:
        return EXPIRED
    return status


LINES_AT = "linesAt"
LINE_FIELDS = ("cartItem", "replacedItem")   # what only a basket read whole (its lines) shows


def shows_lines(fields: list[str] | None) -> bool:
    """Does an answer with this `fields` selection (None: everything) show what only the lines
    give? Without them a basket is answered from its header, no line read."""
    return fields is None or any(f.split(".", 1)[0] in LINE_FIELDS for f in fields)
INTERNAL = ("itemCount", LINES_AT)   # kept on the header for the stream's readers, not shown


def item_count(doc: Mapping[str, Any]) -> int:
    """How many active items a basket has: counted when read whole, else its header's count."""
    if "cartItem" in doc:
        return sum(1 for i in doc.get("cartItem") or [] if i.get("status", "active") == "active")
    return int(doc.get("itemCount") or 0)


def present(doc: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """The basket as clients see it: its status now, and each item's total under both the v4
    spelling (`ItemTotalPrice`) and v5's (`itemTotalPrice`). A header alone (no line read) is
    shown without cartItem."""
    out = {k: v for k, v in doc.items() if k not in INTERNAL}
    out["status"] = effective_status(doc, at)
    if "cartItem" in doc:
        issue = ((doc.get("context") or {}).get("orderIssue") or {}).get("cartItem") or []
        out["cartItem"] = [_shown_notes({**i, "itemTotalPrice": i["ItemTotalPrice"]} if "ItemTotalPrice" in i else i,
                                        issue) for i in doc.get("cartItem") or []]
    return out


def check_size(doc: Mapping[str, Any], max_bytes: int) -> None:
    """A basket's header (its document without lines) within what one item may store."""
    size = len(json.dumps(doc, separators=(",", ":")))
    if size > max_bytes:
        raise unprocessable(f"the basket would be {size} bytes; at most {max_bytes} are stored", "basketTooLarge")


def check_line_size(item: Mapping[str, Any], max_bytes: int) -> None:
    size = len(json.dumps(item, separators=(",", ":")))
    if size > max_bytes:
        raise unprocessable(f"item {item.get('id')} would be {size} bytes; at most {max_bytes} are stored per item",
                            "itemTooLarge")


def hidden(rid: str) -> ApiError:
    return not_found(RESOURCE, rid)
