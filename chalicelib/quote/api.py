"""TMF648 quoteManagement v4 routes. Thin: parse, call the service, shape the reply.

  GET    /quote[?fields=&offset=&limit=&<attribute>=]   list; a sales manager's ?state=pending is the worklist
  POST   /quote                                         from quoteItem or a shoppingCart (201, ETag)
  GET    /quote/{qid}[?version=n]                       the quote (a version sent before, as sent)
  PATCH  /quote/{qid}                                   merge patch, or JSON Patch (application/json-patch+json)
  PATCH  /quote/{qid}                                   JSON merge patch: a change, or a state move
  GET    /quoteLink/{token}                             what the customer's emailed link offers (no login)
  POST   /quoteLink/{token}/accept                      she accepts the version the link names
  POST   /hub, GET/DELETE /hub/{sid}                    quote events
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Call, Reply, endpoint, listing, with_etag
from chalicelib.quote import domain

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.quote import service
else:
    service = deferred.module("chalicelib.quote.service")

bp = Blueprint(__name__)


@endpoint(bp, "/quote", ["GET"], name="list_quote")
def list_quotes(call: AuthenticatedCall) -> Reply:
    return listing(*service.search(call.query, call.caller))


@endpoint(bp, "/quote", ["POST"], name="create_quote", body="Quote")
def create_quote(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/quote/{qid}", ["GET"], name="get_quote")
def get_quote(call: AuthenticatedCall, qid: str) -> Reply:
    doc, version = service.read(qid, call.caller, call.query.get("version"))
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/quote/{qid}", ["PATCH"], name="patch_quote", body="QuotePatch")
def patch_quote(call: AuthenticatedCall, qid: str) -> Reply:
    ops = call.json_patch()   # RFC 6902: one line of a 1,000-line quote changed without sending all of them
    doc, version = service.update(qid, call.json() if ops is None else ops, call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/quoteLink/{token}", ["GET"], authenticated=False, name="quote_link")
def link(call: Call, token: str) -> Reply:
    return Reply(service.link_view(token))


@endpoint(bp, "/quoteLink/{token}/accept", ["POST"], authenticated=False, name="quote_link_accept")
def link_accept(call: Call, token: str) -> Reply:
    return Reply(service.accept_by_link(token))


hub_api.register(bp, domain.API_NAME, domain.API_ROOT)
