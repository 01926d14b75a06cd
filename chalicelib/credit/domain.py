"""Credit check rules, pure: which offerings need a check (from catalogue data), the decision a
bureau score leads to, the credit profile recorded on the customer (TMF629 `creditProfile`, the
first entry the current one) and while it is valid, what a decision means for an order (refused,
too many contract lines, a deposit per item checked), the TMF679 reasons and the 360 view's
summary. The numbers are data: data/credit.json."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import pathlib
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import tmf
from chalicelib.basket import pricing
from chalicelib.customer import domain as customer_domain

RULES_FILE = pathlib.Path(__file__).resolve().parent / "data" / "credit.json"
APPROVE, DEPOSIT, LINE_LIMIT, REFUSE = "approve", "approveWithDeposit", "lineLimit", "refuse"
DECISIONS = (APPROVE, DEPOSIT, LINE_LIMIT, REFUSE)
CONTRACT, FINANCING = "contract", "deviceFinancing"
REFUSED, TOO_MANY_LINES, REQUIRED = "creditRefused", "lineLimitExceeded", "creditCheckRequired"
DEPOSIT_NAME = "Deposit"
PROFILE_TYPE = "CreditProfile"
FINISHED = ("completed", "failed", "partial", "cancelled", "rejected")   # TMF622 final states
HISTORY = 5   # credit profiles kept on the customer, newest (the current one) first


@functools.lru_cache(maxsize=None)
def rules() -> dict[str, Any]:
    """data/credit.json, read once per container."""
    return json.loads(RULES_FILE.read_text())


@dataclasses.dataclass(frozen=True)
class Report:
    """What a credit bureau answers about a customer."""
    score: int
    reference: str
    bureau: str


# --- which offerings ----------------------------------------------------------------------------
def term_months(offering: Mapping[str, Any]) -> float:
    """The longest commitment an offering's terms ask for, in months (0: none)."""
    months = [float((t.get("duration") or {}).get("amount") or 0)
              * pricing.MONTHS.get((t.get("duration") or {}).get("units") or "", 0)
              for t in offering.get("productOfferingTerm") or [] if isinstance(t, Mapping)]
    return max(months, default=0)


def check_needed(offering: Mapping[str, Any], prices: Iterable[Mapping[str, Any] | None],
                 table: Mapping[str, Any]) -> str | None:
    """CONTRACT, FINANCING, or None when selling `offering` needs no credit check. `prices`: its
    productOfferingPrice documents."""
    need = table["needsCheck"]
    if term_months(offering) >= need["contract"]["minimumTermMonths"]:
        return CONTRACT
    devices = set(need["deviceFinancing"]["categories"])
    if devices & {c.get("id") for c in offering.get("category") or []} \
            and any((p or {}).get("priceType") == "recurring" for p in prices):
        return FINANCING
    return None


# --- decisions and profiles -----------------------------------------------------------------------
def band(score: int, table: Mapping[str, Any]) -> dict[str, Any]:
    """The decision band a score falls in (the highest minimumScore it reaches)."""
    bands = sorted(table["decisions"], key=lambda b: b["minimumScore"], reverse=True)
    return next((dict(b) for b in bands if score >= b["minimumScore"]), dict(bands[-1]))


def new_profile(report: Report, table: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """The TMF629 CreditProfile recording a bureau's answer and the decision it leads to, valid
    for `validForDays`."""
    chosen = band(report.score, table)
    doc: dict[str, Any] = {
        "id": report.reference, "creditProfileDate": tmf.iso(at),
        "validFor": {"startDateTime": tmf.iso(at), "endDateTime": tmf.iso(at + dt.timedelta(days=table["validForDays"]))},
        "creditScore": report.score, "creditRiskRating": chosen["creditRiskRating"], "decision": chosen["decision"],
        "bureau": report.bureau, "@type": PROFILE_TYPE}
    if chosen.get("deposit"):
        doc["deposit"] = dict(chosen["deposit"])
    if chosen.get("lineLimit") is not None:
        doc["lineLimit"] = chosen["lineLimit"]
    return doc


def current(customer: Mapping[str, Any] | None, at: dt.datetime) -> dict[str, Any] | None:
    """The customer's credit profile if it is valid at `at` and carries a decision; else None."""
    profiles = (customer or {}).get("creditProfile") or []
    first = profiles[0] if profiles and isinstance(profiles[0], Mapping) else None
    if first is None or first.get("decision") not in DECISIONS:
        return None
    period = first.get("validFor") or {}
    try:
        start = tmf.parse_datetime(period.get("startDateTime") or first.get("creditProfileDate"), "startDateTime")
        end = tmf.parse_datetime(period.get("endDateTime"), "endDateTime")
    except Exception:   # an agent's hand-written profile without a usable period: not a decision to reuse
        return None
    return dict(first) if start <= at < end and usable_terms(first) else None


def usable_terms(profile: Mapping[str, Any]) -> bool:
    """Whether what the decision needs is there and well-formed: a deposit's amount and currency,
    a line limit's number. A profile stored before they were validated may not be: it is then no
    decision to reuse (the bureau is asked again), never a fault at checkout."""
    if profile.get("decision") == DEPOSIT:
        terms = profile.get("deposit")
        if not isinstance(terms, Mapping) or not isinstance(terms.get("unit"), str) or not terms["unit"] \
                or isinstance(terms.get("perItem"), bool) or not isinstance(terms.get("perItem"), (int, float, str)):
            return False
        try:
            return pricing.amount(terms["perItem"]) >= 0
        except ArithmeticError:   # decimal.InvalidOperation: "abc", NaN, Infinity
            return False
    limit = profile.get("lineLimit")
    return profile.get("decision") != LINE_LIMIT or limit is None or (
        isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0)


def recorded(customer: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, Any]:
    """The customer with `profile` as the current credit profile (the older ones after it)."""
    return {**customer, "creditProfile": [dict(profile), *(customer.get("creditProfile") or [])][:HISTORY]}


# --- what a decision means for an order -------------------------------------------------------
def contract_lines(items: Sequence[Mapping[str, Any]], needs: Mapping[str, str | None],
                   held: Mapping[str, Mapping[str, Any]], at: dt.datetime) -> int:
    """Contract lines after the order: the products held under a running contract that the order
    does not change or end, plus the contract items it adds (their quantity)."""
    changed = {ref_id(i, "product") for i in items if i.get("action") in ("modify", "delete")}
    kept = sum(1 for pid, p in held.items() if pid not in changed
               and (customer_domain.days_left(customer_domain.contract_end(p), at) or 0) > 0)
    return kept + sum(int(i.get("quantity") or 1) for i in items
                      if i.get("action") == "add" and needs.get(i["id"]) == CONTRACT)


def pending_contract_lines(orders: Iterable[Mapping[str, Any]], kind: Callable[[str], str | None]) -> int:
    """Contract lines the customer's (top-level) orders in flight add: their `add` items of a
    contract offering (`kind(offering id)`) not finished yet (a completed one is a product held,
    counted as such; a cancelled or failed one adds nothing)."""
    return sum(int(i.get("quantity") or 1) for o in orders for i in o.get("productOrderItem") or []
               if i.get("action") == "add" and i.get("state") not in FINISHED
               and kind(str(ref_id(i, "productOffering") or "")) == CONTRACT)


def refusal(profile: Mapping[str, Any], lines: int) -> tuple[str, str] | None:
    """(code, message) when the decision does not let the customer have these products."""
    if profile["decision"] == REFUSE:
        return REFUSED, ("the credit check did not approve contract products or device financing; the customer may "
                         f"buy without a contract or financing, or ask again after {until(profile)}")
    limit = profile.get("lineLimit")
    if profile["decision"] == LINE_LIMIT and limit is not None and lines > int(limit):
        return TOO_MANY_LINES, (f"the credit check allows at most {limit} contract line(s) and this order would make "
                                f"{lines}: order fewer contract products, or end one first")
    return None


def deposit(profile: Mapping[str, Any], quantity: int) -> tuple[Decimal, str] | None:
    """(amount, unit) of the deposit the decision asks for `quantity` items checked, or None."""
    terms = profile.get("deposit") if profile["decision"] == DEPOSIT else None
    if not terms or quantity <= 0:
        return None
    return pricing.amount(terms["perItem"]) * quantity, terms["unit"]


def deposit_price(amount: Decimal, unit: str, quantity: int) -> dict[str, Any]:
    """The deposit as a one-off price (a CartPrice, as the order's other fees)."""
    return pricing.fee_price(DEPOSIT_NAME, amount, unit, f"refundable credit-check deposit for {quantity} "
                             f"contract or financed item(s): {pricing.text(amount)} {unit}", None)


def until(profile: Mapping[str, Any]) -> str:
    return str((profile.get("validFor") or {}).get("endDateTime") or "")[:10]


# --- TMF679 and the 360 view -------------------------------------------------------------------
def reason(code: str, label: str) -> dict[str, Any]:
    return {"code": code, "label": label, "@type": "EligibilityUnavailabilityReason"}


def qualification_reason(profile: Mapping[str, Any] | None, lines: int) -> dict[str, Any] | None:
    """The reason an offering that needs a credit check is not (yet) available to the customer;
    `lines`: the contract lines she would have with it."""
    if profile is None:
        return reason(REQUIRED, "a credit check is made at checkout (contract or device financing)")
    found = refusal(profile, lines)
    return reason(*found) if found else None


def explanation(profile: Mapping[str, Any] | None) -> str:
    if profile is None:
        return "no valid credit check: one is made at checkout for contract products or device financing"
    decision, end = profile["decision"], until(profile)
    if decision == APPROVE:
        return f"approved for contract products and device financing until {end}"
    if decision == DEPOSIT:
        terms = profile.get("deposit") or {}
        return f"approved with a deposit of {terms.get('perItem')} {terms.get('unit')} per contract or financed item until {end}"
    if decision == LINE_LIMIT:
        return f"approved for at most {profile.get('lineLimit')} contract line(s) until {end}"
    return f"refused contract products and device financing until {end}"


def summary(customer: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """The 360 view's credit section: the current decision, whether it is still valid, and what
    it means in words for the agent."""
    valid = current(customer, at)
    shown = valid or next(iter(customer.get("creditProfile") or []), None)
    out: dict[str, Any] = {"valid": valid is not None, "explanation": explanation(valid)}
    if isinstance(shown, Mapping):
        out.update({k: shown[k] for k in ("decision", "creditProfileDate", "validFor", "creditScore",
                                          "creditRiskRating", "deposit", "lineLimit") if k in shown})
    return out
