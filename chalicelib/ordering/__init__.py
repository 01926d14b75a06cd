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
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.actor import Actor
    from chalicelib.ordering.service import basket_order_id
    from chalicelib.ordering.store import in_flight, load, order_write

__all__ = ["basket_order_id", "in_flight", "load", "order_basket", "order_write"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, store=["in_flight", "load", "order_write"], service=["basket_order_id"])


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
