"""Credit check before contract products and device financing (issue 14 part 3).

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    first_profile   a bureau profile for a customer not written yet (the demo customers)
    order_checkout  checkout's credit check (creditRefused, lineLimitExceeded, or a deposit)
    qualified       TMF679 for a known customer: offerings that need a credit check
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.credit.service import first_profile, order_checkout, qualified

__all__ = ["first_profile", "order_checkout", "qualified"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
