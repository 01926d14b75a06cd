"""360 Customer View: customers, consent and contact preferences, products held, identity
(anonymous visitor -> customer) and the cross-channel interaction history (TMF629, TMF683).

The public surface: what other contexts may use of the customer table (import-linter keeps them
off chalicelib.customer.store). Read on first use: importing the package loads none of it.
    customer_pk, customer_of   a customer's owner key in any table's by-owner index, and back
                               (a store imports them from chalicelib.customer.keys)
    load_customer              (customer document, version) or None, read consistently
    write_customer             replace the customer at a version (StaleVersion otherwise)
    customers_by_id            (document, targeting facts) of each customer found, in batches
    customers_page             one page of (document, targeting facts) in name order, next cursor
    set_targeting              store a customer's projected targeting facts
    view, customer_href        the customer summary an agent sees (360 view); a customer's href
    record_interaction         a TMF683 party interaction, once per id (and time)
    prepare_interaction,       the same interaction built, then added to the caller's own
    save_interaction_in        DynamoDB transaction (written once, with the caller's writes)
    segment                    a logged-in customer's segment (business or residential), as the
                               contact check read it (cached)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.customer.contacts import segment
    from chalicelib.customer.interactions import prepare_interaction, record_interaction, save_interaction_in
    from chalicelib.customer.service import customer_href, view
    from chalicelib.customer.keys import customer_of, customer_pk
    from chalicelib.customer.store import customers_by_id, customers_page, load_customer, set_targeting, write_customer

__all__ = ["customer_href", "customer_of", "customer_pk", "customers_by_id", "customers_page", "load_customer",
           "prepare_interaction", "record_interaction", "save_interaction_in", "segment", "set_targeting", "view", "write_customer"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, keys=["customer_of", "customer_pk"],
                                   store=["customers_by_id", "customers_page", "load_customer", "set_targeting",
                                          "write_customer"],
                                   service=["customer_href", "view"], contacts=["segment"],
                                   interactions=["prepare_interaction", "record_interaction",
                                                 "save_interaction_in"])
