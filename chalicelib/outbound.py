"""The one way the platform calls or reads a URL it was given (hub callbacks, importJob sources,
stack endpoints): `check(url)` says whether it may, `request(...)` makes the call.

Rules: http(s) only, and https only in AWS; no credentials in the URL; IP addresses only as a
plain dotted quad or a bracketed IPv6 address without a zone id; the host is resolved and every
address it resolves to must be public (no loopback, link-local / cloud metadata, private, CGNAT,
unique-local, multicast, unspecified, reserved or broadcast, including IPv4 inside IPv6 forms).
The call connects to the address that was checked (the Host header and TLS SNI/certificate check
use the name), so a DNS answer that changes between check and connect is not used. Redirects are
followed only when asked, a bounded number of times, each hop checked again.

Locally (OMNISHOP_LOCAL) OMNISHOP_OUTBOUND_ALLOW opens loopback host:port pairs, and so does
allow_local for this process's own listeners (the demo listener, the simulated stacks, tests'
listeners), never the API's own port or moto's.
"""
from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Mapping

from chalicelib import settings

MAX_URL_LENGTH = 2048
REDIRECTS = (301, 302, 303, 307, 308)
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$", re.IGNORECASE)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL is not one the platform may call; `reason` says why without echoing anything."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unreachable(Exception):
    """The host did not resolve or could not be reached: worth retrying later."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str                    # the name (or IP literal) the Host header and TLS use
    port: int
    path: str                    # path and query, never empty
    addresses: tuple[str, ...]   # the checked addresses, in the resolver's order


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


# --- the rules --------------------------------------------------------------------------------
def refused_kind(ip: IPAddress) -> str | None:
    """Why an address may not be called ("a loopback address", ...), or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            return refused_kind(embedded)
        if ip.teredo:
            return "a Teredo tunnel address"
    checks = (
        (ip.is_unspecified or (ip.version == 4 and ip in _THIS_NETWORK), "an unspecified address"),
        (ip.version == 4 and ip == _BROADCAST, "a broadcast address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata lives there)"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in _CGNAT, "a shared (CGNAT) address"),
        (ip.version == 6 and ip in _UNIQUE_LOCAL, "a unique-local address"),
        (ip.version == 6 and ip.is_site_local, "a site-local address"),   # fec0::/10: is_global says yes
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((why for bad, why in checks if bad), None)


def _allowed(ip: IPAddress, port: int) -> bool:
    """Locally only: an allow-listed loopback host:port (the demo listener, simulated stacks)."""
    with _LOCK:
        opened = tuple(_OPENED)
    return ip.is_loopback and (ip, port) in settings.outbound_allow(opened)


def _host(parts: urllib.parse.SplitResult) -> str:
    """The host, in the one spelling accepted for it."""
    raw = parts.hostname or ""
    if "[" in parts.netloc:  # a bracketed IPv6 literal
        if "%" in raw:
            raise Refused("IPv6 zone ids are not accepted in a URL")
        try:
            return str(ipaddress.IPv6Address(raw))
        except ValueError:
            raise Refused("the URL's IPv6 address is not valid") from None
    host = raw[:-1] if raw.endswith(".") else raw
    labels = host.split(".")
    if host and all(_NUMERIC_PART.match(label) for label in labels):
        try:  # the only IPv4 spelling accepted: four decimal parts without leading zeros
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise Refused("an IP address in a URL must be written as a plain dotted quad") from None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise Refused("the URL's host name is not valid") from None
    if not _HOST_NAME.match(ascii_host):
        raise Refused("the URL's host name is not valid")
    return ascii_host.lower()


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unreachable("the URL's host name does not resolve") from None
    found: list[IPAddress] = []
    for info in infos:
        host_address = info[4][0]
        if not isinstance(host_address, str):   # (int, bytes) addresses are not IP ones
            continue
        address = ipaddress.ip_address(host_address.split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Unreachable("the URL's host name does not resolve")
    return found


def check(url: object) -> Target:
    """Parse, resolve and check a URL. Refused when it may not be called; Unreachable when its
    host does not resolve (which may change)."""
    if not isinstance(url, str) or not url:
        raise Refused("the URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        raise Refused("the URL contains whitespace, control characters or backslashes")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("only http and https URLs are accepted")
    if not parts.netloc:
        raise Refused("the URL must be absolute (scheme://host/path)")
    if "@" in parts.netloc:
        raise Refused("credentials (user@ or user:password@) are not accepted in a URL")
    host = _host(parts)
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    for ip in addresses:
        if _allowed(ip, port):
            continue
        why = refused_kind(ip)
        if why is not None:
            raise Refused(f"the URL resolves to {why}")
    if scheme != "https" and not settings.local_mode():
        raise Refused("only https URLs are accepted")
    path = parts.path or "/"
    return Target(scheme, host, port, path + (f"?{parts.query}" if parts.query else ""),
                  tuple(str(ip) for ip in addresses))


# --- the call ---------------------------------------------------------------------------------
def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` (checked) that speaks to `target.host` (Host header, SNI and
    certificate name)."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    conn._create_connection = (  # type: ignore[attr-defined]
        lambda _where, conn_timeout, source=None: socket.create_connection((address, target.port), conn_timeout, source))
    return conn


def _once(target: Target, method: str, body: bytes | None, headers: Mapping[str, str], timeout: float,
          max_bytes: int) -> Response:
    last: OSError | None = None
    for address in target.addresses:
        conn = _connection(target, address, timeout)
        try:
            conn.request(method, target.path, body=body, headers=dict(headers))
            answer = conn.getresponse()
            data = answer.read(max_bytes + 1)
            return Response(answer.status, data, {k.lower(): v for k, v in answer.getheaders()})
        except ssl.SSLError:
            raise Unreachable("the TLS handshake with the URL's host failed") from None
        except (OSError, http.client.HTTPException) as exc:
            last = exc if isinstance(exc, OSError) else OSError(type(exc).__name__)
        finally:
            conn.close()
    if isinstance(last, TimeoutError | socket.timeout):
        raise Unreachable("the URL's host did not answer in time")
    raise Unreachable("the URL's host could not be reached")


def request(method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
            timeout: float = 10.0, redirects: int = 0, max_bytes: int = 1024 * 1024) -> Response:
    """Call a URL through the guard. Any status but a redirect is returned (the caller decides
    what it means); with `redirects` > 0 a GET follows that many redirects, each one checked like
    the first, and otherwise a redirect is refused.
    Raises Refused (this URL or a redirect may not be called) or Unreachable."""
    target = check(url)
    hops = 0
    while True:
        answer = _once(target, method, body, headers or {}, timeout, max_bytes)
        location = answer.headers.get("location")
        if answer.status not in REDIRECTS:
            return answer
        if redirects == 0 or method != "GET" or not location:
            raise Refused(f"the URL answered with a redirect (HTTP {answer.status}), which is not followed")
        hops += 1
        if hops > redirects:
            raise Refused(f"more than {redirects} redirects")
        current = f"{target.scheme}://{_netloc(target)}{target.path}"
        try:
            target = check(urllib.parse.urljoin(current, location))
        except Refused as exc:
            raise Refused(f"a redirect was refused: {exc.reason}") from None


def _netloc(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


# --- local runtime and tests only -------------------------------------------------------------
# Loopback ports this process's own listeners opened (allow_local), beside the configured list:
# a set under a lock, not the environment (rewriting os.environ from several threads lost
# entries, and every child process inherited them).
_OPENED: set[tuple[IPAddress, int]] = set()
_LOCK = threading.Lock()


def allow_local(host: str, port: int) -> None:
    """Let the outbound guard reach a loopback host:port of this process (the demo listener and
    the simulated stacks call this when they start; it has effect only when OMNISHOP_LOCAL, and
    never opens the API's or moto's port)."""
    with _LOCK:
        _OPENED.add((ipaddress.ip_address(host), int(port)))


def disallow_local(host: str, port: int) -> None:
    """Close what allow_local opened (the listener on it stopped)."""
    with _LOCK:
        _OPENED.discard((ipaddress.ip_address(host), int(port)))
