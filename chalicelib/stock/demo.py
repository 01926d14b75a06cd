"""Demo stock for the local runtime, with stable ids for curl examples: the Phone X handset
(po-phone-x, chalicelib/catalog/demo.py) in the central warehouse and the two stores, the last
unit in Cork (click-and-collect and "last one" demos). Safe to load twice: a stock that exists
is kept as it is (levels moved by reservations are not reset)."""
from __future__ import annotations

from chalicelib import tmf
from chalicelib.stock import domain, service, store

HANDSETS = {"po-phone-x": "Phone X"}
LEVELS = {domain.CENTRAL: 50, "store-dublin-grafton": 4, "store-cork-patrick": 1}


def stocks() -> list[dict]:
    return [{"name": f"{name} at {domain.LOCATIONS[location]}", "productStockStatusType": "available",
             "productStockLevel": {"amount": amount, "units": "unit"},
             "stockedProduct": {"name": name, "productOffering": {"id": offering, "name": name,
                                                                  "@referredType": "ProductOffering"}},
             "place": domain.place(location)}
            for offering, name in HANDSETS.items() for location, amount in LEVELS.items()]


def load() -> int:
    written, at = 0, tmf.now_iso()
    for body in stocks():
        rid = domain.stock_id(domain.offering_of(body) or "", domain.location_of(body))
        written += store.insert_stock(domain.new_stock(body, rid, service.href(domain.STOCK, rid), at)) is not None
    return written
