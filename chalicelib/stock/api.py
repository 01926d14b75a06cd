"""TMF687 stockManagement v4 routes. Thin: parse, call the service, shape the reply.

  GET    /productStock[?fields=&offset=&limit=&<attribute>=]   list (X-Total-Count, X-Result-Count)
  POST   /productStock                                         catalog admins, stacks (201, ETag)
  GET    /productStock/{sid}                                   ETag
  PATCH  /productStock/{sid}                                   JSON merge patch, If-Match optional
  DELETE /productStock/{sid}                                   204
  GET    /reserveProductStock[?...]                            list
  POST   /reserveProductStock                                  hold stock (201), or 409/422 and nothing held
  GET    /reserveProductStock/{rid}
  PATCH  /reserveProductStock/{rid}                            {"status": "released"} (an extension)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.http import AuthenticatedCall, Reply, endpoint, listing, no_content, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.stock import service
else:
    service = deferred.module("chalicelib.stock.service")

bp = Blueprint(__name__)


@endpoint(bp, "/productStock", ["GET"], name="list_product_stock")
def list_stock(call: AuthenticatedCall) -> Reply:
    return listing(*service.search_stock(call.query, call.caller))


@endpoint(bp, "/productStock", ["POST"], name="create_product_stock")
def create_stock(call: AuthenticatedCall) -> Reply:
    doc, version = service.create_stock(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/productStock/{sid}", ["GET"], name="get_product_stock")
def get_stock(call: AuthenticatedCall, sid: str) -> Reply:
    doc, version = service.read_stock(sid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/productStock/{sid}", ["PATCH"], name="patch_product_stock")
def patch_stock(call: AuthenticatedCall, sid: str) -> Reply:
    doc, version = service.update_stock(sid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/productStock/{sid}", ["DELETE"], name="delete_product_stock")
def delete_stock(call: AuthenticatedCall, sid: str) -> Reply:
    service.delete_stock(sid, call.caller, call.header("if-match"))
    return no_content()


@endpoint(bp, "/reserveProductStock", ["GET"], name="list_reserve_product_stock")
def list_reservations(call: AuthenticatedCall) -> Reply:
    return listing(*service.search_reservations(call.query, call.caller))


@endpoint(bp, "/reserveProductStock", ["POST"], name="create_reserve_product_stock")
def reserve(call: AuthenticatedCall) -> Reply:
    doc, version = service.reserve(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/reserveProductStock/{rid}", ["GET"], name="get_reserve_product_stock")
def get_reservation(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = service.read_reservation(rid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/reserveProductStock/{rid}", ["PATCH"], name="release_reserve_product_stock")
def release(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = service.release(rid, call.json(), call.caller)
    return with_etag(doc, version)
