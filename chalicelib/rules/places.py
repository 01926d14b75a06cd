"""The shipped lookup tables (coverage by postcode, region by IP), read once per container."""
from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

from chalicelib.rules import domain

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"


@functools.lru_cache(maxsize=None)
def _table(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text())


def coverage(postcode: str) -> dict[str, Any] | None:
    """{"prefix", "region", "technologies"} for a postcode, or None outside the table."""
    entry = domain.coverage_entry(postcode, _table("coverage.json")["postcodes"])
    return dict(entry) if entry else None


def technologies(postcode: str | None) -> frozenset[str] | None:
    """What can be sold at a postcode; None when no postcode is known (rules cannot tell)."""
    if not postcode:
        return None
    entry = coverage(postcode)
    return frozenset(entry["technologies"]) if entry else frozenset()


def region(postcode: str | None = None, ip: str | None = None) -> tuple[str | None, str | None]:
    """(region, where it came from: "postcode" | "ip") from a postcode, else the client IP."""
    if postcode:
        entry = coverage(postcode)
        if entry:
            return entry["region"], "postcode"
    found = domain.region_for_ip(ip, _table("ip_regions.json")["networks"])
    return (found, "ip") if found else (None, None)


def contract_rules() -> dict[str, Any]:
    """The contract rules (early termination fee and its waivers), data/contract.json."""
    return _table("contract.json")
