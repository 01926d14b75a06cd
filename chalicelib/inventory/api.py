"""TMF637 productInventory v4 routes. Thin: parse, call the service, shape the reply.

  GET    /product[?fields=&offset=&limit=&<attribute>=]   list (X-Total-Count, X-Result-Count)
  POST   /product                                         agents, stacks (201 + Location, ETag)
  GET    /product/{id}                                    ETag
  PATCH  /product/{id}                                    JSON merge patch, If-Match optional
  DELETE /product/{id}                                    204
  POST /hub, GET|DELETE /hub/{id}                         ProductCreate/AttributeValueChange/StateChange/DeleteEvent
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Reply, endpoint, listing, no_content, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.inventory import service
else:
    service = deferred.module("chalicelib.inventory.service")

bp = Blueprint(__name__)
# The domain's API_NAME and API_ROOT, spelled here so that registering the routes loads no domain
# (tests/unit/test_entry_imports.py checks they are the same)
API_NAME, API_ROOT = "productInventory", "/tmf-api/productInventory/v4"


@endpoint(bp, "/product", ["GET"], name="list_product")
def list_products(call: AuthenticatedCall) -> Reply:
    items, total = service.search(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/product", ["POST"], name="create_product", body="Product")
def create_product(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/product/{pid}", ["GET"], name="get_product")
def get_product(call: AuthenticatedCall, pid: str) -> Reply:
    doc, version = service.read(pid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/product/{pid}", ["PATCH"], name="patch_product", body="Product")
def patch_product(call: AuthenticatedCall, pid: str) -> Reply:
    doc, version = service.update(pid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/product/{pid}", ["DELETE"], name="delete_product")
def delete_product(call: AuthenticatedCall, pid: str) -> Reply:
    service.delete(pid, call.caller, call.header("if-match"))
    return no_content()


hub_api.register(bp, API_NAME, API_ROOT)
