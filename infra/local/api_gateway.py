"""What API Gateway answers by itself, answered the same way by the local API server.

Deployed, API Gateway answers a path or method the app does not define with the
MISSING_AUTHENTICATION_TOKEN gateway response, which infra/resources.py GATEWAY_RESPONSES makes
a TMF 404 (infra/stack.py). chalice's local server answers an unknown path with API Gateway's
default 403 {"message": "Missing Authentication Token"} (or, with an Authorization header, its
"Authorization header requires 'Credential' parameter..." message), and an undefined method on a known path
with the Chalice app's own 405 body (API Gateway never lets that request reach the app). `serve`
makes the local server answer both with the deployed TMF 404, a body over API Gateway's payload
limit with the deployed REQUEST_TOO_LARGE 413 (without reading it), runs at most a few requests
in the app at once (Slots: one process stands in for a Lambda per request), and writes its access log
through chalicelib.observability.redact: a request line carries `/recovery/link/<token>` (the
signed link is the credential) or `?token=` and must not be written in full.
"""
from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from typing import Any

from chalice.local import (ChaliceRequestHandler, ForbiddenError, LocalDevServer, LocalGateway,
                           LocalGatewayException)

from chalicelib import db, settings, system
from chalicelib.errors import Unavailable, bad_request
from chalicelib.observability import redact, redact_handlers
from infra import resources
from infra.local import alarms


def _gateway_response(kind: str) -> dict[str, Any]:
    spec = next(r for r in resources.GATEWAY_RESPONSES if r.type == kind)
    return {"statusCode": spec.status, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {}, "body": json.dumps(spec.body())}


# chalice's local server listens with socketserver's default backlog of 5: 20-35 concurrent
# clients got connection resets. API Gateway queues far more; so does the local server now.
BACKLOG = 128
# Answered while the runtime starts: its readiness check and the local routes (tokens, outbox).
READY_OR_NOT = ("/health", "/local/")


class Gate:
    """The requests the app is working on, and the moment after which no answer is sent any more:
    the local runtime's last state save (infra/local/state.py). A request still running then may
    write after the save, so it gets no answer (the connection closes): a 2xx is only ever given
    for a write the save has."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._working = 0
        self.closed = False

    def __enter__(self) -> Gate:
        with self._idle:
            self._working += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._idle:
            self._working -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> int:
        """Wait until no request is being worked on (at most `timeout` s); how many still are."""
        with self._idle:
            self._idle.wait_for(lambda: self._working == 0, timeout)
            return self._working

    def close(self) -> None:
        self.closed = True


GATE = Gate()   # one API server per process (the runtime's)


class Slots:
    """At most `size` requests in the app's code at once (settings.local_concurrency; 0: no
    limit); the others wait for a slot in the order they came. A request gives its slot up while
    it backs off before retrying a write it lost (`sleep`, chalicelib.db's back-off wait).

    Why: deployed, each request runs in a Lambda of its own, on its own CPU. The local runtime
    runs them all in one Python process: 200 requests at once each got a 200th of it, so each one
    took 200 times as long, and every optimistic write (read, change, write if nothing moved)
    held its read that much longer and lost that much more often. 200 writers on one basket (the
    race in tests/runtime/test_runtime_races.py, alone on a quiet machine): 100 to 275 s with no
    limit; 71 s with 8 slots, 56 s with 4, 36 s with 2 (200 PATCHes one after another: about 40 s).
    Four keeps some interleaving (the races still race) at a fraction of the cost."""

    def __init__(self, size: int) -> None:
        self._free = threading.BoundedSemaphore(size) if size > 0 else None
        self._held = threading.local()

    def __enter__(self) -> Slots:
        if self._free is not None:
            self._free.acquire()
            self._held.on = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._free is not None:
            self._held.on = False
            self._free.release()

    def sleep(self, seconds: float) -> None:
        """time.sleep; a request holding a slot gives it up meanwhile (another request's write
        goes on while this one waits) and waits for one again after."""
        if self._free is None or not getattr(self._held, "on", False):
            time.sleep(seconds)
            return
        self.__exit__()
        try:
            time.sleep(seconds)
        finally:
            self.__enter__()


SLOTS = Slots(0)   # serve() sizes it


def _missing() -> dict[str, Any]:
    return _gateway_response("MISSING_AUTHENTICATION_TOKEN")


class _Gateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            response = super().handle_request(method, path, headers, body)
        except ForbiddenError as exc:   # no route: API Gateway's two messages (without / with a token)
            if not any(m in (exc.body or b"") for m in (b"Missing Authentication Token",
                                                         b"Authorization header requires")):
                raise
            return _missing()
        if response.get("statusCode") == 405:   # the app's (chalicelib.http.chalice_errors) 405
            return _missing()
        return response


class _Counted(_Gateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        started, status = time.monotonic(), 500
        try:
            with GATE, (SLOTS if not path.startswith(READY_OR_NOT) else contextlib.nullcontext()):
                response = super().handle_request(method, path, headers, body)
                status = int(response.get("statusCode") or 200)
                return response
        except LocalGatewayException as exc:   # chalice answers these itself (401, 403)
            status = exc.CODE
            raise
        finally:   # API Gateway's 5XXError and Latency, for the local alarms
            if not (path == "/health" and status == 503):   # "still starting" (locally only) is no fault
                alarms.api_answered(status, (time.monotonic() - started) * 1000)


class _Handler(ChaliceRequestHandler):
    # TCP_NODELAY on every accepted socket (socketserver.StreamRequestHandler.setup). The response
    # goes out in two writes (headers, then body): with Nagle on, the body waited for the client's
    # delayed ACK of the headers, about 40 ms on every request of a keep-alive connection.
    disable_nagle_algorithm = True

    def _send_http_response(self, code: int, headers: Any, body: Any) -> None:
        if GATE.closed:   # see Gate: no answer after the last save
            self.close_connection = True
            return
        super()._send_http_response(code, headers, body)

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = _Counted(app_object, config)
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def _generic_handle(self) -> None:
        if not self.path.startswith(READY_OR_NOT):
            waiting = system.waiting_for()
            if waiting:   # the tables or the plumbing are not there yet: a 500 would say "failed"
                self._send_http_response(503, {"Content-Type": "application/json", "Retry-After": "1"}, json.dumps(
                    Unavailable(f"the local runtime is starting: {'; '.join(waiting)}; "
                                "retry when GET /health answers 200", "starting").to_body()))
                return
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= resources.API_GATEWAY_MAX_BODY_BYTES:
            super()._generic_handle()
            return
        if length > 0:
            status, body = 413, _gateway_response("REQUEST_TOO_LARGE")["body"]
        else:
            status, body = 400, json.dumps(bad_request("the Content-Length header is not a length").to_body())
        self.close_connection = True   # the body is not read
        self._send_http_response(status, {"Content-Type": "application/json", "Connection": "close"}, body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        """The access log (and the server's error lines), redacted."""
        sys.stderr.write(redact(f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}") + "\n")


def serve(server: LocalDevServer, app_object: Any, config: Any) -> LocalDevServer:
    """Make chalice's local server (from chalice.local.create_local_server) answer as deployed,
    with a backlog of BACKLOG connections, and every line the process logs through the root logger
    redacted."""
    global SLOTS
    redact_handlers()
    SLOTS = Slots(settings.local_concurrency())
    db._sleep = SLOTS.sleep   # a back-off gives the slot up (db.back_off)
    server.server.RequestHandlerClass = lambda request, address, srv: _Handler(request, address, srv,
                                                                               app_object, config)
    server.server.socket.listen(BACKLOG)  # listening already: listen() again sets the backlog
    return server
