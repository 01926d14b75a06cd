"""Demo data for the local runtime: every context's demo loader, in dependency order."""
from __future__ import annotations

from chalicelib.basket import demo as basket_demo
from chalicelib.campaign import demo as campaign_demo
from chalicelib.catalog import demo as catalog_demo
from chalicelib.customer import demo as customer_demo
from chalicelib.promotion import demo as promotion_demo
from chalicelib.rules import demo as rules_demo
from chalicelib.stock import demo as stock_demo


def load_all() -> dict[str, int]:
    return {"catalog": catalog_demo.load(), "customer": customer_demo.load(), "rules": rules_demo.load(),
            "campaign": campaign_demo.load(), "basket": basket_demo.load(),
            "stock": stock_demo.load(), "promotion": promotion_demo.load()}
