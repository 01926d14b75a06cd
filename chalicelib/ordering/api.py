"""TMF622 productOrderingManagement v4 routes. Thin: parse, call the service, shape the reply.

PATCH productOrder/{id} amends an order in flight: its productOrderItem list as wanted, an item
set to `cancelled` cancelled up to its point of no return, a new item added (docs/decisions.md).
Beyond TMF622 v4: `shoppingCart` (order an approved basket), `orderRelationship` (v5's parent /
child / dependsOn links between an order and its child orders), `journeyKey`. Stacks report
milestones on POST /listener/productOrderStateChangeEvent with a `stack` token.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Reply, created, endpoint, listing, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the modules and checks the calls into them
    from chalicelib.customer import domain as customer_domain
    from chalicelib.ordering import cancellation, capture, domain, fulfilment, service
else:
    customer_domain = deferred.module("chalicelib.customer.domain")
    domain = deferred.module("chalicelib.ordering.domain")
    capture = deferred.module("chalicelib.ordering.capture")
    cancellation = deferred.module("chalicelib.ordering.cancellation")
    fulfilment = deferred.module("chalicelib.ordering.fulfilment")
    service = deferred.module("chalicelib.ordering.service")

bp = Blueprint(__name__)
# The domain's API_NAME and API_ROOT, spelled here so that registering the routes loads no domain
# (tests/unit/test_entry_imports.py checks they are the same)
API_NAME, API_ROOT = "productOrderingManagement", "/tmf-api/productOrderingManagement/v4"


@endpoint(bp, "/productOrder", ["POST"], name="create_product_order", body="ProductOrder")
def create_order(call: AuthenticatedCall) -> Reply:
    journey = customer_domain.journey_key(call.header("x-journey-key"))
    doc, version, made = capture.create(call.json(), call.caller, journey)
    return with_etag(doc, version, 201 if made else 200)


@endpoint(bp, "/productOrder", ["GET"], name="list_product_order")
def list_orders(call: AuthenticatedCall) -> Reply:
    return listing(*service.search(call.query, call.caller))


@endpoint(bp, "/productOrder/{rid}", ["GET"], name="get_product_order")
def get_order(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = service.read(rid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/productOrder/{rid}", ["PATCH"], name="patch_product_order", body="ProductOrderAmendment")
def amend_order(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = capture.amend(rid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/cancelProductOrder", ["POST"], name="create_cancel_product_order",
          body="CancelProductOrder")
def cancel_order(call: AuthenticatedCall) -> Reply:
    return created(cancellation.cancel(call.json(), call.caller))


@endpoint(bp, "/cancelProductOrder", ["GET"], name="list_cancel_product_order")
def list_cancellations(call: AuthenticatedCall) -> Reply:
    return listing(*service.search(call.query, call.caller, domain.CANCEL_RESOURCE))


@endpoint(bp, "/cancelProductOrder/{rid}", ["GET"], name="get_cancel_product_order")
def get_cancellation(call: AuthenticatedCall, rid: str) -> Reply:
    return Reply(cancellation.read_cancellation(rid, call.caller))


@endpoint(bp, "/listener/productOrderStateChangeEvent", ["POST"], name="product_order_state_change_listener",
          body="OrderEvent")
def state_change(call: AuthenticatedCall) -> Reply:
    return Reply(fulfilment.stack_event(call.json(), call.caller), 201)


hub_api.register(bp, API_NAME, API_ROOT)
