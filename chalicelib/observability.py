"""Structured JSON logs (Powertools Logger) with a correlation id and journey key, and metrics.

Log lines never carry a phone number, an email address or a credential in clear: the formatter
masks them in the serialized line, whatever field they hide in (`redact`). Credentials are link
tokens (`/recovery/link/<token>`, the portal's `/l/<token>`: the signed link is the key), bearer
tokens and JWTs, Authorization header values and `token=` query parameters.

`logger` is the one logger, and what it is given cannot break or leak:
- `extra` keys that a `logging.LogRecord` reserves (`created`, `name`, `msg`, ...) would make the
  standard library raise KeyError in the middle of a handler; they are renamed `<key>_`
  (`safe_extra`), for every call, whatever the caller wrote.
- Keys bound to a request or an invocation (correlation id, journey key, the Lambda context from
  `inject_lambda_context`, anything `append_keys` adds) are kept per thread and cleared when the
  next request or invocation starts. Bound once for the whole process, a stream handler's
  function name ended up on the API's request lines (several functions share one process
  locally, and a warm Lambda runs invocations one after another).

`traced` runs a Lambda handler (and, as Chalice middleware, the API) in Powertools' Tracer: one
`## <handler>` subsegment per invocation, annotated ColdStart and Service, AWS calls (botocore)
and outbound HTTP (http.client) as subsegments of it. The Tracer is made on the first invocation,
not at import: making one imports aws_xray_sdk and patches botocore (always, even when tracing is
off), which a cold start would otherwise pay in every entry point's import (issue 16's figure).
"""
from __future__ import annotations

import functools
import logging
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "omnishop"
# What X-Ray records as subsegments: AWS calls (boto3 and PynamoDB go through botocore) and the
# HTTP calls to fulfilment stacks and hub subscribers (chalicelib/outbound.py uses http.client).
TRACED_MODULES = ("botocore", "httplib")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Phone numbers are held in E.164 ("+" and 8 to 15 digits); written with spaces or dashes too.
_PHONE = re.compile(r"\+\d(?:[ -]?\d){7,14}")
_SECRETS = (
    # Authorization / token fields and headers, JSON or not (the whole value: "Bearer <token>" too)
    (re.compile(r"(?i)(\"?(?:authorization|x-api-key|(?:access_|id_|refresh_)?token)\"?\s*[:=]\s*\"?)"
                r"(?:(?:bearer|basic)\s+)?[^\"\s,;&}]+"), r"\1<token>"),
    # a signed link's token in a path: /recovery/link/<token>[/approve], the portal's /l/<token>
    (re.compile(r"(/(?:link|l)/)[^/\s?#\"'<>\\]+"), r"\1<token>"),
    # bearer material, wherever else it is written
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1<token>"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"), "<jwt>"),
    # token=... query parameters (access_token=, id_token=, ...)
    (re.compile(r"(?i)([?&][a-z_]*token=)[^&\s\"'#]+"), r"\1<token>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:  # type: ignore[override]
        return redact(super().serialize(log))


class RedactingFilter(logging.Filter):
    """For standard-library handlers (the local runtime's stderr): the record's message redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_handlers(target: logging.Logger | None = None) -> None:
    """Redact every line the handlers of `target` (default: the root logger) write."""
    for handler in (target or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


# What a LogRecord holds itself: an `extra` key among these makes Logger.makeRecord raise KeyError.
RESERVED_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_STANDARD_ARGS = ("exc_info", "stack_info")


def safe_extra(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """`extra` with every key a LogRecord reserves renamed `<key>_` (`created` -> `created_`)."""
    out: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        name = str(key)
        while name in RESERVED_RECORD_KEYS or (name != key and name in (extra or {})):
            name += "_"
        out[name] = value
    return out


def _level(name: str) -> Callable[..., None]:
    def emit(self: "OmnishopLogger", msg: object, *args: object, stacklevel: int = 2,
             extra: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        standard = {k: kwargs.pop(k) for k in _STANDARD_ARGS if k in kwargs}
        # +1: this method, so that `location` names the caller's line
        getattr(Logger, name)(self, msg, *args, stacklevel=stacklevel + 1,
                              extra=safe_extra({**(extra or {}), **kwargs}), **standard)

    emit.__name__ = name
    return emit


class OmnishopLogger(Logger):
    """Powertools' Logger, made safe for every call (see the module docstring)."""

    debug = _level("debug")
    info = _level("info")
    warning = _level("warning")
    error = _level("error")
    critical = _level("critical")
    exception = _level("exception")

    # --- keys: per thread, cleared per request / invocation -------------------------------------
    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        gone = set(keys)
        current = self.thread_safe_get_current_keys()
        self.thread_safe_clear_keys()   # a new dict: never edit the context variable's shared default
        self.thread_safe_append_keys(**{k: v for k, v in current.items() if k not in gone})

    def set_correlation_id(self, value: str | None) -> None:
        self.append_keys(correlation_id=value)

    def get_correlation_id(self) -> str | None:
        return self.thread_safe_get_current_keys().get("correlation_id")

    def bind_function(self, context: Any) -> None:
        """Start an invocation's keys afresh: the function's name, ARN, memory and request id."""
        from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
        from aws_lambda_powertools.logging.logger import _is_cold_start

        self.thread_safe_clear_keys()
        if context is not None:
            self.append_keys(cold_start=_is_cold_start(), **build_lambda_context_model(context).__dict__)

    def inject_lambda_context(self, lambda_handler: Callable | None = None, **options: Any) -> Any:  # type: ignore[override]
        """`@logger.inject_lambda_context`: the invocation's keys for its own thread only."""
        if lambda_handler is None or options:
            raise TypeError("use @logger.inject_lambda_context without arguments")

        @functools.wraps(lambda_handler)
        def decorate(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            self.bind_function(context)
            try:
                return lambda_handler(event, context, *args, **kwargs)
            finally:
                self.thread_safe_clear_keys()

        return decorate


NAMESPACE = "Omnishop"
logger = OmnishopLogger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# The business view's counts (the dashboard's business row, infra/stack.py), each with the one
# dimension it is broken down by besides service, if any. Emitted by the stream handlers once a
# record's work is done (a record retried after a failure counted nothing before it), once per
# record (`count_once`: a record delivered again counts nothing again); SmsSent by the one write
# that completes a message (no stream record or idempotency mark is needed to count it once).
BUSINESS_METRICS: dict[str, str | None] = {
    "BasketsCreated": None,         # basket stream: a new basket
    "BasketsRecovered": None,       # basket stream: ordered after the abandoned-basket process engaged
    "OrdersByState": "state",       # order stream: a customer's order entering a state
    "ChildOrders": "stack",         # order stream: a child order made for a fulfilment stack
    "SmsSent": None,                # notify: an SMS message completed (handed to SNS), counted by
                                    # the write that completes it (chalicelib/notify/service.py)
}


def count(name: str, value: float = 1, dimension: str | None = None) -> None:
    """One business count, written now (its own EMF line: it needs no @metrics.log_metrics, and
    a dimension value of its own, e.g. the order's state): `BUSINESS_METRICS[name]`=`dimension`."""
    key = BUSINESS_METRICS[name]
    if (key is None) != (dimension is None):
        raise ValueError(f"{name} is counted {'by ' + key if key else 'without a dimension'}")
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE}) as metric:
        if key and dimension is not None:
            metric.add_dimension(name=key, value=dimension)


COUNTED_SCOPE = "business-count"   # the idempotency table's key prefix of a counted record


def count_once(record_id: str, counts: Sequence[tuple[str, str | None]]) -> bool:
    """The business counts of one delivered record, written once per `record_id` (a stream
    record's eventID): AWS delivers a record again after a later record of its batch failed, a
    bisected batch or a timeout, and its work is idempotent, so its counts must be too.

    One call per record that counts anything: a PutItem on the idempotency table keyed on the
    record id, conditional on the key being new (expiring with the table's TTL). Refused, the
    record was counted before: nothing is written again. The mark is written before the counts,
    so a process dying between the two loses that record's counts (never counts it twice): a
    metric may be one short, a customer is never billed or alarmed twice. True when it counted
    now."""
    if not counts:
        return False
    import time

    from chalicelib import aws, settings

    client = aws.client("dynamodb")
    try:
        client.put_item(TableName=settings.table_name("idempotency"),
                        Item={"id": {"S": f"{COUNTED_SCOPE}#{record_id}"},
                              "expiration": {"N": str(int(time.time()) + settings.idempotency_ttl_seconds())}},
                        ConditionExpression="attribute_not_exists(id)")
    except client.exceptions.ConditionalCheckFailedException:
        return False
    for name, dimension in counts:
        count(name, dimension=dimension)
    return True


def bind_request(correlation_id: str | None, journey_key: str | None = None) -> None:
    """Attach the correlation id and journey key to every following log line of this request
    (in this thread; chalicelib.http starts each request with `logger.bind_function`)."""
    logger.set_correlation_id(correlation_id)
    logger.remove_keys(["journey_key"])
    if journey_key:
        logger.append_keys(journey_key=journey_key)


_tracer: Tracer | None = None


def tracer() -> Tracer:
    """Powertools' Tracer, made on first use (see the module docstring). Outside Lambda (tests,
    the local runtime) Powertools disables it: no segment, nothing sent."""
    global _tracer
    if _tracer is None:
        _tracer = Tracer(service=SERVICE, patch_modules=list(TRACED_MODULES))
    return _tracer


def traced(handler: Callable | None = None, *, name: str | None = None) -> Any:
    """`@traced` on a Lambda handler (outermost): each invocation in Tracer.capture_lambda_handler,
    whose `## <name>` subsegment is annotated ColdStart (the first invocation of this process) and
    Service. Responses are not recorded (they may hold customer data); errors are, as X-Ray does.
    `traced(name="api")` is the decorator for chalice.ConvertToMiddleware (app.py)."""
    if handler is None:
        return functools.partial(traced, name=name)

    @functools.wraps(handler)
    def run(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        target = handler
        if name:   # the subsegment is named after the function it is given
            target = functools.wraps(handler)(lambda e, c, *a, **k: handler(e, c, *a, **k))
            target.__name__ = name
        return tracer().capture_lambda_handler(target, capture_response=False)(event, context, *args, **kwargs)

    run.traced = True  # type: ignore[attr-defined]   # tests/infra/test_tracing.py looks for it
    return run
