"""TMF671 promotions as catalogue data, and the one evaluator basket pricing applies them with.

The public surface: what other contexts may use of the promotion table (import-linter keeps them
off chalicelib.promotion.store). Read on first use: importing the package loads none of it.
    load     a promotion (document, version) or None, read consistently
    active   the active promotions (cached per container)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.promotion.service import active
    from chalicelib.promotion.store import load

__all__ = ["active", "load"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, store=["load"], service=["active"])
