"""Channel process handling: abandoned baskets recovered through SMS, email and an agent.

The public surface: what other contexts' entry points may call. Read on first use: importing the
package loads none of it.
    on_change           a basket changed (the basket stream): start, stop or approve its session
    on_customer_change  a customer changed (the customer stream): consent withdrawn ends her sessions
    sweep_approved      no approved basket stays without an order (the scheduled sweep)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.recovery.sessions import on_change, on_customer_change, sweep_approved

__all__ = ["on_change", "on_customer_change", "sweep_approved"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, sessions=__all__)
