"""The one logger (chalicelib.observability.logger) cannot be broken by what it is given, and
binds request / invocation keys per thread (issue 11 point 1, issue 10 point 10).

- every `extra` key a LogRecord reserves is renamed, for every level: `extra={"created": ...}` made
  the standard library raise KeyError and crashed the basket-events batch on every approval;
- every logging call with `extra=` in the code base goes through that logger (checked statically),
  so no call path can reach the standard library's KeyError;
- a handler's Lambda context stays on its own thread's lines: request lines used to carry the
  name of whichever function had run last in the process.
"""
from __future__ import annotations

import ast
import io
import json
import logging
import threading

import pytest

from chalicelib import observability
from chalicelib.observability import logger
from tests.conftest import ROOT

# What Logger.makeRecord refuses in `extra` (worked out here, not taken from the code under test).
RESERVED_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

LEVELS = ("debug", "info", "warning", "error", "critical", "exception")
LOG_METHODS = set(LEVELS) | {"log", "warn", "fatal"}


@pytest.fixture
def lines(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", out)
    old = logger._logger.level
    logger._logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    logger._logger.setLevel(old)
    logger.thread_safe_clear_keys()


def test_every_reserved_record_key_is_renamed():
    extra = {key: f"value of {key}" for key in RESERVED_RECORD_KEYS}
    assert observability.RESERVED_RECORD_KEYS == RESERVED_RECORD_KEYS
    renamed = observability.safe_extra({**extra, "created_": "already taken", "basketId": "b-1"})
    assert not RESERVED_RECORD_KEYS & set(renamed)
    assert renamed["created_"] == "already taken" and renamed["created__"] == "value of created"
    assert renamed["basketId"] == "b-1"
    assert len(renamed) == len(extra) + 2        # nothing lost


@pytest.mark.parametrize("level", LEVELS)
def test_the_logger_takes_every_reserved_key_at_every_level(level, lines):
    extra = {key: f"v-{key}" for key in RESERVED_RECORD_KEYS}
    try:
        raise ValueError("for exception()")
    except ValueError:
        getattr(logger, level)("approved basket ordered", extra=extra, orderId="o-1")
    (line,) = lines()
    assert line["message"] == "approved basket ordered" and line["orderId"] == "o-1"
    assert line["created_"] == "v-created" and line["msg_"] == "v-msg" and line["name_"] == "v-name"
    assert line["location"].startswith("test_the_logger_takes_every_reserved_key_at_every_level:")


def test_the_approval_log_line_no_longer_crashes(lines):
    """The very call in chalicelib/recovery/sessions.py, through the standard library's checks."""
    logger.info("approved basket ordered", extra={"basketId": "b", "orderId": "o", "created": True})
    assert lines()[0]["created_"] is True


def _logging_calls_with_extra():
    for folder in ("chalicelib", "functions", "infra", "app.py"):
        for path in sorted((ROOT / folder).rglob("*.py")) if folder != "app.py" else [ROOT / folder]:
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
                        and any(k.arg == "extra" for k in node.keywords)):
                    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                    yield path.relative_to(ROOT), node, name, tree


def _module_logger_names(tree: ast.Module) -> set[str]:
    """Names bound to chalicelib.observability.logger in a module (`from ... import logger`,
    and `x = logger.warning if ... else logger.info` style aliases)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.observability":
            names |= {a.asname or a.name for a in node.names if a.name == "logger"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            attrs = [n for n in ast.walk(node.value) if isinstance(n, ast.Attribute)]
            if attrs and all(isinstance(a.value, ast.Name) and a.value.id in names and a.attr in LOG_METHODS
                             for a in attrs):
                names.add(node.targets[0].id)
    return names


def test_every_logging_call_with_extra_goes_through_the_safe_logger():
    calls = list(_logging_calls_with_extra())
    assert len(calls) > 30, "the scan found the code's logging calls"
    unsafe = []
    for path, node, name, tree in calls:
        ours = _module_logger_names(tree)
        func = node.func
        through_ours = ((isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                         and func.value.id in ours and name in LOG_METHODS)
                        or (isinstance(func, ast.Name) and func.id in ours))
        if through_ours:
            continue
        if name not in LOG_METHODS:
            continue                                   # not a logging call (e.g. pydantic's extra=)
        extra = next(k.value for k in node.keywords if k.arg == "extra")
        literal_keys = {k.value for k in getattr(extra, "keys", []) if isinstance(k, ast.Constant)}
        if not isinstance(extra, ast.Dict) or literal_keys & RESERVED_RECORD_KEYS:
            unsafe.append(f"{path}:{node.lineno}")
    assert unsafe == [], f"logging calls with extra= outside chalicelib.observability.logger: {unsafe}"


def test_literal_extra_keys_in_the_code_base_are_not_reserved():
    """Renaming keeps a line, but a reserved name in the code is still a mistake to fix."""
    found = []
    for path, node, _name, _ in _logging_calls_with_extra():
        extra = next(k.value for k in node.keywords if k.arg == "extra")
        if isinstance(extra, ast.Dict):
            keys = {k.value for k in extra.keys if isinstance(k, ast.Constant)}
            found += [f"{path}:{node.lineno} {k}" for k in keys & RESERVED_RECORD_KEYS]
    assert found == []


class Context:
    def __init__(self, name):
        self.function_name, self.memory_limit_in_mb = name, 512
        self.invoked_function_arn, self.aws_request_id = f"arn:aws:lambda:eu-west-1:1:function:{name}", f"r-{name}"


def test_a_handlers_function_name_stays_on_its_own_lines(lines):
    """A stream handler ran (in another thread, and before in this one): a request's lines name
    the API function, or none, never the stream handler."""
    inside = threading.Event()
    release = threading.Event()

    @logger.inject_lambda_context
    def stream_handler(event, context):
        logger.info("stream record")
        inside.set()
        release.wait(10)
        logger.info("stream record done")

    other = threading.Thread(target=stream_handler, args=({}, Context("basket-events")))
    other.start()
    assert inside.wait(10)
    logger.bind_function(Context("api"))
    observability.bind_request("corr-1", "jrn-1")
    logger.info("request line")
    release.set()
    other.join(10)
    stream_handler({}, Context("order-events"))    # in this thread, then the next request
    logger.bind_function(None)
    observability.bind_request("corr-2")
    logger.info("next request line")

    by_message = {}
    for line in lines():
        by_message.setdefault(line["message"], []).append(line)
    assert by_message["request line"][0]["function_name"] == "api"
    assert by_message["request line"][0]["correlation_id"] == "corr-1"
    assert by_message["stream record done"][0]["function_name"] == "basket-events"
    assert "correlation_id" not in by_message["stream record done"][0]
    assert [line["function_name"] for line in by_message["stream record"]] == ["basket-events", "order-events"]
    after = by_message["next request line"][0]
    assert "function_name" not in after and after["correlation_id"] == "corr-2" and "journey_key" not in after


def test_http_requests_log_their_own_function(client, token, lines):
    """Through the app: a request after a handler invocation carries the API's context."""
    @logger.inject_lambda_context
    def handler(event, context):
        logger.info("handler ran")

    handler({}, Context("notify-send"))
    logger.append_keys(function_name="notify-send")   # as if bound for the process, the old way
    headers = {"Authorization": f"Bearer {token('catalog-admin', sub='maria')}", "Content-Type": "application/json"}
    r = client.http.post("/tmf-api/productCatalogManagement/v4/productSpecification", headers=headers,
                         body=json.dumps({"name": "x", "lifecycleStatus": 7}))
    assert r.status_code == 400
    logger.info("still in the request's thread")
    request_lines = [line for line in lines() if line["message"] == "still in the request's thread"]
    assert request_lines and request_lines[0].get("function_name") != "notify-send"
