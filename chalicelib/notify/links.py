"""Short-lived signed links: `(purpose, subject id, expiry)` signed with HMAC-SHA256, URL-safe.

A link carries no personal data: only what it is for (e.g. `basket.assist`), the id of what it
acts on (a basket id) and when it stops working. The keys are a Secrets Manager secret read at
run time (`keys`): the first signs, every one verifies, so a key can be rotated.

    token = sign("basket.resume", "b-123", ttl_seconds=3600)
    link = verify(token, "basket.resume")   # -> Link(purpose, subject, expires); 4xx ApiError if not
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
import time
from typing import Sequence

from chalicelib import aws, settings
from chalicelib.errors import ApiError, Gone, bad_request

PART = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
SEPARATOR = "~"
MAC_BYTES = 16  # 128 bits of HMAC-SHA256: short enough for an SMS, far beyond guessing
MAX_TOKEN = 400


_provider = aws.secret_provider   # tests clear its cache to act as a new container


def keys() -> list[str]:
    """The link keys: the secret `link-keys` (infra/resources.py SECRETS: generated per stage by
    the stack, in moto locally), read through aws.secret_keys."""
    return aws.secret_keys(settings.LINK_SECRET, settings.LOCAL_LINK_SECRET)


@dataclasses.dataclass(frozen=True)
class Link:
    purpose: str
    subject: str
    expires: int  # epoch seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]


def sign(purpose: str, subject: str, ttl_seconds: int | None = None, *, now: float | None = None,
         secrets: Sequence[str] | None = None) -> str:
    """A URL-safe token for `purpose` on `subject`, valid for ttl_seconds (default from settings)."""
    for name, value in (("purpose", purpose), ("subject", subject)):
        if not isinstance(value, str) or not PART.match(value):
            raise ValueError(f"a link {name} is 1 to 128 letters, digits, '.', '_', ':' or '-'")
    ttl = settings.link_ttl_seconds() if ttl_seconds is None else ttl_seconds
    if ttl <= 0:
        raise ValueError("a link must live for a positive number of seconds")
    expires = int(now if now is not None else time.time()) + int(ttl)
    payload = _b64(SEPARATOR.join((purpose, subject, str(expires))).encode())
    secret = (secrets or keys())[0]
    return f"{payload}.{_b64(_mac(secret, payload))}"


def invalid_link(message: str) -> ApiError:
    return bad_request(f"this link is not valid: {message}", "invalidLink")


def verify(token: str, purpose: str | None = None, *, now: float | None = None,
           secrets: Sequence[str] | None = None) -> Link:
    """The link a token stands for. 400 `invalidLink` when it is malformed, forged or for another
    purpose; 410 `linkExpired` when its time is over."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise invalid_link("it is malformed")
    payload, mac = token.split(".")
    try:
        given = _unb64(mac)
        fields = _unb64(payload).decode().split(SEPARATOR)
    except (ValueError, UnicodeDecodeError):
        raise invalid_link("it is malformed") from None
    if not any(hmac.compare_digest(given, _mac(s, payload)) for s in (secrets or keys())):
        raise invalid_link("its signature does not match")
    if len(fields) != 3 or not fields[2].isdigit():
        raise invalid_link("it is malformed")
    link = Link(fields[0], fields[1], int(fields[2]))
    if purpose is not None and link.purpose != purpose:
        raise invalid_link(f"it is for {link.purpose}, not {purpose}")
    if link.expires <= int(now if now is not None else time.time()):
        raise Gone("this link has expired; ask for a new one", "linkExpired")
    return link


def url(token: str, path: str = "/l") -> str:
    """Where a link lands: the portal (OMNISHOP_LINK_BASE_URL) + path + token."""
    return f"{settings.link_base_url()}{path.rstrip('/')}/{token}"
