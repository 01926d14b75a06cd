"""Basket & Context Hub: one basket that follows the customer across channels (TMF663
shoppingCart), priced from the catalogue, checked against the central rules, handed between the
customer and agents.

The public surface: what other contexts may use of the basket table (import-linter keeps them
off chalicelib.basket.store). Read on first use: importing the package loads none of it.
    load           a basket as stored (Stored: doc, version, facts) or None, read consistently
    Stored         what load returns
    by_owner       an owner's baskets, newest change first (a customer's: by_owner(customer_pk(id)))
    ordered_write  for an order's own transaction: the basket's record marked ordered, conditional
                   on the version it was read at (only the basket context knows its table)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.basket.service import ordered_write
    from chalicelib.basket.store import Stored, by_owner, load

__all__ = ["Stored", "by_owner", "load", "ordered_write"]
__getattr__ = deferred.exports(__name__, store=["Stored", "by_owner", "load"], service=["ordered_write"])
