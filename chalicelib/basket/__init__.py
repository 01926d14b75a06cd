"""Basket & Context Hub: one basket that follows the customer across channels (TMF663
shoppingCart), priced from the catalogue, checked against the central rules, handed between the
customer and agents.

The public surface: what other contexts may use of the basket table (import-linter keeps them
off chalicelib.basket.store). Read on first use: importing the package loads none of it.
    load           a basket read whole (Stored: doc with its lines, version, facts, composition) or
                   None, read consistently
    Stored         what load returns
    by_owner       an owner's baskets, newest change first (a customer's: by_owner(customer_pk(id)))
    ordered_write  for an order's own transaction: the basket's record marked ordered, conditional
                   on the version it was read at (only the basket context knows its table)
    catalogue      the catalogue reads pricing uses (offering, price, specification; cached)
    href, read, search, update
                   a basket's href; the basket use cases, for a caller
    offerings_in   the offerings of a basket's active items (its header only), for a caller
    open_baskets, approved_before
                   a customer's open baskets (summarised); approved baskets changed before a time
    adopt_visitor_baskets
                   a visitor logged in: her visitor baskets become the customer's
    as_shown       for ordering: a basket with the prices it showed at its version agreed (an
                   approval by link)
    event_bodies, delete_lines
                   for the basket stream's reader: the basket as hub events carry it; the lines
                   of a basket deleted or expired
    system_move, return_unordered
                   the platform moves a basket (recovery); an approved basket that could not be
                   ordered goes back with the reason
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.basket.service import (adopt_visitor_baskets, approved_before, as_shown, catalogue, delete_lines,
                                           event_bodies, href, load, offerings_in, open_baskets, ordered_write, read,
                                           return_unordered, search, system_move, update)
    from chalicelib.basket.store import Stored, by_owner

__all__ = ["Stored", "adopt_visitor_baskets", "approved_before", "as_shown", "by_owner", "catalogue", "delete_lines",
           "event_bodies", "href", "load", "offerings_in", "open_baskets", "ordered_write", "read", "return_unordered", "search",
           "system_move", "update"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, store=["Stored", "by_owner"],
                                   service=["adopt_visitor_baskets", "approved_before", "as_shown", "catalogue", "delete_lines",
                                            "event_bodies", "href", "load", "offerings_in", "open_baskets", "ordered_write", "read",
                                            "return_unordered", "search", "system_move", "update"])
