"""The one error type. Anything raised as ApiError becomes a TMF error body with its status."""
from __future__ import annotations

import copy
from typing import Any, Mapping


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, code: str | None = None,
                 body: dict[str, Any] | None = None, headers: Mapping[str, str | list[str]] | None = None,
                 items: tuple[str, ...] = ()):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.code = code or str(status)
        self.body = body  # replaces the error body when set (e.g. 412 returns the current resource)
        self.headers: dict[str, str | list[str]] = dict(headers or {})
        self.items = items  # ids of the request's items the error is about (for callers; not in the body)

    def retold(self, message: str) -> ApiError:
        """The same error (its type, status and code) in other words, with the TMF error body."""
        other = copy.copy(self)
        other.args, other.message, other.body, other.headers = (message,), message, None, {}
        return other

    def to_body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        return {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "status": str(self.status),
            "@type": "Error",
        }


# The typed errors: the domain raises these and callers catch them by type (never by status);
# each carries its TMF error code, and its HTTP status is fixed by its class alone.
class DomainError(ApiError):
    """The base of the typed errors (catch a subclass, not this)."""
    STATUS, REASON, CODE = 500, "Internal Server Error", "internalError"

    def __init__(self, message: str, code: str | None = None, **extra: Any):
        super().__init__(self.STATUS, self.REASON, message, code or self.CODE, **extra)


class Invalid(DomainError):
    STATUS, REASON, CODE = 400, "Bad Request", "invalidInput"


class Unauthorized(DomainError):
    STATUS, REASON, CODE = 401, "Unauthorized", "unauthorized"


class Forbidden(DomainError):
    STATUS, REASON, CODE = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    STATUS, REASON, CODE = 404, "Not Found", "notFound"


class Conflict(DomainError):
    """The request is right but the resource's state refuses it now (exists already, busy, ...)."""
    STATUS, REASON, CODE = 409, "Conflict", "conflict"


class Gone(DomainError):
    STATUS, REASON, CODE = 410, "Gone", "gone"


class Stale(DomainError):
    """An If-Match that is not the current version; the body is the current resource when known."""
    STATUS, REASON, CODE = 412, "Precondition Failed", "staleVersion"


class TooLarge(DomainError):
    STATUS, REASON, CODE = 413, "Payload Too Large", "payloadTooLarge"


class UnsupportedMediaType(DomainError):
    STATUS, REASON, CODE = 415, "Unsupported Media Type", "unsupportedMediaType"


class Unprocessable(DomainError):
    """Well-formed, but the domain's rules refuse it (a state transition, an expired resource)."""
    STATUS, REASON, CODE = 422, "Unprocessable Entity", "invalidState"


class Unavailable(DomainError):
    """Not now, try again later (nothing was written)."""
    STATUS, REASON, CODE = 503, "Service Unavailable", "unavailable"


def bad_request(message: str, code: str = "invalidInput") -> ApiError:
    return Invalid(message, code)


def unauthorized(message: str) -> ApiError:
    return Unauthorized(message, headers={"WWW-Authenticate": 'Bearer realm="omnishop"'})


def forbidden(message: str) -> ApiError:
    return Forbidden(message)


def not_found(resource: str, rid: str) -> ApiError:
    return NotFound(f"{resource} {rid} does not exist")


def conflict(message: str, code: str = "conflict") -> ApiError:
    return Conflict(message, code)


def busy(what: str) -> ApiError:
    """409 after a read-change-write lost every attempt to other writers (db.change)."""
    return Conflict(f"{what} is being changed by others; retry", "busy")


def precondition_failed(message: str, current: dict[str, Any] | None = None,
                        version: int | None = None) -> ApiError:
    """412; `current` (the resource as it is now) becomes the body, its `version` the ETag."""
    return Stale(message, body=current, headers={"ETag": f'"{version}"'} if version is not None else None)


def too_large(limit: int) -> ApiError:
    return TooLarge(f"the request body is larger than {limit} bytes")


def unsupported_media_type(ctype: str) -> ApiError:
    return UnsupportedMediaType(f"content type {ctype!r} is not accepted; send application/json")


def unprocessable(message: str, code: str = "invalidState") -> ApiError:
    return Unprocessable(message, code)


def invalid(what: str, exc: Any) -> ApiError:
    """400 from a pydantic ValidationError: where and what, never the offending value."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return bad_request(f"invalid {what}: {'; '.join(parts)}")
