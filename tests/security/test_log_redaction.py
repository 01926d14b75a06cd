"""No credential in any log line (issue 10 point 9): the signed link is the key to a customer's
basket, so `/recovery/link/<token>` must not be written in full, nor bearer tokens, JWTs,
Authorization headers or `token=` query parameters; not by the local server's access log, not
by the Powertools logger (exceptions included), not by the standard-library handlers."""
from __future__ import annotations

import io
import json
import logging
import time
import urllib.request

import pytest

from chalicelib import observability
from chalicelib.observability import logger, redact
from tests.conftest import ROOT  # noqa: F401

LINK_TOKEN = "eyJwIjoiYmFza2V0LmFwcHJvdmUiLCJzIjoiY2FydC05In0.Zm9yZ2VkLW1hYy0xMjM0NTY3ODkw"
SECRET_QUERY = "s3cr3t-query-token-42"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYXJpYSJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize("line", [
    f"GET /recovery/link/{LINK_TOKEN} HTTP/1.1",
    f"POST /recovery/link/{LINK_TOKEN}/approve HTTP/1.1",
    f"https://portal.example/l/{LINK_TOKEN}",
    f'{{"path": "/recovery/link/{LINK_TOKEN}/accept"}}',
    f"Authorization: Bearer {JWT}",
    f'{{"headers": {{"authorization": "Bearer {JWT}"}}}}',
    f"id token {JWT} refused",
    f"GET /x?a=1&token={SECRET_QUERY}&b=2",
    f"GET /x?access_token={SECRET_QUERY}",
])
def test_redact_removes_every_credential(line):
    out = redact(line)
    assert LINK_TOKEN not in out and JWT not in out and SECRET_QUERY not in out, out
    assert LINK_TOKEN[:20] not in out and JWT[:20] not in out
    assert redact(out) == out


def test_redact_keeps_ordinary_paths():
    for line in ("GET /tmf-api/customerManagement/v4/customer/cust-andrea HTTP/1.1",
                 "POST /recovery/worklist/cart-9/claim", "5 tokens issued"):
        assert redact(line) == line


@pytest.fixture
def powertools_lines(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", out)
    return out


def test_the_powertools_logger_redacts_fields_and_exceptions(powertools_lines):
    logger.info("calling back", extra={"url": f"https://x.example/cb?token={SECRET_QUERY}",
                                       "headers": {"Authorization": f"Bearer {JWT}"}})
    try:
        raise RuntimeError(f"could not open /recovery/link/{LINK_TOKEN}")
    except RuntimeError:
        logger.exception("failed")
    text = powertools_lines.getvalue()
    assert "calling back" in text and "RuntimeError" in text
    for secret in (LINK_TOKEN, JWT, SECRET_QUERY):
        assert secret not in text


def test_standard_library_handlers_are_redacted():
    out = io.StringIO()
    target = logging.getLogger("tests.redaction")
    handler = logging.StreamHandler(out)
    target.addHandler(handler)
    target.propagate = False
    try:
        observability.redact_handlers(target)
        assert sum(isinstance(f, observability.RedactingFilter) for f in handler.filters) == 1
        observability.redact_handlers(target)      # once only
        assert sum(isinstance(f, observability.RedactingFilter) for f in handler.filters) == 1
        target.warning("delivery to %s failed", f"http://127.0.0.1/recovery/link/{LINK_TOKEN}")
        try:
            raise ValueError(f"Bearer {JWT}")
        except ValueError:
            target.exception("boom")
    finally:
        target.removeHandler(handler)
    text = out.getvalue()
    assert "delivery to" in text and "ValueError" in text
    assert LINK_TOKEN not in text and JWT not in text


def test_a_fault_on_a_link_route_logs_no_token(client, powertools_lines, monkeypatch):
    from chalicelib.recovery import link_actions

    def broken(token):
        raise RuntimeError(f"unexpected state for link {token} at /recovery/link/{token}")

    monkeypatch.setattr(link_actions, "link_view", broken)
    r = client.http.get(f"/recovery/link/{LINK_TOKEN}")
    assert r.status_code == 500 and LINK_TOKEN not in r.body.decode()
    text = powertools_lines.getvalue()
    assert "unhandled error" in text and "/recovery/link/<token>" in text
    assert LINK_TOKEN not in text


def test_the_local_access_log_carries_no_link_token(local_runtime):
    """The access log line of every request to a link route, written by the local API server."""
    paths = [f"/recovery/link/{LINK_TOKEN}", f"/recovery/link/{LINK_TOKEN}/approve",
             f"/recovery/link/{LINK_TOKEN}/accept?token={SECRET_QUERY}"]
    for path in paths:
        method = "GET" if path.endswith(LINK_TOKEN) else "POST"
        status, _, body = local_runtime.request(method, path, {} if method == "POST" else None,
                                                {"Authorization": f"Bearer {JWT}"})
        assert 400 <= status < 500 and body["@type"] == "Error"
    deadline = time.monotonic() + 60
    while local_runtime.output().count("/recovery/link/<token>") < len(paths):
        assert time.monotonic() < deadline, local_runtime.output()[-3000:]
        time.sleep(0.1)
    text = local_runtime.output()
    for secret in (LINK_TOKEN, SECRET_QUERY, JWT):
        assert secret not in text
    with urllib.request.urlopen(f"{local_runtime.url}/health", timeout=10) as answer:
        assert json.loads(answer.read()) is not None
