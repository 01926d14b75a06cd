"""TMF663 shoppingCart v4 routes. Thin: parse, call the service, shape the reply.

Beyond TMF663: `status` (the basket's life cycle and hand-overs), `context` (journey key,
channels, campaign code, device, postcode, region, the agent working on it, who changed what),
per-item `qualification` and `qualificationResult`. A channel may send X-Journey-Key.
PATCH `cartItem` entries change items by id (TMF663 CartItem `action`: add, modify, delete).
GET and PATCH take `fields` (TMF630): a selection without cartItem (e.g. `fields=cartTotalPrice`)
answers from the basket's header, without reading its lines.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.basket import domain
from chalicelib.customer import domain as customer_domain
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Call, Reply, endpoint, listing, no_content, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.basket import service
else:
    service = deferred.module("chalicelib.basket.service")

bp = Blueprint(__name__)


def _journey(call: Call) -> str | None:
    return customer_domain.journey_key(call.header("x-journey-key"))


@endpoint(bp, "/shoppingCart", ["GET"], name="list_shopping_cart")
def list_carts(call: AuthenticatedCall) -> Reply:
    items, total = service.search(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/shoppingCart", ["POST"], name="create_shopping_cart", body="ShoppingCart")
def create_cart(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller, _journey(call), call.source_ip)
    return with_etag(doc, version, 201)


@endpoint(bp, "/shoppingCart/{rid}", ["GET"], name="get_shopping_cart")
def get_cart(call: AuthenticatedCall, rid: str) -> Reply:
    fields = tmf.field_selection(call.query)
    doc, version = service.read(rid, call.caller, domain.shows_lines(fields))
    return with_etag(tmf.select_fields(doc, fields), version)


@endpoint(bp, "/shoppingCart/{rid}", ["PATCH"], name="patch_shopping_cart", body="ShoppingCart")
def patch_cart(call: AuthenticatedCall, rid: str) -> Reply:
    fields = tmf.field_selection(call.query)
    doc, version = service.update(rid, call.json(), call.caller, call.header("if-match"), _journey(call),
                                  call.source_ip, domain.shows_lines(fields))
    return with_etag(tmf.select_fields(doc, fields), version)


@endpoint(bp, "/shoppingCart/{rid}", ["DELETE"], name="delete_shopping_cart")
def delete_cart(call: AuthenticatedCall, rid: str) -> Reply:
    service.delete(rid, call.caller, call.header("if-match"))
    return no_content()


hub_api.register(bp, domain.API_NAME, domain.API_ROOT)
