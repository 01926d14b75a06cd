"""POST /local/token: the local runtime's stand-in for Cognito. Registered only in local mode."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import auth
from chalicelib.http import Reply, endpoint

bp = Blueprint(__name__)


@endpoint(bp, "/local/token", ["POST"], authenticated=False)
def local_token(call) -> Reply:
    # A developer convenience: plain `curl -d '{...}'` (form content type) is read as JSON too.
    token = auth.issue_local_token(call.json(any_content_type=True))
    return Reply({"access_token": token, "token_type": "Bearer", "expires_in": auth.LOCAL_TOKEN_SECONDS})
