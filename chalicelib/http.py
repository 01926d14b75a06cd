"""How a Chalice route is written, once: authentication, body parsing, error bodies,
correlation ids, Idempotency-Key replay, and TMF response headers.

A route is a plain function `fn(call, **uri_params) -> Reply`; it never touches Chalice.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable, Mapping

from chalice import Response

from chalicelib import auth, settings, tmf
from chalicelib.errors import ApiError, bad_request, too_large, unsupported_media_type
from chalicelib.observability import bind_request, logger

JSON_TYPES = ("application/json", "application/merge-patch+json")
# Chalice answers 415 itself for types a route does not list; we list common ones so that the
# refusal is ours, with a TMF error body.
ROUTE_CONTENT_TYPES = [*JSON_TYPES, "application/json-patch+json", "text/plain", "application/xml",
                       "text/xml", "application/x-www-form-urlencoded", "multipart/form-data",
                       "application/octet-stream"]


@dataclasses.dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def created(resource: Mapping[str, Any]) -> Reply:
    return Reply(dict(resource), 201, {"Location": resource.get("href", "")})


def with_etag(resource: Mapping[str, Any], version: int, status: int = 200) -> Reply:
    """A resource with its version as ETag (201 + Location for a create)."""
    reply = created(resource) if status == 201 else Reply(dict(resource), status)
    reply.headers["ETag"] = tmf.etag(version)
    return reply


def listing(items: list[dict[str, Any]], total: int) -> Reply:
    return Reply(items, 200, {"X-Total-Count": str(total), "X-Result-Count": str(len(items))})


def no_content() -> Reply:
    return Reply(None, 204)


@dataclasses.dataclass
class Call:
    """What a route gets to see of a request."""
    method: str
    path: str
    headers: Mapping[str, str]
    query: dict[str, str]
    raw_body: bytes
    caller: auth.Caller | None
    source_ip: str | None = None

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "application/json").split(";")[0].strip().lower()

    def json(self, any_content_type: bool = False) -> dict[str, Any]:
        if len(self.raw_body) > settings.max_body_bytes():
            raise too_large(settings.max_body_bytes())
        if self.content_type not in JSON_TYPES and not any_content_type:
            raise unsupported_media_type(self.content_type)
        if not self.raw_body.strip():
            raise bad_request("the request body is empty; send a JSON object")
        try:
            body = json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}", "malformedJson") from None
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        return body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower()) or self.headers.get(name)


def error_response(exc: ApiError) -> Response:
    return Response(body=json.dumps(exc.to_body()), status_code=exc.status,
                    headers={"Content-Type": "application/json", **exc.headers})


def _response(reply: Reply) -> Response:
    headers = dict(reply.headers)
    if reply.body is None:
        return Response(body="", status_code=reply.status, headers=headers)
    headers.setdefault("Content-Type", "application/json")
    return Response(body=json.dumps(reply.body), status_code=reply.status, headers=headers)


def _reply_to_dict(reply: Reply) -> dict[str, Any]:
    return {"body": reply.body, "status": reply.status, "headers": reply.headers}


def endpoint(bp: Any, path: str, methods: list[str], authenticated: bool = True,
             name: str | None = None) -> Callable:
    """Register `fn(call, **params) -> Reply` as a Chalice route on blueprint/app `bp`."""

    def register(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        view_name = name or fn.__name__

        def view(**params: str) -> Response:
            request = bp.current_request
            headers = {k.lower(): v for k, v in (request.headers or {}).items()}
            context = request.context or {}
            bind_request(headers.get("x-correlation-id") or context.get("requestId"),
                         headers.get("x-journey-key"))
            tmf.set_request_base(headers, context.get("stage"))
            try:
                caller = auth.caller_from_headers(headers) if authenticated else None
                call = Call(method=request.method, path=context.get("resourcePath", path),
                            headers=headers, query=dict(request.query_params or {}),
                            raw_body=request.raw_body or b"", caller=caller,
                            source_ip=(context.get("identity") or {}).get("sourceIp"))
                key = headers.get("idempotency-key")
                if key and request.method == "POST" and caller is not None:
                    if getattr(bp, "lambda_context", None) is not None:
                        from chalicelib import idempotency

                        idempotency.register_context(bp.lambda_context)
                    payload = call.raw_body.decode("utf-8", "replace")
                    result = _replay(view_name, f"{caller.sub}:{key}", payload, lambda: fn(call, **params))
                else:
                    result = fn(call, **params)
                return _response(result)
            except ApiError as exc:
                if exc.status >= 500:
                    logger.error("request failed", extra={"status": exc.status, "reason": exc.message})
                return error_response(exc)
            except Exception:
                logger.exception("unhandled error")
                return error_response(ApiError(500, "Internal Server Error",
                                               "the request could not be completed; it was not applied "
                                               "unless a later read shows otherwise", "internalError"))

        view.__name__ = view_name
        bp.route(path, methods=methods, content_types=ROUTE_CONTENT_TYPES)(view)
        return fn

    return register


def _replay(scope: str, key: str, payload: str, thunk: Callable[[], Reply]) -> Reply:
    from chalicelib import idempotency

    def run() -> dict[str, Any]:
        return _reply_to_dict(thunk())

    stored = idempotency.once(f"http.{scope}", key, run, payload=payload)
    return Reply(stored["body"], stored["status"], dict(stored["headers"]))
