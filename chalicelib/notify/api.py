"""TMF681 communicationManagement v4 routes. Thin: parse, call the service, shape the reply.

POST sends at once; the reply (201) carries the outcome as the message's `state` (completed,
initial while quiet hours hold it, cancelled when consent or a receiver is missing, failed) and
`stateReason`. Agents, marketing and channels send; customers read their own messages only."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Reply, endpoint, listing, no_content, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the modules and checks the calls into them
    from chalicelib.customer import domain as customer_domain
    from chalicelib.notify import service
else:
    customer_domain = deferred.module("chalicelib.customer.domain")
    service = deferred.module("chalicelib.notify.service")

bp = Blueprint(__name__)
# The domain's API_NAME and API_ROOT, spelled here so that registering the routes loads no domain
# (tests/unit/test_entry_imports.py checks they are the same)
API_NAME, API_ROOT = "communicationManagement", "/tmf-api/communicationManagement/v4"


@endpoint(bp, "/communicationMessage", ["GET"], name="list_communication_message")
def list_messages(call: AuthenticatedCall) -> Reply:
    items, total = service.search(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/communicationMessage", ["POST"], name="create_communication_message",
          body="CommunicationMessage")
def create_message(call: AuthenticatedCall) -> Reply:
    doc, version = service.create(call.json(), call.caller, customer_domain.journey_key(call.header("x-journey-key")))
    return with_etag(doc, version, 201)


@endpoint(bp, "/communicationMessage/{mid}", ["GET"], name="get_communication_message")
def get_message(call: AuthenticatedCall, mid: str) -> Reply:
    doc, version = service.read(mid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/communicationMessage/{mid}", ["PATCH"], name="patch_communication_message",
          body="CommunicationMessagePatch")
def patch_message(call: AuthenticatedCall, mid: str) -> Reply:
    doc, version = service.update(mid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/communicationMessage/{mid}", ["DELETE"], name="delete_communication_message")
def delete_message(call: AuthenticatedCall, mid: str) -> Reply:
    service.delete(mid, call.caller, call.header("if-match"))
    return no_content()


hub_api.register(bp, API_NAME, API_ROOT)
