"""Product Inventory (TMF637): the products customers hold, made and changed by completed child
orders (from the order stream) and by agents and stacks; read by the 360 view, the rules and
recommendations, and order capture through this surface (products_of, held).

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    attributes        what a list of products may be filtered by
    create_for        a product for a customer (POST customer/{id}/product)
    held              what the customer holds now (not terminated)
    products_of       every product of a customer, terminated ones included
    record_completed  a completed child order's items applied to its customer's inventory
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.inventory.service import attributes, create_for, held, products_of, record_completed

__all__ = ["attributes", "create_for", "held", "products_of", "record_completed"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
