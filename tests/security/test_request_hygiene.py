"""Strict JSON at the edge and TMF error bodies for every answer the platform gives by itself
(issue 10 point 8). Every write route (generated from the app's route table) refuses nasty bodies
with a 400 TMF error and writes nothing: JSON nested 10,000 deep (a RecursionError 500 before),
NaN/Infinity, numbers that overflow to infinity, NUL and unpaired surrogates in keys or values,
duplicate keys, bytes that are not UTF-8. Chalice's own 405/415 answers and API Gateway's
413/415/429 are TMF error bodies, in the app, in the local runtime and in the deployed template."""
from __future__ import annotations

import http.client
import json
import re

import pytest

from chalicelib import aws, settings
from chalicelib import http as omnishop_http
from chalicelib.errors import ApiError
from infra import resources
from tests.conftest import ROOT  # noqa: F401

WRITES = ("POST", "PATCH", "PUT")
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"


def write_routes():
    from app import app

    for path, methods in sorted(app.routes.items()):
        for method in methods:
            if method in WRITES:
                yield method, re.sub(r"{[^}]+}", "x-1", path)


def is_tmf_error(body, status):
    return (isinstance(body, dict) and body.get("@type") == "Error" and body.get("status") == str(status)
            and isinstance(body.get("code"), str) and isinstance(body.get("message"), str))


def stored():
    """How many items every table holds (tests may Scan)."""
    ddb, counts = aws.client("dynamodb"), {}
    for table in resources.TABLES:
        counts[table.name] = ddb.scan(TableName=settings.table_name(table.name), Select="COUNT")["Count"]
    return counts


@pytest.fixture
def agent(token):
    return {"Authorization": f"Bearer {token('agent', channel='callcenter', sub='agent-9')}",
            "Content-Type": "application/json"}


def send(client, method, path, headers, raw):
    r = getattr(client.http, method.lower())(path, headers=headers, body=raw)
    return r.status_code, (json.loads(r.body) if r.body else None), r.headers


DEEP = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
NASTY = {
    "deep object": (DEEP, "tooDeep"),
    "deep array": (b'{"a":' + b"[" * 10_000 + b"]" * 10_000 + b"}", "tooDeep"),
    "33 deep": (b'{"a":' * 33 + b"1" + b"}" * 33, "tooDeep"),
    "NaN": (b'{"name": NaN}', "malformedJson"),
    "Infinity": (b'{"name": Infinity}', "malformedJson"),
    "-Infinity": (b'{"name": -Infinity}', "malformedJson"),
    "overflowing number": (b'{"name": 1e400}', "malformedJson"),
    "NUL in a value": (b'{"name": "a\\u0000b"}', "invalidText"),
    "NUL in a key": (b'{"na\\u0000me": "a"}', "invalidText"),
    "lone surrogate in a value": (b'{"name": "\\ud800"}', "invalidText"),
    "lone low surrogate in a key": (b'{"\\udc00": "a"}', "invalidText"),
    "lone surrogate in an array": (b'{"a": [["x", "\\udfff"]]}', "invalidText"),
    "duplicate key": (b'{"name": "a", "name": "b"}', "duplicateKey"),
    "not UTF-8": (b'{"name": "\xff\xfe"}', "malformedJson"),
    "a string in place of the object": (b'"just a string"', "invalidInput"),
}


@pytest.mark.parametrize("kind", sorted(NASTY))
def test_every_write_route_refuses_nasty_bodies_and_writes_nothing(client, agent, kind):
    raw, code = NASTY[kind]
    routes = list(write_routes())
    assert len(routes) > 30, routes   # the route table, not a hand-picked list
    before = stored()
    wrong = []
    for method, path in routes:
        for ctype in ("application/json", "application/merge-patch+json"):
            status, body, _ = send(client, method, path, {**agent, "Content-Type": ctype}, raw)
            if status != 400 or not is_tmf_error(body, 400) or body["code"] != code:
                wrong.append((method, path, ctype, status, body))
    assert wrong == [], wrong[:5]
    assert stored() == before


def test_32_deep_is_accepted_by_the_parser():
    ok = b'{"a":' * 31 + b"[1]" + b"}" * 31
    assert omnishop_http.json_depth(ok) == 32
    assert omnishop_http.parse_json(ok)["a"]["a"]
    assert omnishop_http.json_depth(b'{"s": "[[[[[[[[[[{{{{{{{{{\\"[[["}') == 1   # brackets in strings
    assert omnishop_http.json_depth(b'["\\\\"' + b"[" * 50) == 51              # an escaped backslash
    assert omnishop_http.json_depth(b'["a\\\\\\"[", [[1]]]') == 3            # \\ then \"
    assert omnishop_http.json_depth(b"]]]") == 0 and omnishop_http.json_depth(b"") == 0
    # an unterminated string: json.loads stops there, so may the scan
    assert omnishop_http.json_depth(b'["' + b"[" * 10_000) == 1


def _depth(value):
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_the_depth_scan_agrees_with_the_parsed_structure():
    """Random documents full of brackets, quotes and backslashes inside strings (fixed seed)."""
    import random

    rng = random.Random(20261130)
    alphabet = '[]{}"\\:,ab \u00e9\n'

    def text():
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))

    def value(level):
        roll = rng.random()
        if level > 6 or roll < 0.3:
            return rng.choice([text(), 1, None, True, 2.5])
        if roll < 0.65:
            return [value(level + 1) for _ in range(rng.randint(0, 3))]
        return {text(): value(level + 1) for _ in range(rng.randint(0, 3))}

    for _ in range(2000):
        doc = value(0)
        raw = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        assert omnishop_http.json_depth(raw) == _depth(doc), raw


def test_the_depth_scan_never_recurses_and_is_linear():
    """Worst cases for the scan (1 MB, four times the body limit): quotes after backslashes used
    to make a naive string match quadratic."""
    import sys
    import time

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(60)
    try:
        for raw in (b"[" * 1_000_000, b'"\\"' * 300_000, b"[]" * 500_000, b'["' + b"\\\\" * 400_000,
                    b'"' + b"\\" * 1_000_000, b'{"k":"' + b"v" * 1_000_000 + b'"}'):
            started = time.process_time()
            omnishop_http.json_depth(raw)
            assert time.process_time() - started < 1, raw[:20]
    finally:
        sys.setrecursionlimit(limit)


def test_a_response_can_never_serialize_nan():
    with pytest.raises(ValueError):
        omnishop_http._response(omnishop_http.Reply({"price": float("nan")}))
    with pytest.raises(ValueError):
        omnishop_http.error_response(ApiError(400, "Bad Request", "x", body={"n": float("inf")}))


def test_nothing_with_nan_is_stored():
    from chalicelib.db import JsonBody

    with pytest.raises(ValueError):
        JsonBody().serialize({"price": float("nan")})


@pytest.mark.parametrize("ctype", ["application/vnd.weird+json", "image/png", "text/plain", "application/xml"])
def test_unsupported_media_types_are_tmf_415(client, agent, ctype):
    """Chalice answered types a route did not list with {"Code": "UnsupportedMediaType"}."""
    status, body, _ = send(client, "POST", CUSTOMERS, {**agent, "Content-Type": ctype}, b"name=x")
    assert status == 415 and is_tmf_error(body, 415) and body["code"] == "unsupportedMediaType", body


def test_chalice_405_is_a_tmf_error(client, agent):
    """Deployed, API Gateway never lets an undefined method reach the app (it is the TMF 404, as
    the local runtime answers); the app's own answer is a TMF body all the same."""
    status, body, headers = send(client, "PUT", CUSTOMERS, agent, b"{}")
    assert status == 405 and is_tmf_error(body, 405) and body["code"] == "methodNotAllowed", body
    assert "GET" in headers.get("Allow", "")


def test_the_app_answers_413_itself(client, agent):
    raw = json.dumps({"name": "x" * (settings.max_body_bytes() + 1)}).encode()
    status, body, _ = send(client, "POST", CUSTOMERS, agent, raw)
    assert status == 413 and is_tmf_error(body, 413)


def test_link_refusals_carry_no_personal_data(client, monkeypatch):
    """Two approve clicks at once: the loser's 412 used to be the TMF 412 with the whole basket
    (customer id, history, agent ids)."""
    from chalicelib.errors import precondition_failed
    from chalicelib.recovery import link_actions

    basket = {"id": "cart-9", "relatedParty": [{"id": "cust-andrea", "role": "customer"}],
              "note": [{"text": "agent-42 called Andrea"}], "@type": "ShoppingCart"}

    def lost_the_race(token, action):
        raise precondition_failed("basket cart-9 is at version 7, not 6", basket, 7)   # as db.change raises it

    monkeypatch.setattr(link_actions, "link_action", lost_the_race)
    r = client.http.post("/recovery/link/some.token/approve", headers={"Content-Type": "application/json"})
    body = json.loads(r.body)
    assert r.status_code == 412 and is_tmf_error(body, 412), body
    assert "cust-andrea" not in r.body.decode() and "agent-42" not in r.body.decode()
    assert "ETag" not in r.headers


def test_api_gateway_answers_413_415_429_in_the_tmf_shape():
    by_status = {}
    for spec in resources.GATEWAY_RESPONSES:
        by_status.setdefault(spec.status, []).append(spec)
        body = spec.body()
        assert {"code", "reason", "message", "@type"} <= set(body)
        filled = json.loads(spec.template().replace("$context.error.messageString", '"x"')
                            .replace("$context.error.responseType", "T").replace("$context.requestId", "r"))
        assert filled["@type"] == "Error"
    assert {s.type for s in by_status[413]} == {"REQUEST_TOO_LARGE"}
    assert {s.type for s in by_status[415]} == {"UNSUPPORTED_MEDIA_TYPE"}
    assert {s.type for s in by_status[429]} == {"THROTTLED", "QUOTA_EXCEEDED"}
    for status in (413, 415, 429):
        assert all(s.body()["status"] == str(status) for s in by_status[status])


# --- the local runtime (the same answers as deployed) -------------------------------------------
def test_local_runtime_refuses_deep_and_non_json_bodies(local_runtime):
    token = local_runtime.token("agent", channel="callcenter", sub="agent-9")
    connection = http.client.HTTPConnection("127.0.0.1", local_runtime.port, timeout=60)
    try:
        for raw, ctype, status, code in ((DEEP, "application/json", 400, "tooDeep"),
                                         (b'{"name": NaN}', "application/json", 400, "malformedJson"),
                                         (b"<a/>", "application/vnd.weird", 415, "unsupportedMediaType")):
            connection.request("POST", CUSTOMERS, body=raw, headers={"Authorization": f"Bearer {token}",
                                                                     "Content-Type": ctype})
            answer = connection.getresponse()
            body = json.loads(answer.read())
            assert answer.status == status and is_tmf_error(body, status) and body["code"] == code, body
    finally:
        connection.close()


def test_local_runtime_answers_a_body_over_the_gateway_limit_with_the_deployed_413(local_runtime):
    connection = http.client.HTTPConnection("127.0.0.1", local_runtime.port, timeout=60)
    try:
        connection.putrequest("POST", CUSTOMERS)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(resources.API_GATEWAY_MAX_BODY_BYTES + 1))
        connection.endheaders()           # the body is never sent: the answer comes without it
        answer = connection.getresponse()
        body = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 413 and body["code"] == "payloadTooLarge" and body["@type"] == "Error", body
    assert local_runtime.health() == 200
