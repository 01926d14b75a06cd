"""TMF629 customerManagement v4 and TMF683 partyInteraction v4 routes. Thin: parse, call the
service, shape the reply. Beyond TMF629, under /customer/{id}:
  GET  view360          the 360 view (?interactions=N, default 20, at most 100)
  GET  product, POST    products held: TMF637 products (chalicelib/inventory), as before
  GET  consentAudit     who changed consent / quiet hours, when, what
  POST identityLink     {"visitorId": ...}: the anonymous visitor is this customer
A channel may send X-Journey-Key; it links every interaction of one journey."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.customer import domain
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Call, Reply, created, endpoint, listing, with_etag

# imported by the first request that uses them (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.customer import interactions, service
else:
    interactions = deferred.module("chalicelib.customer.interactions")
    service = deferred.module("chalicelib.customer.service")

bp = Blueprint(__name__)
interaction_bp = Blueprint(f"{__name__}.interaction")


def _journey(call: Call) -> str | None:
    return domain.journey_key(call.header("x-journey-key"))


# --- TMF629 customer --------------------------------------------------------------------------
@endpoint(bp, "/customer", ["GET"], name="list_customer")
def list_customers(call: AuthenticatedCall) -> Reply:
    items, total = service.search(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/customer", ["POST"], name="create_customer", body="Customer")
def create_customer(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller, _journey(call))
    return with_etag(doc, version, 201)


@endpoint(bp, "/customer/{cid}", ["GET"], name="get_customer")
def get_customer(call: AuthenticatedCall, cid: str) -> Reply:
    doc, version = service.read(cid, call.caller, _journey(call))
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/customer/{cid}", ["PATCH"], name="patch_customer", body="Customer")
def patch_customer(call: AuthenticatedCall, cid: str) -> Reply:
    doc, version = service.update(cid, call.json(), call.caller, call.header("if-match"), _journey(call))
    return with_etag(doc, version)


@endpoint(bp, "/customer/{cid}/view360", ["GET"], name="customer_view360")
def view360(call: AuthenticatedCall, cid: str) -> Reply:
    return Reply(service.view(cid, call.query, call.caller, _journey(call)))


@endpoint(bp, "/customer/{cid}/product", ["GET"], name="list_customer_product")
def list_products(call: AuthenticatedCall, cid: str) -> Reply:
    items, total = service.products(cid, call.query, call.caller, _journey(call))
    return listing(items, total)


@endpoint(bp, "/customer/{cid}/product", ["POST"], name="create_customer_product", body="inventory.Product")
def add_product(call: AuthenticatedCall, cid: str) -> Reply:
    doc, version = service.add_product(cid, call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/customer/{cid}/consentAudit", ["GET"], name="customer_consent_audit")
def consent_audit(call: AuthenticatedCall, cid: str) -> Reply:
    items = service.consent_audit(cid, call.caller, _journey(call))
    return listing(items, len(items))


@endpoint(bp, "/customer/{cid}/identityLink", ["POST"], name="customer_identity_link", body="IdentityLink")
def identity_link(call: AuthenticatedCall, cid: str) -> Reply:
    doc, made = service.link_visitor(cid, call.json(), call.caller)
    return Reply(doc, 201 if made else 200)


hub_api.register(bp, domain.API_NAME, domain.API_ROOT)


# --- TMF683 partyInteraction ------------------------------------------------------------------
@endpoint(interaction_bp, "/partyInteraction", ["GET"], name="list_party_interaction")
def list_interactions(call: AuthenticatedCall) -> Reply:
    items, total = interactions.search(call.query, call.caller)
    return listing(items, total)


@endpoint(interaction_bp, "/partyInteraction", ["POST"], name="create_party_interaction",
          body="PartyInteraction")
def create_interaction(call: AuthenticatedCall) -> Reply:
    return created(interactions.create(call.json(), call.caller, _journey(call)))


@endpoint(interaction_bp, "/partyInteraction/{rid}", ["GET"], name="get_party_interaction")
def get_interaction(call: AuthenticatedCall, rid: str) -> Reply:
    doc = interactions.read(rid, call.caller)
    return Reply(tmf.select_fields(doc, tmf.field_selection(call.query)))


hub_api.register(interaction_bp, domain.INTERACTION_API_NAME, domain.INTERACTION_API_ROOT)
