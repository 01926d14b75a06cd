"""TMF676 paymentManagement v4 routes. Thin: parse, call the service, shape the reply.

  GET    /payment[?fields=&offset=&limit=&<attribute>=]   list (X-Total-Count, X-Result-Count)
  POST   /payment                                         pay (201): an order's one-off charges, or an account
  GET    /payment/{pid}
  GET    /refund[?...], /refund/{rid}                      refunds (a paid order cancelled; an agent's)
  POST   /refund                                          an agent gives back part of a payment (201)
  POST   /providerCallback                                 the payment provider's signed callback (no token)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.http import Call, Reply, created, endpoint, listing

# imported by the first request that uses it (a cold start loads only what it serves)
service = deferred.module("chalicelib.payment.service")
if TYPE_CHECKING:   # mypy reads the modules and checks the uses of them
    from chalicelib.payment import domain, provider
else:
    domain = deferred.module("chalicelib.payment.domain")
    provider = deferred.module("chalicelib.payment.provider")

bp = Blueprint(__name__)


@endpoint(bp, "/payment", ["GET"], name="list_payment")
def list_payments(call: Call) -> Reply:
    return listing(*service.search(domain.PAYMENT, call.query, call.caller))


@endpoint(bp, "/payment", ["POST"], name="create_payment", body="Payment")
def create_payment(call: Call) -> Reply:
    return created(service.create(call.json(), call.caller, call.header("idempotency-key"))[0])


@endpoint(bp, "/payment/{pid}", ["GET"], name="get_payment")
def get_payment(call: Call, pid: str) -> Reply:
    return Reply(tmf.select_fields(service.read(domain.PAYMENT, pid, call.caller), tmf.field_selection(call.query)))


@endpoint(bp, "/refund", ["GET"], name="list_refund")
def list_refunds(call: Call) -> Reply:
    return listing(*service.search(domain.REFUND, call.query, call.caller))


@endpoint(bp, "/refund", ["POST"], name="create_refund", body="Refund")
def create_refund(call: Call) -> Reply:
    return created(service.refund(call.json(), call.caller, call.header("idempotency-key"))[0])


@endpoint(bp, "/refund/{rid}", ["GET"], name="get_refund")
def get_refund(call: Call, rid: str) -> Reply:
    return Reply(tmf.select_fields(service.read(domain.REFUND, rid, call.caller), tmf.field_selection(call.query)))


@endpoint(bp, "/providerCallback", ["POST"], authenticated=False, name="payment_provider_callback",
          body="ProviderCallback")
def provider_callback(call: Call) -> Reply:
    return Reply(service.callback(call.raw_body, call.header(provider.SIGNATURE_HEADER), call.json()))
