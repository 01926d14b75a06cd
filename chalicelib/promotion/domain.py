"""TMF671 promotion rules, pure: what a valid promotion is, its lifecycle, what each role sees.
No I/O. How a promotion prices a sale is the evaluator's (evaluator.py).

Lifecycle: inDesign (being made; nobody buys with it) -> active (priced into sales inside its
validFor) -> retired (kept for the record; priced into nothing). A retired promotion does not come
back: a new one is made instead. Only an inDesign promotion may be deleted.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.view import ref_id
from chalicelib import deferred, tmf
from chalicelib.errors import bad_request

if TYPE_CHECKING:
    from chalicelib.promotion import evaluator
else:   # by the first promotion checked or priced: the promotion routes register without it (cold start)
    evaluator = deferred.module("chalicelib.promotion.evaluator")

API_NAME = "promotionManagement"
API_ROOT = "/tmf-api/promotionManagement/v4"
RESOURCE = "promotion"
TYPE = "Promotion"
IN_DESIGN, ACTIVE, RETIRED = "inDesign", "active", "retired"
MOVES = {IN_DESIGN: (IN_DESIGN, ACTIVE, RETIRED), ACTIVE: (ACTIVE, RETIRED), RETIRED: (RETIRED,)}
READ_ONLY = ("id", "href", "@type", "lastUpdate")


def check(doc: Mapping[str, Any]) -> None:
    """What the schema cannot say: amounts in range, the references an action needs, periods in
    order. 400 naming the place."""
    _period(doc.get("validFor"), "validFor")
    for p, pattern in enumerate(doc.get("pattern") or []):
        _period(pattern.get("validFor"), f"pattern.{p}.validFor")
        for a, action in enumerate(pattern.get("action") or []):
            _action(action, f"pattern.{p}.action.{a}")


def _action(action: Mapping[str, Any], where: str) -> None:
    kind, raw = action["actionType"], action.get("actionValue")
    value = Decimal(str(raw)) if raw is not None else None
    if kind == evaluator.FREE_ITEM:
        if not ref_id(action, "actionEntityRef"):
            raise bad_request(f"{where}: a freeItem action names the offering given free in actionEntityRef",
                              "invalidAction")
        return
    if value is None:
        raise bad_request(f"{where}: a {kind} action needs an actionValue", "invalidAction")
    if kind == evaluator.PERCENT and not Decimal(0) < value <= Decimal(100):
        raise bad_request(f"{where}: a percentage off is more than 0 and at most 100, not {raw}", "invalidAction")
    if kind == evaluator.AMOUNT and not Decimal(0) < value <= Decimal(1_000_000):
        raise bad_request(f"{where}: an amount off is more than 0, not {raw}", "invalidAction")
    if kind == evaluator.FREE_MONTHS and (value != value.to_integral_value() or not 1 <= value <= 120):
        raise bad_request(f"{where}: free months are a whole number from 1 to 120, not {raw}", "invalidAction")


def _period(period: Mapping[str, Any] | None, where: str) -> None:
    start, end = (period or {}).get("startDateTime"), (period or {}).get("endDateTime")
    begins = tmf.parse_datetime(start, f"{where}.startDateTime") if start is not None else None
    ends = tmf.parse_datetime(end, f"{where}.endDateTime") if end is not None else None
    if begins and ends and ends <= begins:
        raise bad_request(f"{where} ends before it starts", "invalidPeriod")


def new_promotion(body: Mapping[str, Any], rid: str, href: str, at: str) -> dict[str, Any]:
    return {**body, "id": rid, "href": href, "lifecycleStatus": body.get("lifecycleStatus") or IN_DESIGN,
            "lastUpdate": at, "@type": TYPE}


def patched(current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The promotion after a merge patch. ValueError naming a read-only field; LookupError for a
    lifecycle move that is not allowed."""
    for name in READ_ONLY:
        if name in patch and patch[name] != current.get(name):
            raise ValueError(name)
    doc = tmf.merge_patch(dict(current), dict(patch))
    before, after = current.get("lifecycleStatus") or IN_DESIGN, doc.get("lifecycleStatus") or IN_DESIGN
    if after not in MOVES[before]:
        raise LookupError(f"a promotion {before} cannot become {after} (inDesign -> active -> retired)")
    doc["lastUpdate"] = at
    return doc


def live(doc: Mapping[str, Any], at: dt.datetime) -> bool:
    """Active and inside its validFor: what sales are priced with, and what channels may read."""
    return doc.get("lifecycleStatus") == ACTIVE and evaluator.within(doc.get("validFor"), at)
