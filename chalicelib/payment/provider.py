"""The payment-provider adapter: one small interface (`Provider`), the simulated provider the
local runtime and the tests use, and the provider's signed callbacks.

The simulated provider decides by the card token (`paymentMethod.id`), deterministically:
  tok-declined   -> denied (the issuer declined: nothing is taken)
  tok-3ds        -> pendingAuthorization: the customer confirms with her bank; the provider then
                    posts a signed callback (authorized or denied)
  any other      -> authorized
A callback is trusted only when its signature is an HMAC-SHA256, with a secret of
callback_keys(), over "<timestamp>.<raw body>" and its timestamp is within
settings.payment_callback_window_seconds() of now (header `Provider-Signature: t=<ts>,v1=<hex>`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import time
from typing import Any, Mapping, Protocol

from chalicelib import aws, settings
from chalicelib.payment import domain

DECLINED_TOKEN, STEP_TOKEN = "tok-declined", "tok-3ds"
SIGNATURE_HEADER = "provider-signature"


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str                            # authorized, denied, pendingAuthorization
    reason: str | None = None              # for the customer
    authorization_code: str | None = None


class Provider(Protocol):
    def authorize(self, payment_id: str, amount: Mapping[str, Any], token: str) -> Outcome:
        """Take `amount` with the card `token`; `payment_id` is the idempotency key at the provider
        (the same id again answers the first outcome, charging nothing more)."""

    def refund(self, refund_id: str, payment_id: str, amount: Mapping[str, Any]) -> Outcome:
        """Give back `amount` of what `payment_id` took; `refund_id` is the idempotency key at the
        provider (the same id again answers the first outcome, giving back nothing more). Status
        `done`, or `failed` with the reason; raising when the provider cannot be reached."""

    def void(self, payment_id: str) -> None:
        """Drop a payment still waiting for the customer's step (it expired here)."""


class SimulatedProvider:
    def authorize(self, payment_id: str, amount: Mapping[str, Any], token: str) -> Outcome:
        if token == DECLINED_TOKEN:
            return Outcome(domain.DENIED, "your card was declined by its issuer; nothing was charged")
        if token == STEP_TOKEN:
            return Outcome(domain.PENDING, "confirm this payment with your bank to complete the order")
        return Outcome(domain.AUTHORIZED, authorization_code=_code(payment_id))

    def refund(self, refund_id: str, payment_id: str, amount: Mapping[str, Any]) -> Outcome:
        return Outcome(domain.REFUND_DONE, authorization_code=_code("refund:" + refund_id))

    def void(self, payment_id: str) -> None:
        return None


def _code(key: str) -> str:
    return "SIM-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def provider() -> Provider:
    name = settings.payment_provider()
    if name == "simulated":
        return SimulatedProvider()
    raise RuntimeError(f"no payment provider adapter named {name!r} (OMNISHOP_PAYMENT_PROVIDER)")


# --- callbacks --------------------------------------------------------------------------------------
def callback_keys() -> list[str]:
    """The HMAC keys the provider signs its callbacks with: the secret `payment-callback-keys`
    (infra/resources.py SECRETS; deployed, the operator puts the provider's key in it)."""
    return aws.secret_keys(settings.PAYMENT_CALLBACK_SECRET, settings.LOCAL_PAYMENT_CALLBACK_SECRET)


def sign(raw_body: bytes, timestamp: int | None = None, secret: str | None = None) -> str:
    """The signature header value a provider sends with `raw_body` (the simulator; tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    key = secret or callback_keys()[0]
    return f"t={ts},v1={_mac(key, ts, raw_body)}"


def _mac(secret: str, ts: int, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), f"{ts}.".encode() + raw_body, hashlib.sha256).hexdigest()


def verify(header: str | None, raw_body: bytes, now: float | None = None) -> str | None:
    """Why the callback is not to be trusted (None when it is signed by the provider, recently)."""
    if not header:
        return "no provider signature"
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not re.fullmatch(r"[0-9]{1,12}", stamp):
        return "the signature has no valid timestamp"
    ts = int(stamp)
    if abs((time.time() if now is None else now) - ts) > settings.payment_callback_window_seconds():
        return "the signature's timestamp is outside the accepted window (a replay, or a clock far off)"
    if not re.fullmatch(r"[0-9a-f]{64}", given):
        return "the signature is not an HMAC-SHA256 in hex"
    if not any(hmac.compare_digest(given, _mac(s, ts, raw_body)) for s in callback_keys()):
        return "the signature does not match the body"
    return None
