"""What a basket's lines add up to, kept on its header so a change costs the same whatever the
number of lines: per offering, the active quantity and active lines; the number of lines. Plain
functions over plain values (no AWS).

A basket's prices depend on its lines only through these sums: an item's prices come from its
offering, and the promotions, bundle prices and central rules look at which offerings are in the
sale and how many (chalicelib/basket/pricing.py, chalicelib/promotion/evaluator.py). So a change
prices the header from the composition, and writes only the lines it names.
"""
from __future__ import annotations

from typing import Any, Mapping

OFFERINGS, LINES, AGREED, NEXT, SHOWN = "offerings", "lines", "agreed", "next", "shown"


def empty() -> dict[str, Any]:
    return {OFFERINGS: {}, LINES: 0, NEXT: 1}


def places(composition: Mapping[str, Any] | None, new: int) -> tuple[list[int], dict[str, Any]]:
    """Places for `new` lines (after every line added before) and the composition counting them."""
    first = int((composition or {}).get(NEXT) or 1)
    return list(range(first, first + new)), {**(composition or empty()), NEXT: first + new}


def active(line: Mapping[str, Any] | None) -> bool:
    return line is not None and line.get("status", "active") == "active"


def changed(composition: Mapping[str, Any] | None, before: Mapping[str, Mapping[str, Any] | None],
            after: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """The composition after lines changed: `before[id]` the line as stored (None: new), `after[id]`
    the line written (None: deleted). Ids in `after` only are new lines."""
    comp = dict(composition or empty())
    offerings = {k: dict(v) for k, v in (comp.get(OFFERINGS) or {}).items()}
    count = int(comp.get(LINES) or 0)
    for line_id, new in after.items():
        old = before.get(line_id)
        for line, sign in ((old, -1), (new, 1)):
            if active(line):
                assert line is not None
                oid = line["productOffering"]["id"]
                entry = offerings.setdefault(oid, {"quantity": 0, "lines": 0,
                                                   "name": line["productOffering"].get("name")})
                entry["quantity"] += sign * int(line.get("quantity", 1))
                entry["lines"] += sign
                if entry["lines"] <= 0:
                    offerings.pop(oid)
        count += (new is not None) - (old is not None)
    comp[OFFERINGS] = dict(sorted(offerings.items()))
    comp[LINES] = count
    return comp


def line_count(composition: Mapping[str, Any] | None) -> int:
    return int((composition or {}).get(LINES) or 0)


def active_lines(composition: Mapping[str, Any] | None) -> int:
    return sum(int(e["lines"]) for e in ((composition or {}).get(OFFERINGS) or {}).values())


def sale(composition: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The sale the composition is, as cart items pricing takes: one per offering, its id the
    offering's, its quantity all its active lines'."""
    return [{"id": oid, "productOffering": {"id": oid, "name": e.get("name")}, "quantity": int(e["quantity"]),
             "status": "active", "@type": "CartItem"}
            for oid, e in ((composition or {}).get(OFFERINGS) or {}).items()]


def with_agreed(composition: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, Any]:
    """The prices the customer approved, per offering (every line of the offering then: the
    approval email showed them)."""
    return {**composition, AGREED: dict(agreed)}


def agreed_for(composition: Mapping[str, Any] | None, offering_id: str) -> Any:
    return ((composition or {}).get(AGREED) or {}).get(offering_id)


def with_shown(composition: Mapping[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
    """The unit prices (pricing.agreed's short form) the change priced, per offering: what the
    basket showed at this version (an approval by link agrees to those)."""
    return {**composition, SHOWN: dict(shown)}


def shown_for(composition: Mapping[str, Any] | None, offering_id: str) -> Any:
    return ((composition or {}).get(SHOWN) or {}).get(offering_id)
