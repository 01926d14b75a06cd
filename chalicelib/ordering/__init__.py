"""Federated Order Management (TMF622): capture, decomposition into child orders per fulfilment
stack, orchestration (Step Functions), milestones from the stacks, cancellation.

The public surface: what other contexts may use of orders (import-linter keeps them off
chalicelib.ordering.store). Read on first use: importing the package loads none of it.
    load             an order as stored (Stored: doc, version) or None, read consistently
    in_flight        a customer's newest orders in flight (documents)
    order_write      for another context's transaction: a new document over an order it read,
                     conditional on that version (only ordering knows its table)
    basket_order_id  the id of the one order a basket becomes
    order_basket     a system orders a customer's basket for her (below)
    read             an order for a caller (404 when not hers), with its version
    orders_in_flight a customer's newest orders in flight, summarised (the 360 view)
    start_workflow, payment_refused
                     an order's payment authorized: its workflow starts; refused or timed out:
                     the order fails and what its checkout held goes back
    appointment_changed
                     an order's appointment rescheduled: the order and its stack get the new one
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.actor import Actor
    from chalicelib.ordering.fulfilment import appointment_changed, payment_refused, start_workflow
    from chalicelib.ordering.service import basket_order_id, orders_in_flight, read
    from chalicelib.ordering.store import in_flight, load, order_write

__all__ = ["appointment_changed", "basket_order_id", "in_flight", "load", "order_basket", "order_write",
           "orders_in_flight", "payment_refused", "read", "start_workflow"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, store=["in_flight", "load", "order_write"],
                                   service=["basket_order_id", "orders_in_flight", "read"],
                                   fulfilment=["appointment_changed", "payment_refused", "start_workflow"])


def order_basket(basket_id: str, customer_id: str | None, actor: Actor, journey_key: str | None = None, *,
                 only_approved: bool = False, approving: int | None = None) -> tuple[dict[str, Any], int, bool]:
    """The platform (`actor`, e.g. Actor.system(channel): the abandoned-basket process) orders the
    customer's basket for her, in the actor's channel, checked as her own checkout: `only_approved`,
    an approved basket (409 basketNotApproved when no longer); `approving`, she approved version N
    (by the emailed link) and it is ordered in the same write. (order, version, created): the same
    basket is the same order, so a repeat is harmless."""
    from chalicelib.auth import Caller
    from chalicelib.observability import logger
    from chalicelib.ordering import capture

    logger.info("ordering a basket for its customer", extra={"basketId": basket_id, "by": actor.by})
    caller = Caller(sub=customer_id or "", role="customer", channel=actor.channel, customer_id=customer_id)
    return capture.create({"shoppingCart": {"id": basket_id}}, caller, journey_key, only_approved=only_approved,
                          approving=approving)
