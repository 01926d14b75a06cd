"""Quote rules (TMF648), plain functions over plain values: the life cycle, agreed discounts on
catalogue prices, the approval rules (data/approval_rules.json), versions and expiry.

    inProgress --(agent or customer submits)--> pending   (an approval rule fires)
                                           '--> approved  (none fires: sent to the customer at once)
    pending  --(sales-manager)--> approved (sent: email with a signed link) | rejected
    approved --(customer accepts that version)--> accepted --(productOrder)--> accepted + productOrder
    approved --(customer)--> rejected
    inProgress | pending | approved --(agent, or the sweep when validFor ends)--> cancelled

TMF648 v4 has no `ordered` state (QuoteStateType): an ordered quote stays `accepted` and carries
`productOrder` (the order made from it) and `effectiveQuoteCompletionDate`.

Versions: `version` ("1", "2", ...) counts what the customer was sent. Changing a sent (approved)
quote makes the next version, back to inProgress (it must be submitted, and maybe approved, again);
the customer accepts one version, and only the latest.
"""
from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import pathlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from chalicelib.actor import Actor
from chalicelib import deferred, tmf
from chalicelib.errors import bad_request
from chalicelib.view import Document

if TYPE_CHECKING:
    from chalicelib.basket import pricing
else:   # by the first quote priced: the quote routes register without it (cold start)
    pricing = deferred.module("chalicelib.basket.pricing")

API_NAME = "quoteManagement"
API_ROOT = "/tmf-api/quoteManagement/v4"
RESOURCE, TYPE = "quote", "Quote"
IN_PROGRESS, PENDING, APPROVED, ACCEPTED = "inProgress", "pending", "approved", "accepted"
REJECTED, CANCELLED = "rejected", "cancelled"
STATES = (IN_PROGRESS, PENDING, APPROVED, ACCEPTED, REJECTED, CANCELLED)
OPEN = (IN_PROGRESS, PENDING, APPROVED)          # the expiry sweep ends these when validFor ends
FINAL = (ACCEPTED, REJECTED, CANCELLED)
MAX_ITEMS = 1000      # lines of a quote (issue 13 part 4: business quotes), kept in pages beyond one
MAX_QUANTITY = 1000   # of one line (a business line of 1,000 subscriptions)
LINES_PER_PAGE = 50   # a quote of more lines keeps them in pages of this many (chalicelib/pages.py)
AGENT_DISCOUNT = "Agreed discount"
LINK_ACCEPT = "quote.accept"
SYSTEM = "omnishop"
RULES_FILE = pathlib.Path(__file__).parent / "data" / "approval_rules.json"

# (from, to): the roles that may move a quote so (SYSTEM: the sweep). Submitting asks for
# `approved` or `pending`; the rules decide which (`submitted`).
MOVES: dict[tuple[str, str], tuple[str, ...]] = {
    (IN_PROGRESS, PENDING): ("agent", "customer"),
    (IN_PROGRESS, APPROVED): ("agent", "customer"),
    (PENDING, APPROVED): ("sales-manager",),
    (PENDING, REJECTED): ("sales-manager",),
    (APPROVED, ACCEPTED): ("customer",),
    (APPROVED, REJECTED): ("customer",),
    (IN_PROGRESS, CANCELLED): ("agent", "customer", SYSTEM),
    (PENDING, CANCELLED): ("agent", SYSTEM),
    (APPROVED, CANCELLED): ("agent", SYSTEM),
}


@functools.lru_cache(maxsize=1)
def approval_rules() -> dict[str, Any]:
    return json.loads(RULES_FILE.read_text())


def max_discount(role: str, rules: Mapping[str, Any] | None = None) -> Decimal:
    """The largest combined discount (percent) `role` may grant: 0 for roles not listed."""
    return Decimal(str(((rules or approval_rules())["maxDiscountPercent"]).get(role, 0)))


def grantable(rules: Mapping[str, Any] | None = None) -> Decimal:
    """The largest discount anyone may grant: a proposal beyond it can never be approved."""
    return max((Decimal(str(v)) for v in (rules or approval_rules())["maxDiscountPercent"].values()),
               default=Decimal(0))


# --- references ---------------------------------------------------------------------------------
class Quote(Document):
    """A thin typed view of a stored quote (chalicelib/view.py)."""

    @property
    def state(self) -> str | None:
        return self.doc.get("state")

    @property
    def version(self) -> int:
        return int(self.doc.get("version") or 1)

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.doc.get("quoteItem") or [])


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Quote(doc).customer_id


def visible(doc: Mapping[str, Any], role: str, customer_id: str | None) -> bool:
    if role == "customer":
        return customer_id is not None and customer_of(doc) == customer_id
    return role in ("agent", "sales-manager")


def version_of(doc: Mapping[str, Any]) -> int:
    return Quote(doc).version


def link_subject(quote_id: str, version: int) -> str:
    return f"{quote_id}.v{version}"


def parse_link_subject(subject: str) -> tuple[str, int] | None:
    head, _, tail = subject.rpartition(".v")
    return (head, int(tail)) if head and tail.isdigit() else None


# --- discounts and prices -------------------------------------------------------------------------
def percent(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def combined(item_pct: Decimal, quote_pct: Decimal) -> Decimal:
    """One item's discount with the quote's on top: 10% and 10% is 19%."""
    return (Decimal(100) - (Decimal(100) - item_pct) * (Decimal(100) - quote_pct) / 100).quantize(Decimal("0.01"))


def discounted(price: Mapping[str, Any], pct: Decimal, label: str = AGENT_DISCOUNT) -> dict[str, Any]:
    """A QuotePrice with `pct` percent off its amount: `price` is the net amount agreed, the
    discount listed as a PriceAlteration (what was taken off)."""
    out = copy.deepcopy(dict(price))
    if pct <= 0:
        return out
    money = out["price"]["taxIncludedAmount"]
    gross = pricing.amount(money["value"])
    off = pricing.amount(gross * pct / 100)
    money["value"] = pricing.number(gross - off)
    out["priceAlteration"] = [*(out.get("priceAlteration") or []), {
        "name": label, "priceType": "discount", "@type": "PriceAlteration",
        "price": {"percentage": float(pct), "taxIncludedAmount": pricing.money(off, money["unit"])},
        "description": f"{pricing.text(pct)}% off {pricing.text(gross)} {money['unit']}",
        **({"recurringChargePeriod": out["recurringChargePeriod"]} if out.get("recurringChargePeriod") else {})}]
    return out


def quote_price(cart_price: Mapping[str, Any]) -> dict[str, Any]:
    """A TMF663 CartPrice (basket pricing) as a TMF648 QuotePrice."""
    name = str(cart_price.get("name") or "")
    out = {**cart_price, "@type": "QuotePrice"}
    for old in ("Cart total", "Item total"):
        if name.startswith(old):
            out["name"] = ("Quote total" if old == "Cart total" else "Quote item total") + name[len(old):]
    return out


def _key(price: Mapping[str, Any]) -> tuple[str, str | None, str]:
    return (price.get("priceType") or pricing.ONE_OFF, price.get("recurringChargePeriod"),
            price["price"]["taxIncludedAmount"]["unit"])


def item_savings(items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str | None, str], Decimal]:
    """What the items' agreed discounts take off, per price type, period and currency."""
    out: dict[tuple[str, str | None, str], Decimal] = {}
    for item in items:
        for price in item.get("quoteItemPrice") or []:
            for alt in price.get("priceAlteration") or []:
                if alt.get("name") == AGENT_DISCOUNT:
                    out[_key(price)] = out.get(_key(price), Decimal(0)) + \
                        pricing.amount(alt["price"]["taxIncludedAmount"]["value"])
    return out


def totals(cart_totals: Iterable[Mapping[str, Any]], savings: Mapping[tuple[str, str | None, str], Decimal],
           quote_pct: Decimal) -> list[dict[str, Any]]:
    """The quote's totals: the catalogue totals less the items' agreed discounts, then the
    quote's own discount on what is left."""
    out = []
    for total in cart_totals:
        price = quote_price(total)
        saved = savings.get(_key(price), Decimal(0))
        if saved:
            price = copy.deepcopy(price)
            money = price["price"]["taxIncludedAmount"]
            money["value"] = pricing.number(pricing.amount(money["value"]) - saved)
            price["priceAlteration"] = [*(price.get("priceAlteration") or []), {
                "name": "Agreed item discounts", "priceType": "discount", "@type": "PriceAlteration",
                "price": {"taxIncludedAmount": pricing.money(saved, money["unit"])}}]
        out.append(discounted(price, quote_pct))
    return out


def net(prices: Iterable[Mapping[str, Any]], price_type: str, each: str | None = None) -> dict[str, Decimal]:
    """The net amounts of `prices` of one type (and period), per currency."""
    out: dict[str, Decimal] = {}
    for p in prices:
        if p.get("priceType") == price_type and (each is None or p.get("recurringChargePeriod") == each):
            money = p["price"]["taxIncludedAmount"]
            out[money["unit"]] = out.get(money["unit"], Decimal(0)) + pricing.amount(money["value"])
    return out


# --- contract terms -------------------------------------------------------------------------------
def term_months(term: Mapping[str, Any]) -> int | None:
    duration = term.get("duration") or {}
    units = str(duration.get("units") or "month").lower().rstrip("s")
    if not isinstance(duration.get("amount"), int) or units not in pricing.MONTHS:
        return None
    return duration["amount"] * pricing.MONTHS[units]


def offering_terms(offering: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"name": t.get("name"), "duration": t.get("duration"), "@type": "QuoteTerm"}
            for t in offering.get("productOfferingTerm") or []]


# --- approval ---------------------------------------------------------------------------------------
def approvals_needed(doc: Mapping[str, Any], standard_terms: Mapping[str, list[int]],
                     rules: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """The approval rules the quote trips ({code, label}, in the data's order). `standard_terms`:
    each item id's offering term lengths in months."""
    rules = rules or approval_rules()
    quote_pct = percent(doc.get("discount", {}).get("percentage") if doc.get("discount") else 0)
    out = []
    for rule in rules["rules"]:
        kind, fired = rule["kind"], False
        if kind == "discount":
            limit = Decimal(str(rule["thresholdPercent"]))
            fired = any(combined(percent((i.get("discount") or {}).get("percentage")), quote_pct) > limit
                        for i in doc.get("quoteItem") or []) or quote_pct > limit
        elif kind == "term":
            standard = set(rule["standardMonths"])
            for item in doc.get("quoteItem") or []:
                allowed = standard | set(standard_terms.get(item["id"], []))
                fired = fired or any(term_months(t) not in allowed for t in item.get("itemTerm") or [])
        elif kind == "total":
            amounts = net(doc.get("quoteTotalPrice") or [], rule["priceType"], rule.get("period"))
            fired = amounts.get(rule["limit"]["unit"], Decimal(0)) > Decimal(str(rule["limit"]["value"]))
        if fired:
            out.append({"code": rule["code"], "label": rule["label"]})
    return out


def largest_discount(doc: Mapping[str, Any]) -> Decimal:
    quote_pct = percent((doc.get("discount") or {}).get("percentage"))
    return max([combined(percent((i.get("discount") or {}).get("percentage")), quote_pct)
                for i in doc.get("quoteItem") or []] + [quote_pct])


def authorization_request(needed: list[dict[str, str]], at: str, rules: Mapping[str, Any] | None = None
                          ) -> dict[str, Any]:
    rules = rules or approval_rules()
    return {"name": ", ".join(n["code"] for n in needed), "requestedDate": at, "state": "requested",
            "description": "; ".join(n["label"] for n in needed), "approverRole": rules["approverRole"],
            "@type": "Authorization"}


def authorization_given(request: Mapping[str, Any], approved: bool, approver: Actor, reason: str | None,
                        at: str) -> dict[str, Any]:
    out = {**request, "state": "approved" if approved else "declined", "givenDate": at,
           "approver": [{"id": approver.id, "role": approver.role, "@referredType": "Individual"}]}
    if reason:
        out["reason"] = reason
    return out


# --- the life cycle -------------------------------------------------------------------------------
def may_move(old: str, new: str, role: str) -> bool:
    return role in MOVES.get((old, new), ())


def expired(doc: Mapping[str, Any], at: dt.datetime) -> bool:
    end = (doc.get("validFor") or {}).get("endDateTime")
    return bool(end) and tmf.parse_datetime(end, "validFor.endDateTime") <= at


def moved(doc: Mapping[str, Any], state: str, at: str, reason: str | None = None) -> dict[str, Any]:
    out = {**doc, "state": state, "lastUpdate": at}
    if reason:
        out["stateReason"] = reason
    else:
        out.pop("stateReason", None)
    if state in FINAL:
        out["effectiveQuoteCompletionDate"] = at
    return out


def next_version(doc: Mapping[str, Any], at: str) -> dict[str, Any]:
    """A sent quote changed: the next version, in progress again (its authorizations start over)."""
    out = moved(doc, IN_PROGRESS, at)
    out["version"] = str(version_of(doc) + 1)
    out.pop("authorization", None)
    return out


def valid_for(at: dt.datetime, days: int, asked: Mapping[str, Any] | None) -> dict[str, str]:
    """validFor: from now for `days` (the longest a quote is held), or shorter when asked."""
    end = at + dt.timedelta(days=days)
    if asked and asked.get("endDateTime"):
        wanted = tmf.parse_datetime(asked["endDateTime"], "validFor.endDateTime")
        if wanted <= at:
            raise ValueError("validFor.endDateTime is in the past")
        end = min(end, wanted)
    return {"startDateTime": tmf.iso(at), "endDateTime": tmf.iso(end)}


def summary(doc: Mapping[str, Any]) -> str:
    """One line per price of the quote's totals, for emails: "Quote total one-off: 99 EUR"."""
    lines = []
    for p in doc.get("quoteTotalPrice") or []:
        money = p["price"]["taxIncludedAmount"]
        per = f"/{p['recurringChargePeriod']}" if p.get("recurringChargePeriod") else ""
        lines.append(f"{p.get('name')}: {pricing.text(pricing.amount(money['value']))} {money['unit']}{per}")
    return "\n".join(lines)


def _copied_for(current: Mapping[str, Any], ops: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields a patch may change, copied as deep as `ops` may change them: when every op works
    inside one entry of a list (`/quoteItem/7/quantity`), only those entries are copied (one line
    of 1,000 changed copies one line); otherwise, as the entries' places may move, all of them."""
    view = {k: current[k] for k in fields if k in current}
    paths = [op["path"].split("/")[1:] for op in ops]
    inside = all("from" not in op and len(parts) >= 3 and parts[1].isdigit() for op, parts in zip(ops, paths)
                 if parts and isinstance(view.get(parts[0]), list))
    if not inside:
        return copy.deepcopy(view)
    for parts in paths:
        name = parts[0] if parts else ""
        if name not in view or view[name] is not current[name]:
            continue
        if not isinstance(view[name], list):
            view[name] = copy.deepcopy(current[name])
    for parts in paths:
        name = parts[0] if parts else ""
        if name in view and isinstance(view[name], list):
            if view[name] is current[name]:
                view[name] = list(current[name])
            n = int(parts[1])
            if n < len(view[name]) and view[name][n] is current[name][n]:
                view[name][n] = copy.deepcopy(current[name][n])
    return view


def from_json_patch(current: Mapping[str, Any], ops: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Any]:
    """The merge patch (TMF630) that RFC 6902 `ops` make of the quote's `fields`: each field
    they change with its new value (None: removed). 400 invalidJsonPatch for an operation that
    does not apply, or one on a field a patch may not change (its id, prices, parties...)."""
    import jsonpatch   # only a JSON Patch request loads it

    for op in ops:
        field = op["path"].split("/")[1] if op["path"].startswith("/") else ""
        if field.replace("~1", "/").replace("~0", "~") not in fields:
            raise bad_request(f"{op['path']}: a patch changes only {', '.join(fields)}", "invalidJsonPatch")
    view = _copied_for(current, ops, fields)
    try:
        new = jsonpatch.apply_patch(view, ops, in_place=True)   # on copies: `current` is left as it was
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError) as exc:
        raise bad_request(f"the JSON Patch does not apply: {str(exc)[:200]}", "invalidJsonPatch") from None
    before = {k: current[k] for k in fields if k in current}
    return {k: new.get(k) for k in sorted(set(before) | set(new)) if new.get(k) != before.get(k)}
