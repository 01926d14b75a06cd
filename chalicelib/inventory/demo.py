"""Demo products for the local runtime, with stable ids for curl examples (the demo customers of
chalicelib/customer/demo.py must be loaded first):

- prod-andrea-broadband: Andrea's Broadband 500, 24-month contract ending within 60 days.
- prod-stacy-mobile: Stacy's Mobile Unlimited, a year and more to go.
- prod-acme-broadband: Acme's Broadband 500.
Safe to load twice: a product that exists is kept as it is.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib import tmf
from chalicelib.inventory import domain, service, store

STACKS = {"po-broadband-500": "csp-stack-a", "po-mobile-unlimited": "csp-stack-b"}
SPECS = {"po-broadband-500": "ps-broadband", "po-mobile-unlimited": "ps-mobile"}


def _product(pid: str, name: str, offering: str, monthly: float, started_days_ago: int, ends_in_days: int,
             now: dt.datetime, characteristics: list[dict[str, Any]]) -> dict[str, Any]:
    start, end = tmf.iso(now - dt.timedelta(days=started_days_ago)), tmf.iso(now + dt.timedelta(days=ends_in_days))
    return {"id": pid, "name": name, "status": domain.ACTIVE, "isBundle": False, "startDate": start,
            "productOffering": {"id": offering, "name": name, "@referredType": "ProductOffering"},
            "productSpecification": {"id": SPECS[offering], "@referredType": "ProductSpecification"},
            "productCharacteristic": characteristics,
            "productPrice": [{"name": f"{name} monthly fee", "priceType": "recurring", "recurringChargePeriod": "month",
                              "price": {"taxIncludedAmount": {"unit": "EUR", "value": monthly}},
                              "productPriceAlteration": [], "@type": "ProductPrice"}],
            "productTerm": [{"name": "24 months", "duration": {"amount": 24, "units": "month"},
                             "validFor": {"startDateTime": start, "endDateTime": end}, "@type": "ProductTerm"}]}


def products(now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    speed = [{"name": "downloadSpeed", "value": "500 Mbit/s", "valueType": "string"}]
    return {"cust-andrea": [_product("prod-andrea-broadband", "Broadband 500", "po-broadband-500", 30, 685, 45, now,
                                     speed)],
            "cust-stacy": [_product("prod-stacy-mobile", "Mobile Unlimited", "po-mobile-unlimited", 25, 300, 430, now,
                                    [{"name": "dataAllowance", "value": "unlimited", "valueType": "string"}])],
            "cust-acme": [_product("prod-acme-broadband", "Broadband 500", "po-broadband-500", 30, 200, 530, now,
                                   speed)]}


def load() -> int:
    written = 0
    for customer_id, held in products(tmf.now()).items():
        customer = service.holder(customer_id)
        if customer is None:
            continue
        for body in held:
            doc = domain.new_product(body, body["id"], service.href(body["id"]), customer,
                                     STACKS[body["productOffering"]["id"]])
            written += store.insert(doc) is not None
    return written
