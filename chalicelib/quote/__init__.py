"""TMF648 quoteManagement: quotes priced from the catalogue, approval rules as data, versions.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    order_checkout  an order from an accepted quote, at its agreed prices
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.quote.service import order_checkout

__all__ = ["order_checkout"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
