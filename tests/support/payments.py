"""Paying an order's one-off charges (TMF676) in tests that run against a local runtime: an order
with one-off charges starts its workflow only once paid (chalicelib/payment)."""
from __future__ import annotations

from typing import Any

PAYMENTS = "/tmf-api/paymentManagement/v4/payment"


def one_off_total(order: dict[str, Any]) -> float:
    return sum(p["price"]["taxIncludedAmount"]["value"] for p in order.get("orderTotalPrice") or []
               if p.get("priceType") == "oneTime")


def paid_over_http(runtime: Any, headers: dict[str, str], order: dict[str, Any]) -> dict[str, Any] | None:
    """Pay `order`'s one-off total with an authorizing card (the simulated provider); None when it
    has nothing one-off (it started at once)."""
    total = one_off_total(order)
    if not total:
        return None
    status, _, paid = runtime.request("POST", PAYMENTS, {
        "account": {"id": "ba-test"}, "paymentMethod": {"id": "tok-visa"},
        "totalAmount": {"unit": "EUR", "value": total},
        "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}]}, headers)
    assert status == 201 and paid["status"] == "authorized", paid
    return paid
