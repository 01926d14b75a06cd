"""How a Chalice route is written, once: authentication, body parsing, error bodies,
correlation ids, Idempotency-Key replay, and TMF response headers.

A route is a plain function `fn(call, **uri_params) -> Reply`; it never touches Chalice.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import threading
from http import HTTPStatus
from typing import Any, Callable, Mapping

from chalice import Chalice, Response

from chalicelib import access, auth, idempotency, settings, tmf
from chalicelib.errors import ApiError, bad_request, too_large, unsupported_media_type
from chalicelib.observability import bind_request, logger

JSON_TYPES = ("application/json", "application/merge-patch+json")
JSON_PATCH = "application/json-patch+json"   # RFC 6902 (TMF630 part 5), where a route takes it
MAX_PATCH_OPERATIONS = 100
# Chalice answers 415 itself (with its own {"Code": "UnsupportedMediaType"} body) for a content
# type a route does not list: every route takes every type, and Call.json refuses what is not
# JSON with a TMF 415.
ROUTE_CONTENT_TYPES = ["*/*"]
MAX_JSON_DEPTH = 32
# A string, or from an unterminated string's quote to the end (json.loads stops there too): one
# match from every quote, so the scan stays linear whatever the quotes and backslashes.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")   # +1 / -1 as signed bytes
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class App(Chalice):
    """Chalice, with the request being handled (`current_request`, `lambda_context`) kept per
    thread. Chalice keeps it in one attribute of the app object: a Lambda container handles one
    request at a time, but the local server (chalice's threaded server, infra/local/api_gateway.py)
    and the test client handle many at once with one app, and a request read another's body: of
    two channels PATCHing one basket at the same moment, one basket got the other's item twice and
    its own not at all, each answered 200 (tests/unit/test_http_threads.py)."""

    def __init__(self, app_name: str, **kwargs: Any) -> None:
        self._handling = threading.local()
        super().__init__(app_name, **kwargs)

    @property
    def current_request(self) -> Any:
        return getattr(self._handling, "request", None)

    @current_request.setter
    def current_request(self, request: Any) -> None:
        self._handling.request = request

    @property
    def lambda_context(self) -> Any:
        return getattr(self._handling, "context", None)

    @lambda_context.setter
    def lambda_context(self, context: Any) -> None:
        self._handling.context = context


def json_depth(raw: bytes) -> int:
    """How deep `raw` nests arrays and objects, brackets inside strings not counted; without
    recursion and in C-speed linear passes, so no body can make it raise RecursionError or
    take long. On invalid JSON the count is right up to the first error, which is as far as
    json.loads reads."""
    steps = _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEP, _NOT_BRACKET)
    return max(itertools.accumulate(memoryview(steps).cast("b"), initial=0))


def _refuse_constant(name: str) -> Any:
    raise bad_request(f"the request body contains {name}, which is not JSON", "malformedJson")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise bad_request(f"the number {text[:40]} is out of range", "malformedJson")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise bad_request(f"the key {key[:60]!r} appears twice in one object", "duplicateKey")
        out[key] = value
    return out


def _check_text(body: Any) -> None:
    """No NUL and no lone surrogate (\\ud800-\\udfff escapes) in any key or string value."""
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                raise bad_request("the request body contains a NUL character or an unpaired surrogate "
                                  "(not valid Unicode text)", "invalidText")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, at most MAX_JSON_DEPTH deep, no NaN/Infinity (or numbers that overflow
    to them), no duplicate keys, no NUL or unpaired surrogates. 400 with a TMF body otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8 text", "malformedJson") from None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise bad_request(f"the request body nests deeper than {MAX_JSON_DEPTH} levels", "tooDeep")
    try:
        body = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite,
                          object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"the request body is not valid JSON: {str(exc)[:200]}", "malformedJson") from None
    _check_text(body)
    return body


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
    """A list's answer: X-Result-Count, and X-Total-Count when the total is known. When it is not
    (tmf.MoreThan: more items than the list window, issue 16) no X-Total-Count, and a
    `Link: <the next page>; rel="next"` (RFC 8288) while the page is full and the next one starts
    inside the window."""
    if not isinstance(total, tmf.MoreThan):
        return Reply(items, 200, {"X-Total-Count": str(total), "X-Result-Count": str(len(items))})
    following = tmf.next_page(len(items), total)
    return Reply(items, 200, {"X-Result-Count": str(len(items)),
                              **({"Link": f'<{following}>; rel="next"'} if following else {})})


def no_content() -> Reply:
    return Reply(None, 204)


def text(body: str, content_type: str) -> Reply:
    """A body sent as it is (HTML, JavaScript, CSS), not as JSON."""
    return Reply(body, 200, {"Content-Type": content_type})


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
    _parsed: dict[str, Any] | None = dataclasses.field(default=None, repr=False)

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
        if self._parsed is None:
            body = parse_json(self.raw_body)
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            self._parsed = body
        return self._parsed

    def json_patch(self) -> list[dict[str, Any]] | None:
        """The body's RFC 6902 operations when it is sent as application/json-patch+json (None:
        it is not; `json()` reads it). Each an object with an `op` and a `path`: 400 otherwise."""
        if self.content_type != JSON_PATCH:
            return None
        if len(self.raw_body) > settings.max_body_bytes():
            raise too_large(settings.max_body_bytes())
        ops = parse_json(self.raw_body) if self.raw_body.strip() else None
        if not isinstance(ops, list) or not ops or len(ops) > MAX_PATCH_OPERATIONS or \
                not all(isinstance(op, dict) and isinstance(op.get("op"), str) and isinstance(op.get("path"), str)
                        for op in ops):
            raise bad_request(f"a JSON Patch is a list of 1 to {MAX_PATCH_OPERATIONS} operations, each an object with "
                              "op and path (RFC 6902)", "invalidJsonPatch")
        return ops

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower()) or self.headers.get(name)


@dataclasses.dataclass
class AuthenticatedCall(Call):
    """What an authenticated route (the default of `endpoint`) gets: the caller is known, since
    a request without a valid token was answered 401 before the route ran. Routes annotate
    `call: AuthenticatedCall` so mypy checks they hand the services a `Caller`, never None."""
    caller: auth.Caller


def error_response(exc: ApiError) -> Response:
    return Response(body=json.dumps(exc.to_body(), allow_nan=False), status_code=exc.status,
                    headers={"Content-Type": "application/json", **exc.headers})


# Chalice's own answers ({"Code": ..., "Message": ...}) made TMF error bodies; by status.
_CHALICE_CODES = {400: "invalidInput", 403: "forbidden", 404: "notFound", 405: "methodNotAllowed",
                  413: "payloadTooLarge", 415: "unsupportedMediaType", 429: "tooManyRequests",
                  500: "internalError"}


def chalice_errors(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """App middleware (app.py): whatever Chalice answers by itself, before or around our views
    (405 for a method a path lacks, 415, a fault outside a view), gets a TMF error body."""
    try:
        response = get_response(request)
    except Exception:
        logger.exception("unhandled error outside a route")
        return error_response(ApiError(500, "Internal Server Error", "the request could not be completed",
                                       "internalError"))
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"} and response.status_code >= 400:
        status = response.status_code
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
        return error_response(ApiError(status, reason, str(body["Message"])[:200],
                                       _CHALICE_CODES.get(status, str(body["Code"])), headers=headers))
    return response


def _response(reply: Reply) -> Response:
    headers: dict[str, str | list[str]] = dict(reply.headers)
    if reply.body is None:
        return Response(body="", status_code=reply.status, headers=headers)
    if isinstance(reply.body, str) and "Content-Type" in headers:   # text()
        return Response(body=reply.body, status_code=reply.status, headers=headers)
    headers.setdefault("Content-Type", "application/json")
    return Response(body=json.dumps(reply.body, allow_nan=False), status_code=reply.status, headers=headers)


def _reply_to_dict(reply: Reply) -> dict[str, Any]:
    return {"body": reply.body, "status": reply.status, "headers": reply.headers}


def endpoint(bp: Any, path: str, methods: list[str], authenticated: bool = True,
             name: str | None = None, body: str | None = None) -> Callable:
    """Register `fn(call, **params) -> Reply` as a Chalice route on blueprint/app `bp`.

    `body` names the pydantic model the service validates the request body with, for the API
    reference (chalicelib/docs): "Model" in the route's own context's schemas.py,
    "context.Model" in another's. A name, so importing routes loads no schema (cold start)."""

    def register(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        view_name = name or fn.__name__

        def view(**params: str) -> Response:
            request = bp.current_request
            headers = {k.lower(): v for k, v in (request.headers or {}).items()}
            context = request.context or {}
            lambda_context = getattr(bp, "lambda_context", None)
            logger.bind_function(lambda_context)   # this function's, nobody else's
            idempotency.register_context(lambda_context)   # for every once() this request makes
            bind_request(headers.get("x-correlation-id") or context.get("requestId"),
                         headers.get("x-journey-key"))
            tmf.set_request_base(headers, context.get("stage"))
            tmf.set_request_page(context.get("resourcePath", path), params, request.query_params or {})
            try:
                caller = auth.caller_from_headers(headers) if authenticated else None
                seen: dict[str, Any] = dict(method=request.method, path=context.get("resourcePath", path),
                                            headers=headers, query=dict(request.query_params or {}),
                                            raw_body=request.raw_body or b"",
                                            source_ip=(context.get("identity") or {}).get("sourceIp"))
                call = Call(caller=None, **seen) if caller is None else AuthenticatedCall(caller=caller, **seen)
                if call.raw_body.strip() and call.content_type in JSON_TYPES:
                    call.json()   # every JSON body is strict, whether the route reads it or not
                if caller is not None:   # the access table, before the route runs (chalicelib/access.py)
                    access.check_route(caller, call.path, call.method)
                key = headers.get("idempotency-key")
                if key and request.method == "POST" and caller is not None:
                    scoped = idempotency_scope(caller, request.method, call.path, params, key)
                    payload = call.raw_body.decode("utf-8", "replace")
                    result = _replay(view_name, scoped, payload, lambda: fn(call, **params))
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
        view.route = fn, body, authenticated   # type: ignore[attr-defined]  # for chalicelib/docs
        bp.route(path, methods=methods, content_types=ROUTE_CONTENT_TYPES)(view)
        return fn

    return register


def idempotency_scope(caller: auth.Caller, method: str, resource_path: str, params: Mapping[str, str],
                      key: str) -> str:
    """What an Idempotency-Key is unique within: the caller, the method and the path with its
    parameters filled in (the same key for another customer's identityLink is another request)."""
    path = re.sub(r"{([^}]+)}", lambda m: params.get(m.group(1), m.group(0)), resource_path)
    return json.dumps([caller.sub, caller.role, caller.customer_id, method, path, key])


def _replay(scope: str, key: str, payload: str, thunk: Callable[[], Reply]) -> Reply:
    def run() -> dict[str, Any]:
        return _reply_to_dict(thunk())

    stored = idempotency.once(f"http.{scope}", key, run, payload=payload)
    return Reply(stored["body"], stored["status"], dict(stored["headers"]))
