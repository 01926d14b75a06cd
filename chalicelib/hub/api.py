"""POST /hub, GET/DELETE /hub/{id} for an API, registered by that API's blueprint."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import deferred
from chalicelib.http import AuthenticatedCall, Reply, endpoint, no_content

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.hub import service
else:
    service = deferred.module("chalicelib.hub.service")


def register(bp: Any, api_name: str, api_root: str) -> None:
    @endpoint(bp, "/hub", ["POST"], name=f"hub_subscribe_{api_name}")
    def subscribe(call: AuthenticatedCall) -> Reply:
        sub = service.subscribe(api_name, call.json(), call.caller)
        return Reply(sub, 201, {"Location": f"{api_root}/hub/{sub['id']}"})

    @endpoint(bp, "/hub/{sid}", ["GET"], name=f"hub_get_{api_name}")
    def get(call: AuthenticatedCall, sid: str) -> Reply:
        return Reply(service.get(api_name, sid, call.caller))

    @endpoint(bp, "/hub/{sid}", ["DELETE"], name=f"hub_unsubscribe_{api_name}")
    def unsubscribe(call: AuthenticatedCall, sid: str) -> Reply:
        service.unsubscribe(api_name, sid, call.caller)
        return no_content()
