"""The one promotion evaluator: which TMF671 promotions a sale gets, and what each takes off which
price. Plain functions over plain values (no AWS, no clock but the `Buyer.at` given); basket
pricing (chalicelib/basket/pricing.py) calls it for baskets, quotes and orders alike.

- A promotion applies when it is active, inside its validFor, and one of its patterns (lowest
  `priority` first) holds at `Buyer.at`: the pattern's criteria groups combined by
  `criteriaGroupLogicalRelationship` (AND unless "OR"), each group's criteria by
  `criteriaLogicalRelationship` (AND unless "OR"). `CRITERIA` names the parameters.
- Its actions (`ACTIONS`) take an amount off prices of the items in the sale: of the offering its
  `actionEntityRef` names, or of every item when it names none.
- `exclusiveGroup` (an extension): of the promotions sharing a group that the sale qualifies for,
  only the best for the customer applies (the most saved over `HORIZON_MONTHS`; then the lower
  priority, then the id); the others are reported with the reason. The group `bundle` also holds
  the catalogue's bundle prices (bundlePrice rules): such a promotion and a bundle discount on the
  same items never combine, the better of the two wins. Promotions without a group stack.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence
from chalicelib.view import ref_id

CENT = Decimal("0.01")
HORIZON_MONTHS = 24           # a discount "for good" is weighed over a usual contract term
BUNDLE_GROUP = "bundle"
ACTIVE = "active"
ONE_OFF, RECURRING = "oneTime", "recurring"
NEW, EXISTING = "new", "existing"
EQUAL, NOT_EQUAL = "=", "<>"
OPERATORS = (EQUAL, NOT_EQUAL)
PERCENT, AMOUNT, FREE_MONTHS, FREE_ITEM = "percentageOff", "amountOff", "freeMonths", "freeItem"
ACTIONS = {PERCENT: "a percentage (actionValue, 0 to 100) off the prices of priceType",
           AMOUNT: "an amount (actionValue, in the price's currency) off the prices of priceType",
           FREE_MONTHS: "the recurring price free for actionValue months",
           FREE_ITEM: "the offering actionEntityRef names free (every price), when it is in the sale"}


@dataclasses.dataclass(frozen=True)
class Buyer:
    """What a sale is: where, to whom, when. `held`: offering ids of the products she holds; a
    customer holding none (or an anonymous visitor) is a new customer."""
    channel: str | None
    at: dt.datetime
    segment: str | None = None
    held: tuple[str, ...] = ()
    campaign_code: str | None = None

    @property
    def status(self) -> str:
        return EXISTING if self.held else NEW


def buyer(channel: str | None, profile: Mapping[str, Any] | None, campaign_code: str | None,
          at: dt.datetime) -> Buyer:
    """A Buyer from a customer profile as the central rules read it (rules.service.profile:
    segment, held [[offering id, contract end], ...]); None: an anonymous visitor."""
    held = tuple(str(h[0]) for h in (profile or {}).get("held") or [] if h)
    return Buyer(channel, at, (profile or {}).get("segment"), held, campaign_code)


@dataclasses.dataclass(frozen=True)
class Sold:
    """One item of the sale: its id, offering, quantity, the categories of the offering, and its
    unit prices as (price type, charge period, currency, amount)."""
    item_id: str
    offering_id: str
    quantity: int
    categories: tuple[str, ...]
    prices: tuple[tuple[str, str | None, str, Decimal], ...]


@dataclasses.dataclass
class Grant:
    """What one promotion takes off one price of one item (per unit)."""
    item_id: str
    price_key: tuple[str, str | None, str]
    off: Decimal
    months: int | None
    ref: dict[str, Any]


@dataclasses.dataclass
class Outcome:
    """The promotions applied (their grants) and those the sale qualified for that lost to a
    better one of their exclusive group: (promotion ref, reason) by item id."""
    grants: list[Grant]
    declined: dict[str, list[dict[str, Any]]]
    bundle_wins: bool = True


# --- criteria ---------------------------------------------------------------------------------
def _campaign(code: str | None) -> set[str]:
    """A campaign code as sold: the campaign id, or a tracking code <campaign id>.<tag>."""
    return {code, code.split(".", 1)[0]} if code else set()


CRITERIA: dict[str, tuple[str, Callable[[Buyer, Sequence[Sold], str], bool]]] = {
    "channel": ("the sales channel (web, app, store, ...)", lambda b, s, v: b.channel == v),
    "customerSegment": ("the customer's segment (residential, business, ...)", lambda b, s, v: b.segment == v),
    "customerStatus": ("new (holds no product) or existing", lambda b, s, v: b.status == v),
    "campaignCode": ("the campaign code the basket or order carries", lambda b, s, v: v in _campaign(b.campaign_code)),
    "productHeld": ("an offering the customer holds", lambda b, s, v: v in b.held),
    "basketOffering": ("an offering in the sale", lambda b, s, v: any(i.offering_id == v for i in s)),
    "basketCategory": ("a category of an offering in the sale", lambda b, s, v: any(v in i.categories for i in s)),
}


def _holds(criterion: Mapping[str, Any], buyer_: Buyer, sold: Sequence[Sold]) -> bool:
    test = CRITERIA[criterion["criteriaParameter"]][1]
    found = test(buyer_, sold, str(criterion["criteriaValue"]))
    return found if criterion.get("criteriaOperator", EQUAL) == EQUAL else not found


def _either(relationship: Any, results: Iterable[bool]) -> bool:
    return any(results) if str(relationship or "AND").upper() == "OR" else all(results)


def within(period: Mapping[str, Any] | None, at: dt.datetime) -> bool:
    period = period or {}
    start, end = period.get("startDateTime"), period.get("endDateTime")
    return (not start or _moment(start) <= at) and (not end or at < _moment(end))


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def pattern_for(promotion: Mapping[str, Any], buyer_: Buyer, sold: Sequence[Sold]) -> Mapping[str, Any] | None:
    """The promotion's first pattern (by priority) the sale meets now, or None."""
    if promotion.get("lifecycleStatus") != ACTIVE or not within(promotion.get("validFor"), buyer_.at):
        return None
    for pattern in sorted(promotion.get("pattern") or [], key=priority):
        if not within(pattern.get("validFor"), buyer_.at):
            continue
        groups = [_either(g.get("criteriaLogicalRelationship"), (_holds(c, buyer_, sold) for c in g["criteria"]))
                  for g in pattern.get("criteriaGroup") or []]
        if _either(pattern.get("criteriaGroupLogicalRelationship"), groups):
            return pattern
    return None


def priority(pattern: Mapping[str, Any]) -> int:
    value = pattern.get("priority")
    return value if isinstance(value, int) else 1_000_000


# --- actions ----------------------------------------------------------------------------------
def _amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    value = value.quantize(CENT)
    return str(int(value)) if value == value.to_integral_value() else str(value)


def ref(promotion: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": promotion.get("id"), "href": promotion.get("href"), "name": promotion.get("name"),
           "@referredType": "Promotion"}
    return {k: v for k, v in out.items() if v is not None}


def _why(pattern: Mapping[str, Any], buyer_: Buyer, sold: Sequence[Sold]) -> str:
    """The reason shown with a promotion applied: its pattern's description, else the criteria the
    sale met."""
    met = [f"{c['criteriaParameter']} {c.get('criteriaOperator', EQUAL)} {c['criteriaValue']}"
           for g in pattern.get("criteriaGroup") or [] for c in g["criteria"] if _holds(c, buyer_, sold)]
    return pattern.get("description") or ("for " + ", ".join(met) if met else "for every sale")


def _grants(promotion: Mapping[str, Any], pattern: Mapping[str, Any], reason: str,
            sold: Sequence[Sold]) -> list[Grant]:
    out = []
    for action in pattern.get("action") or []:
        kind, target = action["actionType"], ref_id(action, "actionEntityRef")
        price_type = action.get("priceType") or RECURRING
        value = Decimal(str(action.get("actionValue") or 0))
        months = action.get("applicationDuration")
        if kind == FREE_MONTHS:
            price_type, months = RECURRING, int(value)
        for item in sold:
            if target and item.offering_id != target:
                continue
            for key4 in item.prices:
                p_type, period, unit, base = key4
                if kind != FREE_ITEM and (p_type == ONE_OFF) != (price_type == ONE_OFF):
                    continue
                if kind == PERCENT:
                    off = _amount(base * value / 100)
                elif kind == AMOUNT:
                    off = _amount(value)
                else:
                    off = base
                off = min(base, off)
                if off <= 0:
                    continue
                duration = months if p_type != ONE_OFF else None
                r = {**ref(promotion), "reason": reason, "actionType": kind}
                if kind == PERCENT:
                    r["percentage"] = float(value) if value != value.to_integral_value() else int(value)
                out.append(Grant(item.item_id, (p_type, period, unit), off, duration, r))
    return out


def worth(grants: Iterable[Grant], quantities: Mapping[str, int]) -> Decimal:
    """What grants save the customer: one-off amounts once, recurring ones for their months (for
    good: HORIZON_MONTHS)."""
    total = Decimal(0)
    for g in grants:
        times = 1 if g.price_key[0] == ONE_OFF else (g.months or HORIZON_MONTHS)
        total += g.off * quantities.get(g.item_id, 1) * times
    return total


# --- the sale ---------------------------------------------------------------------------------
def evaluate(promotions: Iterable[Mapping[str, Any]], buyer_: Buyer, sold: Sequence[Sold],
             bundle_saving: Decimal = Decimal(0), bundle_name: str = "the bundle price") -> Outcome:
    """The promotions the sale gets. `bundle_saving`: what the bundle prices found in the sale save
    over HORIZON_MONTHS (they compete in the `bundle` group)."""
    quantities = {i.item_id: i.quantity for i in sold}
    found = []
    for promotion in promotions:
        pattern = pattern_for(promotion, buyer_, sold)
        if pattern is None:
            continue
        grants = _grants(promotion, pattern, _why(pattern, buyer_, sold), sold)
        if grants:
            found.append((promotion, pattern, grants, worth(grants, quantities)))
    applied, bundle_wins = [], True
    declined: dict[str, list[dict[str, Any]]] = {}
    groups: dict[str, list] = {}
    for entry in found:
        group = entry[0].get("exclusiveGroup")
        if group:
            groups.setdefault(str(group), []).append(entry)
        else:
            applied.append(entry)
    for group, members in groups.items():
        ranked = sorted(members, key=lambda e: (-e[3], priority(e[1]), str(e[0].get("id"))))
        best = ranked[0]
        if group == BUNDLE_GROUP and bundle_saving > 0 and bundle_saving >= best[3]:
            bundle_wins, losers, winner_name, winner_worth = True, ranked, bundle_name, bundle_saving
        else:
            applied.append(best)
            losers, winner_name, winner_worth = ranked[1:], best[0].get("name"), best[3]
            if group == BUNDLE_GROUP and bundle_saving > 0:
                bundle_wins = False
        for promotion, _pattern, grants, value in losers:
            why = (f"not combinable with {winner_name} (exclusive group {group}), which saves more: "
                   f"{_text(winner_worth)} against {_text(value)} over {HORIZON_MONTHS} months")
            for item_id in dict.fromkeys(g.item_id for g in grants):
                declined.setdefault(item_id, []).append({"promotion": ref(promotion), "applied": False,
                                                         "reason": why})
    return Outcome([g for entry in applied for g in entry[2]], declined, bundle_wins)
