"""The one error type. Anything raised as ApiError becomes a TMF error body with its status."""
from __future__ import annotations

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


def bad_request(message: str, code: str = "invalidInput") -> ApiError:
    return ApiError(400, "Bad Request", message, code)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message, "unauthorized",
                    headers={"WWW-Authenticate": 'Bearer realm="omnishop"'})


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message, "forbidden")


def not_found(resource: str, rid: str) -> ApiError:
    return ApiError(404, "Not Found", f"{resource} {rid} does not exist", "notFound")


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, "Conflict", message, code)


def precondition_failed(message: str, current: dict[str, Any] | None = None) -> ApiError:
    return ApiError(412, "Precondition Failed", message, "staleVersion", body=current)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "Payload Too Large", f"the request body is larger than {limit} bytes",
                    "payloadTooLarge")


def unsupported_media_type(ctype: str) -> ApiError:
    return ApiError(415, "Unsupported Media Type",
                    f"content type {ctype!r} is not accepted; send application/json", "unsupportedMediaType")


def unprocessable(message: str, code: str = "invalidState") -> ApiError:
    return ApiError(422, "Unprocessable Entity", message, code)


def invalid(what: str, exc: Any) -> ApiError:
    """400 from a pydantic ValidationError: where and what, never the offending value."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return bad_request(f"invalid {what}: {'; '.join(parts)}")
