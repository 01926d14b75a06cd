"""Stock (TMF687 v4): stock per device offering per location, and reservations of it.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    consume_order  an order completed: its hold ends consumed (once)
    order_hold     the reservation an order's handsets need, for the order's own transaction
    order_rehold   paying a refused order again: its released handsets held again
    release_order  an order cancelled or failed: the stock its checkout held goes back (once)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.stock.service import consume_order, order_hold, order_rehold, release_order

__all__ = ["consume_order", "order_hold", "order_rehold", "release_order"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
