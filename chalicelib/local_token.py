"""The local runtime's own routes, registered only in local mode (app.py):

- POST /local/token: the stand-in for Cognito.
- GET /local/outbox: the SMS, emails and social posts sent, newest first (infra/local/outbox.py);
  `?to=` one recipient, `?kind=sms|email|social`, `offset`/`limit` as every TMF list.
- GET /local/alarms: the alarms of infra/resources.py ALARMS the runtime evaluates, raised first
  (infra/local/alarms.py); `?state=ALARM` only the raised ones.

Unauthenticated, like /local/token (which signs any claims asked for): they exist only on the
developer's loopback runtime, never in the deployed API.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import auth, tmf
from chalicelib.errors import bad_request
from chalicelib.http import Reply, endpoint, listing

bp = Blueprint(__name__)


@endpoint(bp, "/local/token", ["POST"], authenticated=False)
def local_token(call) -> Reply:
    # A developer convenience: plain `curl -d '{...}'` (form content type) is read as JSON too.
    token = auth.issue_local_token(call.json(any_content_type=True))
    return Reply({"access_token": token, "token_type": "Bearer", "expires_in": auth.LOCAL_TOKEN_SECONDS})


@endpoint(bp, "/local/outbox", ["GET"], authenticated=False)
def local_outbox(call) -> Reply:
    from infra.local import outbox   # local mode only: moto runs in this process

    kind = call.query.get("kind") or None
    if kind is not None and kind not in outbox.KINDS:
        raise bad_request(f"kind must be one of {', '.join(outbox.KINDS)}, got {kind[:40]!r}")
    q = tmf.list_query(call.query, tmf.attributes("outbox message"), route_params=("to", "kind"))
    page, total = tmf.page(outbox.outbox(call.query.get("to"), kind), q.offset, q.limit)
    return listing(page, total)


@endpoint(bp, "/local/alarms", ["GET"], authenticated=False)
def local_alarms(call) -> Reply:
    from infra.local import alarms   # local mode only: evaluated in this process

    raised = call.query.get("state")
    if raised is not None and raised not in (alarms.ALARM, alarms.OK):
        raise bad_request(f"state must be {alarms.ALARM} or {alarms.OK}, got {raised[:40]!r}")
    report = [a for a in alarms.report() if raised is None or a["state"] == raised]
    return listing(report, len(report))
