"""Calling a Function spec's handler the way Lambda does, and routing moto's Lambda Invoke to it.

moto cannot run Lambda code without Docker: with {"lambda": {"use_docker": False}} its Invoke
(`moto.awslambda_simple.models.LambdaSimpleBackend.invoke`) just echoes the payload. The local
runtime and the test fixtures replace that method (see `install`) so that Step Functions
`lambda:invoke` tasks, and any Invoke call, run our handlers in this process.

`install` also makes moto's LambdaFunction.docker_client raise AttributeError instead of
DockerException: moto's GET /moto-api/data.json reads every attribute of every model and only
skips those raising TypeError/AttributeError/ValueError, so with a Lambda function and no Docker
it answered 500 (moto 5.2.5). It installs `infra.local.moto_fixes` too (removed by `uninstall`).

Powertools keeps the metrics a handler adds in one set per process (class-level dicts of
`Metrics`), flushed at the end of the handler. Lambda runs one invocation per process at a time;
here several environments (and the API's request threads) share one process, and a flush that
iterated the set while another invocation added to it raised "dictionary changed size during
iteration", failing that invocation (seen as a failed child order under load). `install` makes
the set's writers and its flush take turns (`_metric_sets_take_turns`): every metric added is
still flushed once, by whichever flush comes next.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import json
import logging
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Iterable

from chalicelib import settings
from infra import resources
from infra.local import alarms, moto_fixes
from infra.resources import Function

log = logging.getLogger("infra.local")


def physical_name(function: Function) -> str:
    return settings.resource_name(function.name)


def function_arn(function: Function) -> str:
    return f"arn:aws:lambda:{settings.region()}:{settings.account_id()}:function:{physical_name(function)}"


@dataclasses.dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout: int
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _started: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout - (time.monotonic() - self._started)) * 1000))


def context_for(function: Function) -> LambdaContext:
    return LambdaContext(function_name=physical_name(function), invoked_function_arn=function_arn(function),
                         memory_limit_in_mb=function.memory, timeout=function.timeout)


def handler_of(function: Function) -> Callable[[Any, Any], Any]:
    """Import the handler ("module.func") when first called, never earlier."""
    module, _, name = function.handler.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclasses.dataclass
class Environment:
    """A Lambda execution environment of one function: its own instance of the handler's module
    (its own globals: a Powertools BatchProcessor, caches), running one invocation at a time."""
    function: Function
    handler: Callable[[Any, Any], Any]
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


_environments: dict[str, list[Environment]] = {}   # function name -> its environments
_module_owner: dict[str, str] = {}                 # module imported once -> the function it serves
_environments_lock = threading.Lock()


def _new_environment(function: Function) -> Environment:
    """The first environment of the first function using a module gets the imported module (what
    tests see); any other gets a fresh instance of it, as a new Lambda environment would."""
    module, _, name = function.handler.rpartition(".")
    if _module_owner.setdefault(module, function.name) == function.name and not _environments.get(function.name):
        return Environment(function, handler_of(function))
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.loader is not None, module
    instance = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instance)
    return Environment(function, getattr(instance, name))


def _acquire(function: Function) -> Environment:
    with _environments_lock:
        pool = _environments.setdefault(function.name, [])
        for environment in pool:
            if environment.function == function and environment.lock.acquire(blocking=False):
                return environment
        environment = _new_environment(function)
        environment.lock.acquire()
        pool.append(environment)
        return environment


def call(function: Function, event: Any) -> Any:
    """Run the handler on `event` as Lambda would: JSON in, JSON out (the timeout is not enforced),
    in an environment of `function` that runs nothing else meanwhile (a new one if all are busy)."""
    event = json.loads(json.dumps(event))
    environment = _acquire(function)
    try:
        return json.loads(json.dumps(environment.handler(event, context_for(function))))
    except Exception:
        alarms.function_failed(function.name)   # Lambda's Errors metric (infra/local/alarms.py)
        raise
    finally:
        environment.lock.release()


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The body Lambda's Python runtime returns for an unhandled exception."""
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)}


# --- routing moto's Invoke ----------------------------------------------------------------------
_routes: dict[str, Function] = {}
_original_invoke: Callable[..., Any] | None = None
_lock = threading.Lock()


def _routed_invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                   response_headers: dict[str, str]) -> bytes | None:
    """Replaces LambdaSimpleBackend.invoke: run our handler instead of echoing the payload."""
    fn = self.get_function(function_name, qualifier)  # unknown function -> moto's 404, as in AWS
    function = _routes.get(fn.function_name)
    if function is None:
        assert _original_invoke is not None
        return _original_invoke(self, function_name, qualifier, body, headers, response_headers)
    raw = body.decode() if isinstance(body, bytes) else body
    event = json.loads(raw) if raw else {}
    if headers.get("X-Amz-Invocation-Type") == "Event":
        threading.Thread(target=_call_logged, args=(function, event), daemon=True,
                         name=f"invoke-{function.name}").start()
        return b""
    try:
        return json.dumps(call(function, event)).encode()
    except Exception as exc:  # a function error, reported as Lambda does (FunctionError header)
        log.warning("function %s failed: %s: %s", function.name, type(exc).__name__, exc, exc_info=True)
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(error_payload(exc)).encode()


def _call_logged(function: Function, event: Any) -> None:
    try:
        call(function, event)
    except Exception:
        log.exception("asynchronous invocation of %s failed", function.name)


def _no_docker(function: Any) -> Any:
    raise AttributeError("the local runtime runs Lambda functions without Docker")


def install(functions: Iterable[Function] | None = None) -> None:
    """Route Invoke of these functions (default: every FUNCTIONS entry) to their handlers.

    Only the local runtime and the test fixtures call this: it patches moto's no-Docker Lambda
    backend, process-wide. Functions not routed keep moto's echo behaviour.
    """
    global _original_invoke
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _lock:
        if _original_invoke is None:
            _original_invoke = LambdaSimpleBackend.invoke
            LambdaSimpleBackend.invoke = _routed_invoke  # type: ignore[method-assign]
            LambdaFunction.docker_client = property(_no_docker)  # type: ignore[assignment]
            moto_fixes.install()
            _metric_sets_take_turns()
        for function in resources.FUNCTIONS if functions is None else functions:
            _routes[physical_name(function)] = function


_metrics_lock = threading.RLock()
# What reads or writes Powertools' shared metric set (a flush serializes it, prints, then clears it).
METRIC_SET_METHODS = ("add_metric", "add_dimension", "add_metadata", "clear_metrics", "flush_metrics")


def _metric_sets_take_turns() -> None:
    """Once per process (a lock changes no answer): see the module's docstring."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    for name in METRIC_SET_METHODS:
        method = getattr(AmazonCloudWatchEMFProvider, name)
        if getattr(method, "_takes_turns", False):
            continue

        def in_turn(self: Any, *args: Any, __method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            with _metrics_lock:
                return __method(self, *args, **kwargs)

        in_turn._takes_turns = True  # type: ignore[attr-defined]
        setattr(AmazonCloudWatchEMFProvider, name, functools.wraps(method)(in_turn))


def uninstall() -> None:
    """Forget every route and give moto its own Invoke back."""
    global _original_invoke
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _lock:
        _routes.clear()
        with _environments_lock:
            _environments.clear()
            _module_owner.clear()
        if _original_invoke is not None:
            LambdaSimpleBackend.invoke = _original_invoke  # type: ignore[method-assign]
            del LambdaFunction.docker_client  # DockerModel's own property again
            moto_fixes.uninstall()
            _original_invoke = None
