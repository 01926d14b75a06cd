"""Product Catalogue Hub and Catalogue Publishing (TMF620 productCatalogManagement v4).

The public surface: what other contexts may use of the catalogue table (import-linter keeps them
off chalicelib.catalog.store). Read on first use: importing the package loads none of it.
    cache                      catalogue documents through the per-container cache: cache.get(kind,
                               id) -> (doc, version) or None, cache.all(kind)
    load                       one document read consistently: (doc, version) or None
    insert, replace, upsert, remove, query_kind
                               documents of a kind another context keeps in the catalogue table
                               (the central rules: chalicelib/rules), conditional on the version
    page_kind                  a page of such a kind (its keys-only index skips the offset) and how
                               many (counted up to the list window: tmf.windowed)
    published_offering         an offering sold now in a channel, from the cache
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.catalog.service import published_offering
    from chalicelib.catalog.store import cache, insert, load, page_kind, query_kind, remove, replace, upsert

__all__ = ["cache", "insert", "load", "page_kind", "published_offering", "query_kind", "remove", "replace",
           "upsert"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__,
                                   store=["cache", "insert", "load", "page_kind", "query_kind", "remove", "replace",
                                          "upsert"],
                                   service=["published_offering"])
