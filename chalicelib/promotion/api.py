"""TMF671 promotionManagement v4 routes. Thin: parse, call the service, shape the reply.

  GET    /promotion[?fields=&offset=&limit=&<attribute>=]   list (channels, customers: live ones)
  POST   /promotion                                         catalog admins, marketing (201, ETag)
  GET    /promotion/{pid}                                   ETag
  PATCH  /promotion/{pid}                                   JSON merge patch, If-Match optional
  DELETE /promotion/{pid}                                   204 (an inDesign promotion only)
  POST   /hub, GET/DELETE /hub/{sid}                        Promotion Create/StateChange/... events
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.http import AuthenticatedCall, Reply, endpoint, listing, no_content, with_etag
from chalicelib.hub import api as hub_api
from chalicelib.promotion import domain

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.promotion import service
else:
    service = deferred.module("chalicelib.promotion.service")

bp = Blueprint(__name__)


@endpoint(bp, "/promotion", ["GET"], name="list_promotion")
def list_promotions(call: AuthenticatedCall) -> Reply:
    return listing(*service.search(call.query, call.caller))


@endpoint(bp, "/promotion", ["POST"], name="create_promotion", body="PromotionCreate")
def create_promotion(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/promotion/{pid}", ["GET"], name="get_promotion")
def get_promotion(call: AuthenticatedCall, pid: str) -> Reply:
    doc, version = service.read(pid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/promotion/{pid}", ["PATCH"], name="patch_promotion", body="PromotionPatch")
def patch_promotion(call: AuthenticatedCall, pid: str) -> Reply:
    doc, version = service.update(pid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/promotion/{pid}", ["DELETE"], name="delete_promotion")
def delete_promotion(call: AuthenticatedCall, pid: str) -> Reply:
    service.delete(pid, call.caller, call.header("if-match"))
    return no_content()


hub_api.register(bp, domain.API_NAME, domain.API_ROOT)
