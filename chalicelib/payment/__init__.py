"""Payment (TMF676): the provider adapter (simulated locally), signed callbacks, orders gated on
payment, refunds.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    order_paid    may the order go to its stacks (no one-off charge, or its payment authorized)
    order_window  for checkout's transaction: the payment window of an order with one-off charges
    refund_order  an order cancelled or failed: what its payment took goes back (once)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.payment.service import order_paid, order_window, refund_order

__all__ = ["order_paid", "order_window", "refund_order"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
