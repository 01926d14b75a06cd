"""Demo data for the local runtime: every context's demo loader, in dependency order."""
from __future__ import annotations

from chalicelib.catalog import demo as catalog_demo
from chalicelib.customer import demo as customer_demo


def load_all() -> dict[str, int]:
    return {"catalog": catalog_demo.load(), "customer": customer_demo.load()}
