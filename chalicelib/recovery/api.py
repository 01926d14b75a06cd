"""Recovery routes (own API, TMF conventions for errors and lists), mounted at /recovery:

    GET  /link/{token}              what a reminder's or approval email's link offers (no login: the
                                    signed link is the key; no personal data in it or in the answer)
    POST /link/{token}/accept       accept assistance: the basket goes on the agents' worklist
    POST /link/{token}/resume       carry on yourself: the basket is the customer's again
    POST /link/{token}/approve      approve the basket the approval email showed (then it is ordered)
    GET  /worklist                  agent: baskets waiting for an agent (?claimed=false|true)
    GET  /worklist/{id}             agent: the basket, the customer's 360 view, recommendations
    POST /worklist/next             agent: claim the next basket from the worklist queue (204: none)
    POST /worklist/{id}/claim       agent: take the basket (then edit it with the TMF663 API and
                                    hand it back with PATCH {"status": "awaitingApproval"})
Invalid links are 400 invalidLink, expired ones 410 linkExpired; nothing changes. A link's
refusals carry no personal data either: a write that lost a race (two approve clicks at once) is
a plain 412, never the current basket a TMF 412 otherwise returns.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from chalice import Blueprint

from chalicelib import deferred
from chalicelib.errors import ApiError, Stale
from chalicelib.http import AuthenticatedCall, Call, Reply, endpoint, listing

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the modules and checks the calls into them
    from chalicelib.recovery import link_actions
    from chalicelib.recovery import worklist as work
else:
    link_actions = deferred.module("chalicelib.recovery.link_actions")
    work = deferred.module("chalicelib.recovery.worklist")

bp = Blueprint(__name__)


def _link_answer(answer: Callable[[], dict[str, Any]]) -> Reply:
    try:
        return Reply(answer())
    except ApiError as exc:
        if exc.body is None:
            raise
        raise exc.retold("the basket changed meanwhile; open the link again" if isinstance(exc, Stale)
                         else exc.message) from None


@endpoint(bp, "/link/{token}", ["GET"], authenticated=False, name="recovery_link")
def link(call: Call, token: str) -> Reply:
    return _link_answer(lambda: link_actions.link_view(token))


@endpoint(bp, "/link/{token}/{action}", ["POST"], authenticated=False, name="recovery_link_action")
def link_action(call: Call, token: str, action: str) -> Reply:
    """accept | resume | approve (what the link's purpose allows; anything else is 404)."""
    return _link_answer(lambda: link_actions.link_action(token, action))


@endpoint(bp, "/worklist", ["GET"], name="recovery_worklist")
def worklist(call: AuthenticatedCall) -> Reply:
    items, total = work.worklist(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/worklist/next", ["POST"], name="recovery_next_work")
def next_work(call: AuthenticatedCall) -> Reply:
    """Claim the next basket from the worklist queue: 200 with the work item, 204 if none waits."""
    item = work.next_work(call.caller)
    return Reply(item) if item is not None else Reply(None, 204)


@endpoint(bp, "/worklist/{bid}", ["GET"], name="recovery_work_item")
def work_item(call: AuthenticatedCall, bid: str) -> Reply:
    return Reply(work.work_item(bid, call.caller))


@endpoint(bp, "/worklist/{bid}/claim", ["POST"], name="recovery_claim")
def claim(call: AuthenticatedCall, bid: str) -> Reply:
    return Reply(work.claim(bid, call.caller))
