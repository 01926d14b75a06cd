"""Installation appointments (TMF646): a simulated field-service calendar, slot holds, checkout
confirmation.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    order_checkout  an order's items with their appointments, and the writes confirming them
    order_rehold    paying a refused order again: its released appointments held again
    release_order   an order cancelled or failed: its appointments cancelled, slots freed (once)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.appointment.service import order_checkout, order_rehold, release_order

__all__ = ["order_checkout", "order_rehold", "release_order"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
