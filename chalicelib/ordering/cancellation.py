"""TMF622 cancelProductOrder, called by the routes: the child orders before their point of no
return are cancelled at their stacks, the rest carry on; the order ends cancelled or partial.
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import deferred, payment, stock, tmf
from chalicelib import appointment as appointments
from chalicelib.auth import Caller
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import not_found, unprocessable
from chalicelib.observability import logger
from chalicelib.ordering import domain, store
from chalicelib.ordering.fulfilment import change_order, refresh_parent, resume_workflow, send_to_stack
from chalicelib.ordering.service import USERS, cancel_href, visible

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.ordering.schemas")


# --- cancellation -------------------------------------------------------------------------------
def _cancel_child(child_id: str, reason: str | None) -> bool:
    """Cancel a child order before its point of no return; False when it is past it."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        return domain.cancelled(found.doc, at, reason) if domain.cancellable(found.doc) else None

    before, after = change_order(child_id, mutate)
    if after is before.doc:          # nothing written: past its point of no return, or cancelled before
        return after.get("state") == domain.CANCELLED
    if before.dispatched:
        send_to_stack(after, "cancel")
    resume_workflow(before.token, domain.CANCELLED)
    return True


def cancel(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """cancelProductOrder: items before their point of no return are cancelled at their stacks,
    the rest carry on; the order ends cancelled or partial."""
    customer_domain.validate_payload("cancelProductOrder", schemas.CancelProductOrder, body)
    order = visible(body["productOrder"]["id"], caller).doc
    if domain.parent_of(order):
        raise unprocessable("this is a child order; cancel the order it is part of", "childOrder")
    if order.get("state") in domain.FINAL:
        raise unprocessable(f"productOrder {order['id']} is {order['state']}: it can no longer be cancelled",
                            "orderFinished")
    rid, at = tmf.new_id(), tmf.now_iso()
    reason = body.get("cancellationReason")
    request = {"id": rid, "href": cancel_href(rid), "@type": domain.CANCEL_TYPE, "state": "acknowledged",
               "creationDate": at, "cancellationReason": reason,
               "requestedCancellationDate": body.get("requestedCancellationDate") or at,
               "productOrder": {"id": order["id"], "href": order["href"], "@referredType": domain.TYPE},
               "relatedParty": [p for p in order.get("relatedParty") or [] if p.get("role") != domain.FULFILMENT_ROLE]}
    request = {k: v for k, v in request.items() if v is not None}
    store.insert(request, kind=domain.CANCEL_RESOURCE)
    children = domain.children_of(order)
    if not children:   # not decomposed yet: the workflow finds it cancelled and stops
        _, current = change_order(order["id"], lambda f, at: domain.cancelled(f.doc, at, reason)
                                  if not domain.children_of(f.doc) and f.doc.get("state") not in domain.FINAL else None)
        # decomposed since it was read: its child orders are cancelled below like any others (the
        # cancellation accepted here must not be dropped because the workflow moved first)
        children = domain.children_of(current)
    results = {c: _cancel_child(c, reason) for c in children}
    final = refresh_parent(order["id"]) if children else visible(order["id"], caller).doc
    if final.get("state") == domain.CANCELLED:
        stock.release_order(order["id"])   # the handsets its checkout held go back (once)
        appointments.release_order(final)   # its installation slots are freed (once)

        payment.refund_order(order["id"])  # what its payment took goes back (once)
    done = {**request, "state": "done", "effectiveCancellationDate": tmf.now_iso()}
    if children and not all(results.values()):
        done["description"] = (f"{sum(results.values())} of {len(results)} child orders cancelled; the others were "
                               "past their point of no return and carry on")
    store.replace(done, 1, kind=domain.CANCEL_RESOURCE)
    logger.info("order cancellation", extra={"orderId": order["id"], "state": final.get("state"),
                                             "cancelled": sum(results.values()), "children": len(results)})
    return done


def read_cancellation(rid: str, caller: Caller) -> dict[str, Any]:
    customer_access.check_roles(caller, *USERS)
    found = store.load(rid)
    if found is None or found.doc.get("@type") != domain.CANCEL_TYPE or (
            caller.role == "customer" and domain.customer_of(found.doc) != caller.customer_id):
        raise not_found(domain.CANCEL_RESOURCE, rid)
    return found.doc
