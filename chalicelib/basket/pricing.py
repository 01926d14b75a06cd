"""Basket pricing from the catalogue, never from the caller. Plain functions over plain values.

- An item's `itemPrice` is one CartPrice per price of its offering (oneTime, recurring, ...), each
  with the promotions its price points to (popRelationship "promotion") as `priceAlteration` with
  `applicationDuration` in charge periods: "0 EUR for 6 months, then 30 EUR/month".
- `ItemTotalPrice` (the TMF663 v4 spelling; the basket also shows it as v5's `itemTotalPrice`) is
  the same per price type and period, times the quantity.
- `cartTotalPrice` adds up the active items per price type and period. Bundle prices
  (bundlePrice rules): when every part of a bundle is in the basket, bought apart, the cart gets a
  recurring discount bringing those parts down to the bundle's price (Extreme Bundle: 60 EUR/month
  instead of 75); the parts' own promotions are then not combined with it.
- Channel prices: a price (or a promotion) with a `channel` list (our extension of TMF620's
  ProductOfferingPrice, the same list and rule as an offering's channel) applies only in those
  channels; one without applies everywhere. In a channel it names, a channel price replaces the
  general price of the same type, period and currency. `prices_for` alone chooses them;
  every pricing function takes the channel sold in (None: no channel known, general prices only).
- Segment prices: a price with a `marketSegment` list (the same extension, the same list as an
  offering's) applies only to customers of those segments (business prices), and replaces the
  general or channel price of the same type, period and currency for them; an anonymous visitor
  (no segment) gets general prices. The segment is the Buyer's, so baskets, quotes and orders of a
  business customer are priced alike.
- Promotions as data (TMF671, chalicelib/promotion): `price_basket` asks the one evaluator
  (chalicelib/promotion/evaluator.py) which promotions the sale gets for its Buyer (channel,
  customer, campaign code, moment) and adds them to the items' prices as priceAlterations naming
  the promotion, its duration and the reason; each item's `promotionEvaluation` says which were
  applied and why an exclusive one was not. Baskets, quotes and orders all price here.
Catalogue prices are taken as tax included. Amounts are Decimal inside, JSON numbers outside.
"""
from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Protocol, Sequence

from chalicelib import tmf
from chalicelib.catalog.domain import sold_in_channel
from chalicelib.promotion import evaluator
from chalicelib.promotion.evaluator import Buyer

CENT = Decimal("0.01")
buyer = evaluator.buyer         # the sale's Buyer, as the three callers build it
PROMOTION = "promotion"               # every new sale of the price gets it
SUBSCRIBER_PROMOTION = "subscriberPromotion"   # a customer adds it to a subscription she holds
PROMOTIONS = (PROMOTION, SUBSCRIBER_PROMOTION)
DISCOUNT_TYPES = ("discount", "allowance")
ONE_OFF = "oneTime"
MONTHS = {"month": 1, "year": 12}


class Catalogue(Protocol):
    def offering(self, oid: str) -> Mapping[str, Any] | None: ...
    def price(self, pid: str) -> Mapping[str, Any] | None: ...


def _promotions(cat: Catalogue) -> Sequence[Mapping[str, Any]]:
    """The TMF671 promotions the catalogue holds (a catalogue that keeps none: none)."""
    found = getattr(cat, "promotions", None)
    return found() if callable(found) else ()


def amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Decimal) -> float | int:
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def text(value: Decimal) -> str:
    return str(number(value))


def money(value: Decimal, unit: str) -> dict[str, Any]:
    return {"unit": unit, "value": number(value)}


def period(pop: Mapping[str, Any]) -> str | None:
    """"month" for a monthly charge; "3 month" for a quarterly one; None for one-off prices."""
    if pop.get("priceType") in (ONE_OFF, None):
        return None
    unit = pop.get("recurringChargePeriodType") or "month"
    length = int(pop.get("recurringChargePeriodLength") or 1)
    return unit if length == 1 else f"{length} {unit}"


def _pop_ref(pop: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": pop["id"], "href": pop.get("href"), "name": pop.get("name"), "@referredType": "ProductOfferingPrice"}
    return {k: v for k, v in out.items() if v is not None}


def _source(promo: Mapping[str, Any]) -> dict[str, Any]:
    """Where an alteration comes from: a catalogue price (its POP) or a TMF671 promotion (its
    reference, and the reason it applies)."""
    if promo.get("@referredType") == "Promotion":
        return {"promotion": evaluator.ref(promo), "reason": promo.get("reason")}
    return {"productOfferingPrice": _pop_ref(promo)}


def duration(pop: Mapping[str, Any], charge_period: str | None) -> int | None:
    """How many charge periods a promotion lasts (its productOfferingTerm), None when for good."""
    for term in pop.get("productOfferingTerm") or []:
        d = term.get("duration") or {}
        if d.get("amount"):
            months = float(d["amount"]) * MONTHS.get(d.get("units") or "", 0)
            if charge_period == "month" and months:
                return int(months)
            return int(d["amount"])
    return None


# --- which prices apply ----------------------------------------------------------------------
def _price_key(pop: Mapping[str, Any]) -> tuple[Any, str | None, Any]:
    return pop.get("priceType") or ONE_OFF, period(pop), (pop.get("price") or {}).get("unit", "EUR")


def _segments(pop: Mapping[str, Any]) -> set[str]:
    return {str(s.get("id") or s.get("name")) for s in pop.get("marketSegment") or [] if isinstance(s, Mapping)}


def _specific(pop: Mapping[str, Any]) -> tuple[bool, bool]:
    """How specific a price is: for a segment (first), for a channel (second)."""
    return bool(_segments(pop)), bool(pop.get("channel"))


def prices_for(offering: Mapping[str, Any], cat: Catalogue, channel: str | None,
               segment: str | None = None) -> list[Mapping[str, Any]]:
    """The offering's price documents that apply to a sale in `channel` to a customer of
    `segment`: every price whose channel list is empty or names the channel and whose segment
    list is empty or names the segment (None, an anonymous visitor: general prices only); of the
    prices of one type, period and currency, only the most specific apply (a segment's price
    over a channel's, a channel's over the general one)."""
    found = [cat.price(ref["id"]) for ref in offering.get("productOfferingPrice") or []]
    usable = [p for p in found if p and sold_in_channel(p, channel)
              and (not _segments(p) or (segment is not None and segment in _segments(p)))]
    best: dict[tuple[Any, str | None, Any], tuple[bool, bool]] = {}
    for p in usable:
        best[_price_key(p)] = max(best.get(_price_key(p), (False, False)), _specific(p))
    return [p for p in usable if _specific(p) == best[_price_key(p)]]


def promotion_in_channel(promo: Mapping[str, Any] | None, channel: str | None) -> bool:
    """A promotion (a POP a price relates to) that may be given in `channel` now."""
    return promo is not None and bool(promo) and promo.get("lifecycleStatus", "active") in ("active", "launched") \
        and sold_in_channel(promo, channel)


# --- one item ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Line:
    """One price of an item (per unit), with its promotions."""
    price_type: str
    period: str | None
    unit: str
    value: Decimal
    pop: Mapping[str, Any]
    alterations: list[tuple[Decimal, int | None, Mapping[str, Any]]]   # (amount off, duration, promo POP)

    def key(self) -> tuple[str, str | None, str]:
        return self.price_type, self.period, self.unit


def _off(base: Decimal, promo: Mapping[str, Any]) -> Decimal:
    if promo.get("percentage") is not None:
        return min(base, amount(base * Decimal(str(promo["percentage"])) / 100))
    return min(base, amount((promo.get("price") or {}).get("value", 0)))


def lines(offering: Mapping[str, Any], cat: Catalogue, channel: str | None,
          chosen: Iterable[str] | None = None, segment: str | None = None) -> list[Line]:
    """The offering's prices in `channel` with their promotions. `chosen` (promotion POP ids): only
    those promotions, of any PROMOTIONS relationship (a promotion added to a subscription held),
    instead of the ones every new sale gets."""
    chosen = None if chosen is None else set(chosen)
    out = []
    for pop in prices_for(offering, cat, channel, segment):
        if pop.get("priceType") in DISCOUNT_TYPES or not pop.get("price"):
            continue
        base = amount(pop["price"]["value"])
        each = period(pop)
        alterations = []
        for rel in pop.get("popRelationship") or []:
            wanted = rel.get("relationshipType") == PROMOTION if chosen is None else \
                rel.get("relationshipType") in PROMOTIONS and rel.get("id") in chosen
            promo = cat.price(rel["id"]) if wanted else None
            if promo and promotion_in_channel(promo, channel):
                alterations.append((_off(base, promo), duration(promo, each), promo))
        out.append(Line(pop.get("priceType") or ONE_OFF, each, pop["price"].get("unit", "EUR"), base, pop, alterations))
    return out


def schedule(base: Decimal, alterations: Iterable[tuple[Decimal, int | None]], unit: str, each: str | None) -> str:
    """"0 EUR for 6 months, then 30 EUR/month" from a price and its time-limited reductions."""
    alterations = list(alterations)
    per = f"/{each}" if each else ""
    forever = sum((off for off, d in alterations if d is None), Decimal(0))
    ends = sorted({d for _, d in alterations if d is not None})
    parts, start = [], 0
    for end in ends:
        during = base - forever - sum((off for off, d in alterations if d is not None and d >= end), Decimal(0))
        span = end - start
        unit_name = (each or "period").split()[-1]
        parts.append(f"{text(max(during, Decimal(0)))} {unit}{per} for {span} {unit_name}{'s' if span != 1 else ''}")
        start = end
    final = f"{text(max(base - forever, Decimal(0)))} {unit}{per}"
    return ", then ".join(parts + [final]) if parts else final


def _alteration(off: Decimal, months: int | None, promo: Mapping[str, Any], line: Line, qty: int) -> dict[str, Any]:
    price: dict[str, Any] = {"taxIncludedAmount": money(off * qty, line.unit)}
    if promo.get("percentage") is not None:
        price["percentage"] = promo["percentage"]
    out = {"name": promo.get("name"), "priceType": "discount", "price": price,
           "description": schedule(line.value * qty, [(off * qty, months)], line.unit, line.period),
           **_source(promo), "@type": "PriceAlteration"}
    if months is not None:
        out["applicationDuration"] = months
    if line.period:
        out["recurringChargePeriod"] = line.period
    return out


def cart_price(name: str | None, line: Line, qty: int, with_ref: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name, "priceType": line.price_type, "price": {"taxIncludedAmount": money(line.value * qty, line.unit)},
        "priceAlteration": [_alteration(off, d, promo, line, qty) for off, d, promo in line.alterations],
        "description": schedule(line.value * qty, [(o * qty, d) for o, d, _ in line.alterations], line.unit, line.period),
        "@type": "CartPrice"}
    if line.period:
        out["recurringChargePeriod"] = line.period
    if with_ref:
        out["productOfferingPrice"] = _pop_ref(line.pop)
    return out


def _group(all_lines: Iterable[tuple[Line, int]]) -> list[tuple[tuple[str, str | None, str], Decimal, list]]:
    """Lines (with quantities) added up per price type, period and currency."""
    groups: dict[tuple[str, str | None, str], tuple[Decimal, list]] = {}
    for line, qty in all_lines:
        total, alts = groups.get(line.key(), (Decimal(0), []))
        alts = alts + [(off * qty, d, promo) for off, d, promo in line.alterations]
        groups[line.key()] = (total + line.value * qty, alts)
    order = {ONE_OFF: 0, "recurring": 1}
    return [(k, v[0], v[1]) for k, v in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 2), str(kv[0])))]


def total_prices(all_lines: Iterable[tuple[Line, int]], label: str,
                 extra: Mapping[tuple[str, str | None, str], list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """CartPrices per price type / period: the sum, its promotions, and `extra` alterations
    (amount, duration, description, name) such as bundle discounts."""
    out = []
    for (price_type, each, unit), total, alts in _group(all_lines):
        more = list((extra or {}).get((price_type, each, unit), []))
        reductions = [(off, d) for off, d, _ in alts] + [(m["amount"], None) for m in more]
        alterations = [{"name": promo.get("name"), "priceType": "discount", "applicationDuration": d,
                        "price": {"taxIncludedAmount": money(off, unit)}, **_source(promo),
                        "@type": "PriceAlteration", **({"recurringChargePeriod": each} if each else {})}
                       for off, d, promo in alts]
        alterations = [{k: v for k, v in a.items() if v is not None} for a in alterations]
        alterations += [{"name": m["name"], "priceType": "discount", "description": m["description"],
                         "price": {"taxIncludedAmount": money(m["amount"], unit)}, "@type": "PriceAlteration",
                         **({"recurringChargePeriod": each} if each else {})} for m in more]
        name = f"{label} {'one-off' if price_type == ONE_OFF else (each and f'per {each}') or price_type}"
        out.append({"name": name, "priceType": price_type, "price": {"taxIncludedAmount": money(total, unit)},
                    "priceAlteration": alterations, "description": schedule(total, reductions, unit, each),
                    "@type": "CartPrice", **({"recurringChargePeriod": each} if each else {})})
    return out


# --- bundles ----------------------------------------------------------------------------------
@dataclasses.dataclass
class BundleMatch:
    bundle: Mapping[str, Any]
    sets: int
    item_ids: list[str]
    parts_value: Decimal
    bundle_value: Decimal
    unit: str

    def alteration(self) -> dict[str, Any]:
        off = (self.parts_value - self.bundle_value) * self.sets
        names = ", ".join(p.get("name") or p["id"] for p in self.bundle.get("bundledProductOffering") or [])
        return {"name": f"{self.bundle.get('name')} price", "amount": off,
                "description": f"{names} together for {text(self.bundle_value)} {self.unit}/month instead of "
                               f"{text(self.parts_value)} {self.unit}/month"}


def recurring_value(offering: Mapping[str, Any], cat: Catalogue, channel: str | None,
                    segment: str | None = None) -> tuple[Decimal, str]:
    monthly = [ln for ln in lines(offering, cat, channel, segment=segment) if ln.period == "month"]
    return sum((ln.value for ln in monthly), Decimal(0)), (monthly[0].unit if monthly else "EUR")


def bundle_matches(items: Sequence[Mapping[str, Any]], bundle_ids: Iterable[str], cat: Catalogue,
                   channel: str | None, segment: str | None = None) -> list[BundleMatch]:
    """Bundles whose every part is among the active items (each item in one bundle at most)."""
    used: set[str] = set()
    out = []
    for bid in bundle_ids:
        bundle = cat.offering(bid)
        parts = [p["id"] for p in (bundle or {}).get("bundledProductOffering") or []]
        if not bundle or not parts:
            continue
        chosen = {p: [i for i in items if i["offeringId"] == p and i["id"] not in used] for p in parts}
        sets = min(sum(i["quantity"] for i in chosen[p]) for p in parts)
        if sets <= 0:
            continue
        parts_value = Decimal(0)
        for p in parts:
            part = cat.offering(p)
            parts_value += recurring_value(part, cat, channel, segment)[0] if part else Decimal(0)
        bundle_value, unit = recurring_value(bundle, cat, channel, segment)
        if parts_value <= bundle_value:
            continue
        ids = [i["id"] for p in parts for i in chosen[p]]
        used.update(ids)
        out.append(BundleMatch(bundle, sets, ids, parts_value, bundle_value, unit))
    return out


# --- the basket -------------------------------------------------------------------------------
def price_basket(items: list[dict[str, Any]], offerings: Mapping[str, Mapping[str, Any]], cat: Catalogue,
                 channel: str | None, bundle_ids: Iterable[str] = (), who: Buyer | None = None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(cart items with itemPrice and ItemTotalPrice, cartTotalPrice) for a sale in `channel`.

    `items` are stored cart items ({"id", "quantity", "status", "productOffering": {"id"}, ...});
    `offerings` the offering documents they refer to, by id; `who` buys, when (None: an
    anonymous visitor in `channel` now) for the TMF671 promotions."""
    active = [{"id": i["id"], "offeringId": i["productOffering"]["id"], "quantity": i["quantity"]}
              for i in items if i.get("status", "active") == "active"]
    who = who or Buyer(channel, tmf.now())
    matches = bundle_matches(active, bundle_ids, cat, channel, who.segment)
    item_lines = {i["id"]: lines(offerings[i["productOffering"]["id"]], cat, channel, segment=who.segment)
                  for i in items}
    outcome = _promotions_for(items, offerings, item_lines, cat, matches, who)
    if not outcome.bundle_wins:
        matches = []
    bundled = {iid for m in matches for iid in m.item_ids}
    priced, cart_lines = [], []
    for item in items:
        offering = offerings[item["productOffering"]["id"]]
        own = _with_grants(item_lines[item["id"]], [g for g in outcome.grants if g.item_id == item["id"]])
        qty = item["quantity"]
        totals = total_prices([(ln, qty) for ln in own], "Item total")
        out = {**item, "itemPrice": [cart_price(ln.pop.get("name"), ln, 1, True) for ln in own],
               "ItemTotalPrice": totals}
        note = _bundle_note(offering, cat, channel, who.segment)
        if note:
            out["itemPrice"] = [{**p, "description": f"{p['description']} ({note})"} if p.get("recurringChargePeriod")
                                == "month" else p for p in out["itemPrice"]]
        if item["id"] in bundled:
            name = next(m.bundle.get("name") for m in matches if item["id"] in m.item_ids)
            out["pricingNote"] = f"priced with the {name} in the cart total: its promotions do not combine"
            own = [dataclasses.replace(ln, alterations=[a for a in ln.alterations if _is_promotion(a[2])])
                   for ln in own]
        else:
            out.pop("pricingNote", None)
        evaluation = _evaluation(own, outcome.declined.get(item["id"], []))
        out.pop("promotionEvaluation", None)
        if evaluation and item.get("status", "active") == "active":
            out["promotionEvaluation"] = evaluation
        if item.get("status", "active") == "active":
            cart_lines += [(ln, qty) for ln in own]
        priced.append(out)
    extra: dict[tuple[str, str | None, str], list[dict[str, Any]]] = {}
    for m in matches:
        extra.setdefault(("recurring", "month", m.unit), []).append(m.alteration())
    return priced, total_prices(cart_lines, "Cart total", extra)


def _is_promotion(promo: Mapping[str, Any]) -> bool:
    return promo.get("@referredType") == "Promotion"


def _promotions_for(items: list[dict[str, Any]], offerings: Mapping[str, Mapping[str, Any]],
                    item_lines: Mapping[str, list[Line]], cat: Catalogue, matches: list[BundleMatch],
                    who: Buyer) -> evaluator.Outcome:
    """The evaluator's answer for the active items (and the bundle prices found, which compete
    with the promotions of the `bundle` exclusive group)."""
    sold = []
    for item in items:
        if item.get("status", "active") != "active":
            continue
        offering = offerings[item["productOffering"]["id"]]
        categories = tuple(str(c.get(k)) for c in offering.get("category") or [] for k in ("id", "name") if c.get(k))
        sold.append(evaluator.Sold(item["id"], offering["id"], item["quantity"], categories,
                                   tuple((ln.price_type, ln.period, ln.unit, ln.value) for ln in item_lines[item["id"]])))
    saving = sum(((m.parts_value - m.bundle_value) * m.sets * evaluator.HORIZON_MONTHS for m in matches), Decimal(0))
    names = " and ".join(f"{m.bundle.get('name')} price" for m in matches) or "the bundle price"
    return evaluator.evaluate(_promotions(cat), who, sold, saving, names)


def _with_grants(item_lines: list[Line], grants: list[evaluator.Grant]) -> list[Line]:
    return [dataclasses.replace(ln, alterations=ln.alterations + [(g.off, g.months, g.ref) for g in grants
                                                                  if g.price_key == ln.key()])
            for ln in item_lines]


def _evaluation(item_lines: list[Line], declined: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The TMF671 promotions an item got (name, duration, reason) and those it did not (why)."""
    applied: dict[str, dict[str, Any]] = {}
    for ln in item_lines:
        for _, months, promo in ln.alterations:
            if _is_promotion(promo):
                entry = applied.setdefault(str(promo.get("id")), {"promotion": evaluator.ref(promo), "applied": True,
                                                                   "reason": promo.get("reason")})
                if months is not None and ln.period:
                    entry["applicationDuration"] = months
                    entry["recurringChargePeriod"] = ln.period
    return list(applied.values()) + declined


def _bundle_note(offering: Mapping[str, Any], cat: Catalogue, channel: str | None, segment: str | None) -> str | None:
    """"instead of 75 EUR/month apart" for a bundle offering cheaper than its parts."""
    parts = [cat.offering(p["id"]) for p in offering.get("bundledProductOffering") or []]
    known = [p for p in parts if p]
    if not parts or len(known) < len(parts):
        return None
    apart = sum((recurring_value(p, cat, channel, segment)[0] for p in known), Decimal(0))
    own, unit = recurring_value(offering, cat, channel, segment)
    return f"instead of {text(apart)} {unit}/month for its parts apart" if apart > own else None



def promotions_offered(offering: Mapping[str, Any], cat: Catalogue, channel: str | None,
                       segment: str | None = None) -> dict[str, Mapping[str, Any]]:
    """The promotions (POP documents by id) the catalogue relates to the offering's prices in
    `channel`, of either kind: what a `modify` item may add to a subscription held."""
    out = {}
    for pop in prices_for(offering, cat, channel, segment):
        for rel in pop.get("popRelationship") or []:
            promo = cat.price(rel["id"]) if rel.get("relationshipType") in PROMOTIONS else None
            if promo and promotion_in_channel(promo, channel):
                out[promo["id"]] = promo
    return out


def promotion_prices(offering: Mapping[str, Any], cat: Catalogue, channel: str | None,
                     chosen: Iterable[str], segment: str | None = None) -> list[dict[str, Any]]:
    """The item prices of a subscription held with the promotions `chosen` added: each price one
    of them alters, "12.5 EUR/month for 6 months, then 25 EUR/month"."""
    return [cart_price(ln.pop.get("name"), ln, 1, True) for ln in lines(offering, cat, channel, chosen, segment)
            if ln.alterations]


def fee_price(name: str, fee: Decimal, unit: str, description: str, waiver: Mapping[str, Any] | None
              ) -> dict[str, Any]:
    """A one-off fee as a CartPrice; a waived fee shows in full with a 100 % priceAlteration naming
    the rule that waives it (never silently left out)."""
    out: dict[str, Any] = {"name": name, "priceType": ONE_OFF, "price": {"taxIncludedAmount": money(fee, unit)},
                           "description": description, "priceAlteration": [], "@type": "CartPrice"}
    if waiver is not None:
        out["priceAlteration"] = [{"name": waiver.get("label") or waiver.get("code"), "priceType": "discount",
                                   "price": {"taxIncludedAmount": money(fee, unit), "percentage": 100},
                                   "description": waiver.get("label"), "@type": "PriceAlteration"}]
        out["description"] = f"{description}; {waiver.get('label')}: 0 {unit}"
    return out


def agreed(item_prices: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """An item's unit prices in short (type, period, amount, promotions with their duration): what
    the customer agreed to when she added the item (or approved the basket). Checkout compares the
    catalogue's prices then with these: a change is shown and must be accepted, never charged
    silently."""
    out = []
    for p in item_prices or []:
        short: dict[str, Any] = {"priceType": p.get("priceType"),
                                 "taxIncludedAmount": (p.get("price") or {}).get("taxIncludedAmount")}
        if p.get("recurringChargePeriod"):
            short["recurringChargePeriod"] = p["recurringChargePeriod"]
        alterations = [{"taxIncludedAmount": (a.get("price") or {}).get("taxIncludedAmount"),
                        **({"applicationDuration": a["applicationDuration"]} if "applicationDuration" in a else {})}
                       for a in p.get("priceAlteration") or []]
        if alterations:
            short["priceAlteration"] = alterations
        out.append(short)
    return out
