"""Bearer JWT verification and role checks, the same code in AWS and locally.

In AWS the tokens come from Cognito and are verified against the user pool's JWKS
(OMNISHOP_JWKS_URL); Cognito carries our claims as custom attributes (`custom:role`, ...) or as
plain claims added by a pre-token-generation trigger; both spellings are read. Locally
(OMNISHOP_LOCAL=1) the same verification runs against a local key (kept in a file by the local
runtime, see _local_private_key), and POST /local/token signs tokens with it.
"""
from __future__ import annotations

import dataclasses
import functools
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib import settings
from chalicelib.errors import bad_request, forbidden, unauthorized

if TYPE_CHECKING:  # PyJWT and cryptography are imported on first use: stream and queue
    import jwt     # consumers import this module for Caller/require and never verify a token.

ROLES = ("customer", "agent", "marketing", "catalog-admin", "stack", "channel", "sales-manager")
CHANNELS = ("web", "app", "social", "callcenter", "sms", "email", "store")
ALGORITHMS = ["RS256"]
# Cognito client-credentials tokens carry no user attributes, only scopes: a channel backend's
# client has the scope "omnishop/channel.<channel>", a fulfilment stack's "omnishop/stack.<stack>"
# (one client per stack). Locally a stack token carries the claim `stack` instead. Either way the
# stack is the caller's identity: a stack reports only on its own child orders, whatever its `sub`.
SCOPE_SERVER = "omnishop"


def channel_scope(channel: str) -> str:
    return f"channel.{channel}"


def stack_scope(stack: str) -> str:
    return f"stack.{stack}"


def stacks() -> tuple[str, ...]:
    from chalicelib.catalog.domain import STACKS   # the one list of fulfilment stacks

    return STACKS
LOCAL_KID = "omnishop-local"
LOCAL_TOKEN_SECONDS = 12 * 3600


@dataclasses.dataclass(frozen=True)
class Caller:
    sub: str
    role: str
    channel: str | None = None
    customer_id: str | None = None
    stack: str | None = None
    # A business customer's contact: the party (an Individual of the organisation's relatedParty)
    # the person logged in as; their contact roles decide what they may do (access.CONTACT_RIGHTS).
    party_id: str | None = None

    @property
    def sees_published_only(self) -> bool:
        """Channels and customers only see what is published for their channel."""
        return self.role in ("channel", "customer")

    @property
    def own_customer_id(self) -> str:
        """A customer caller's own customer id: every customer token carries one (caller_from_claims)."""
        if not self.customer_id:
            raise unauthorized("a customer token must carry customerId")
        return self.customer_id


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    return claims.get(name, claims.get(f"custom:{name}"))


def _machine_role(scope: Any) -> tuple[str | None, str | None, str | None]:
    """role, channel and stack of a client-credentials token, from its scopes: exactly one
    channel.<channel> or exactly one stack.<stack> scope of ours."""
    granted = [s.removeprefix(f"{SCOPE_SERVER}/") for s in str(scope or "").split()
               if s.startswith(f"{SCOPE_SERVER}/")]
    channels = [g.removeprefix("channel.") for g in granted if g.startswith("channel.")]
    named = [g.removeprefix("stack.") for g in granted if g.startswith("stack.")]
    if len(channels) == 1 and not named and not any(g.startswith("stack") for g in granted):
        return "channel", channels[0], None
    if len(named) == 1 and granted == [stack_scope(named[0])]:
        return "stack", None, named[0]
    return None, None, None


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    sub, role, channel = claims.get("sub"), _claim(claims, "role"), _claim(claims, "channel")
    customer_id, stack, party_id = _claim(claims, "customerId"), _claim(claims, "stack"), _claim(claims, "partyId")
    if role is None and claims.get("scope"):
        role, channel, stack = _machine_role(claims["scope"])
    if not isinstance(sub, str) or not sub:
        raise unauthorized("the token has no subject")
    if role not in ROLES:
        raise unauthorized(f"the token's role {role!r} is not one of {', '.join(ROLES)}")
    if channel is not None and channel not in CHANNELS:
        raise unauthorized(f"the token's channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if role in ("customer", "channel") and channel is None:
        raise unauthorized(f"a {role} token must name its channel")
    if role == "customer" and not customer_id:
        raise unauthorized("a customer token must carry customerId")
    if role == "stack" and stack not in stacks():
        raise unauthorized(f"a stack token must name its stack, one of {', '.join(stacks())} (claim `stack`, "
                           f"or the scope {SCOPE_SERVER}/{stack_scope('<stack>')}); it names {stack!r}")
    if role != "stack" and stack is not None:
        raise unauthorized("only a stack token names a stack")
    if party_id is not None and (role != "customer" or not isinstance(party_id, str) or not party_id):
        raise unauthorized("only a customer token names a partyId (the contact of a business customer)")
    return Caller(sub=sub, role=role, channel=channel, customer_id=customer_id, stack=stack, party_id=party_id)


# --- keys -------------------------------------------------------------------------------------
_local_lock = threading.Lock()
_local_key: Any = None


def _local_private_key() -> Any:
    """The local signing key: kept in OMNISHOP_LOCAL_SIGNING_KEY_FILE when that is set (the local
    runtime sets it: tokens stay valid across restarts), else one per process."""
    global _local_key
    with _local_lock:
        if _local_key is None:
            _local_key = _load_or_make_key(settings.env("LOCAL_SIGNING_KEY_FILE"))
        return _local_key


def _load_or_make_key(path: str | None) -> Any:
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if path and os.path.exists(path):
        with open(path, "rb") as pem:
            return serialization.load_pem_private_key(pem.read(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if path:   # written whole under another name, then renamed: never half a key
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as pem:
            pem.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        os.replace(temporary, path)
    return key


@functools.lru_cache(maxsize=1)
def _jwks_client(url: str) -> "jwt.PyJWKClient":
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _verification_key(token: str) -> Any:
    import jwt

    if settings.local_mode():
        return _local_private_key().public_key()
    url = settings.jwks_url()
    if not url:
        raise unauthorized("token verification is not configured (OMNISHOP_JWKS_URL)")
    try:
        return _jwks_client(url).get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientError as exc:
        raise unauthorized(f"the token's signing key is unknown: {exc}") from None


def verify(token: str) -> Caller:
    import jwt

    try:
        key = _verification_key(token)
        claims = jwt.decode(
            token, key, algorithms=ALGORITHMS, issuer=settings.jwt_issuer(),
            audience=settings.jwt_audience(),
            options={"require": ["exp", "iat", "sub"], "verify_aud": settings.jwt_audience() is not None},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"the token is not valid: {exc}") from None
    return caller_from_claims(claims)


def caller_from_headers(headers: Mapping[str, str]) -> Caller:
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        raise unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    return verify(token.strip())


def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise forbidden(f"role {caller.role!r} may not do this; it needs one of: {', '.join(roles)}")


def issue_local_token(claims: Mapping[str, Any]) -> str:
    """Local mode only: sign a token for the given claims after checking them."""
    if not settings.local_mode():
        raise forbidden("local tokens are only issued by the local runtime")
    if not isinstance(claims, Mapping):
        raise bad_request("the body must be a JSON object of claims")
    wanted = {k: claims[k] for k in ("sub", "role", "channel", "customerId", "stack", "partyId") if claims.get(k) is not None}
    wanted.setdefault("sub", f"local-{wanted.get('role', 'anonymous')}")
    try:
        caller_from_claims(wanted)
    except Exception as exc:  # ApiError from the check: a bad request here, not a 401
        raise bad_request(getattr(exc, "message", str(exc))) from None
    issued = int(time.time())
    payload = {**wanted, "iss": settings.jwt_issuer(), "iat": issued, "exp": issued + LOCAL_TOKEN_SECONDS}
    if settings.jwt_audience():
        payload["aud"] = settings.jwt_audience()
    import jwt

    return jwt.encode(payload, _local_private_key(), algorithm="RS256", headers={"kid": LOCAL_KID})
