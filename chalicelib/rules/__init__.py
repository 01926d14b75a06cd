"""Central Rules Management, Location & IP: qualification rules as data (TMF679
productOfferingQualification), evaluated in one place, serviceability by address, region by
postcode or client IP, and guided selling.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    bundle_rules       the bundle rules, from the catalogue cache
    documents          every rule document, from the catalogue cache
    early_fees         the early termination or upgrade fee of a change to a product held
    facts              facts from a customer profile and the sale's postcode
    offering_for_sale  the offering if it can be put in a basket in this channel now, else 422
    profile            what the rules need to know about a customer (one Query)
    profile_of         that profile from a customer document and products already read
    qualify_items      each offering qualified together with the others
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.rules.service import (bundle_rules, documents, early_fees, facts, offering_for_sale, profile,
                                          profile_of, qualify_items)

__all__ = ["bundle_rules", "documents", "early_fees", "facts", "offering_for_sale", "profile", "profile_of",
           "qualify_items"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
