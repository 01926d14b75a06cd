"""What API Gateway answers by itself, answered the same way by the local API server.

Deployed, API Gateway answers a path or method the app does not define with the
MISSING_AUTHENTICATION_TOKEN gateway response, which infra/resources.py GATEWAY_RESPONSES makes
a TMF 404 (infra/stack.py). chalice's local server answers an unknown path with API Gateway's
default 403 {"message": "Missing Authentication Token"} (or, with an Authorization header, its
"Authorization header requires 'Credential' parameter..." message), and an undefined method on a known path
with the Chalice app's own 405 body (API Gateway never lets that request reach the app). `serve`
makes the local server answer both with the deployed TMF 404.
"""
from __future__ import annotations

import json
from typing import Any

from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalDevServer, LocalGateway

from infra import resources

MISSING = next(r for r in resources.GATEWAY_RESPONSES if r.type == "MISSING_AUTHENTICATION_TOKEN")


def _missing() -> dict[str, Any]:
    return {"statusCode": MISSING.status, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {}, "body": json.dumps(MISSING.body())}


class _Gateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            response = super().handle_request(method, path, headers, body)
        except ForbiddenError as exc:   # no route: API Gateway's two messages (without / with a token)
            if not any(m in (exc.body or b"") for m in (b"Missing Authentication Token",
                                                         b"Authorization header requires")):
                raise
            return _missing()
        if response.get("statusCode") == 405 and "MethodNotAllowedError" in str(response.get("body")):
            return _missing()
        return response


class _Handler(ChaliceRequestHandler):
    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = _Gateway(app_object, config)
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)


def serve(server: LocalDevServer, app_object: Any, config: Any) -> LocalDevServer:
    """Make chalice's local server (from chalice.local.create_local_server) answer as deployed."""
    server.server.RequestHandlerClass = lambda request, address, srv: _Handler(request, address, srv,
                                                                               app_object, config)
    return server
