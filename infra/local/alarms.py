"""The alarms of infra/resources.py ALARMS, evaluated by the local runtime as CloudWatch evaluates
the ones the CDK stack makes of the same list (infra/stack.py `_alarms`):

- QueueAlarm: visible messages in the dead-letter queue > threshold (moto's SQS); a stream
  consumer's on-failure queue exists only in AWS: locally it is the records the pump skipped
  after their retries (`Pump.failures`), which is what Lambda would have sent there.
- ExecutionsFailedAlarm: executions of the state machine that ended in its status (FAILED or
  TIMED_OUT) within `period` (moto).
- MetricAlarm: the Sum over `period` of the metric our code emitted (Powertools EMF, as
  CloudWatch receives it: `install()` records every metric set the code flushes in this process).
- ApiAlarm: the local API server records each answer's status and milliseconds (`record`), as
  API Gateway's 5XXError and Latency metrics: the share of 5xx answers, the p99 latency.
- FunctionAlarm: Errors are the handler calls that raised (infra/local/lambdas.py records them);
  the local runtime never throttles (no concurrency limit) and keeps no stream iterator position,
  so Throttles is always 0 and IteratorAge is not measured (both say so in their reason).
- ServiceAlarm (SNS SMS, SES reputation): not measured locally (no SMS or email goes through
  AWS; infra/local/outbox.py keeps them), said so in the reason.

`Alarms.start()` evaluates every `tick` (5) seconds and logs each alarm that goes to ALARM (warning)
or back to OK; GET /local/alarms evaluates them at once (`report()`), raised ones first.
"""
from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from typing import Any, Callable, Iterable

from chalicelib import aws, settings
from infra import resources
from infra.resources import (ApiAlarm, ExecutionsFailedAlarm, FunctionAlarm, MetricAlarm, QueueAlarm,
                             ServiceAlarm, breaching)

log = logging.getLogger("infra.local")

OK, ALARM = "OK", "ALARM"

# --- the metrics the code emits (Powertools EMF), kept as CloudWatch would ------------------------
_metrics_lock = threading.Lock()
_metrics: collections.deque[tuple[float, str, float]] = collections.deque(maxlen=100_000)
_original_serialize: Callable[..., Any] | None = None


def _recording_serialize(self: Any, *args: Any, **kwargs: Any) -> Any:
    assert _original_serialize is not None
    emf = _original_serialize(self, *args, **kwargs)
    now = time.time()
    with _metrics_lock:
        for directive in emf.get("_aws", {}).get("CloudWatchMetrics", []):
            if directive.get("Namespace") != "Omnishop":
                continue
            for metric in directive.get("Metrics", []):
                values = emf.get(metric["Name"])
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, (int, float)):
                        _metrics.append((now, metric["Name"], float(value)))
    return emf


def install() -> None:
    """Record every metric set the code flushes, and the API's answers and functions' errors
    (`record`): the local runtime's CloudWatch. Nothing is recorded before."""
    global _original_serialize
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    if _original_serialize is None:
        _original_serialize = AmazonCloudWatchEMFProvider.serialize_metric_set
        AmazonCloudWatchEMFProvider.serialize_metric_set = _recording_serialize  # type: ignore[method-assign]


def uninstall() -> None:
    global _original_serialize
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    if _original_serialize is not None:
        AmazonCloudWatchEMFProvider.serialize_metric_set = _original_serialize  # type: ignore[method-assign]
        _original_serialize = None
    with _metrics_lock:
        _metrics.clear()


def record(name: str, value: float) -> None:
    """A data point of an AWS metric the local runtime stands in for (e.g. "AWS/ApiGateway:Latency"),
    kept while installed."""
    if _original_serialize is None:
        return
    with _metrics_lock:
        _metrics.append((time.time(), name, float(value)))


def metric_values(name: str, since: float) -> list[float]:
    with _metrics_lock:
        return [value for at, metric, value in _metrics if metric == name and at >= since]


def metric_sum(name: str, since: float) -> float:
    return sum(metric_values(name, since))


def api_answered(status: int, milliseconds: float) -> None:
    """The local API server answered: API Gateway's 5XXError (0/1) and Latency data points."""
    record("AWS/ApiGateway:5XXError", 1 if status >= 500 else 0)
    record("AWS/ApiGateway:Latency", milliseconds)


def function_failed(function: str) -> None:
    """A handler call raised: Lambda's Errors of `function`."""
    record(f"AWS/Lambda:Errors:{function}", 1)


def _statistic(values: list[float], statistic: str) -> float:
    if not values:
        return 0.0
    if statistic == "Sum":
        return sum(values)
    if statistic == "Average":
        return sum(values) / len(values)
    if statistic == "Maximum":
        return max(values)
    if statistic.startswith("p"):   # nearest-rank percentile
        ordered = sorted(values)
        rank = max(1, -(-len(ordered) * float(statistic[1:]) // 100))
        return ordered[int(rank) - 1]
    raise ValueError(f"unknown statistic {statistic!r}")


# --- evaluation -----------------------------------------------------------------------------------
class Alarms:
    """Evaluates `alarms` (default ALARMS); `pump` gives the stream consumers' skipped records."""

    def __init__(self, pump: Any = None, alarms: Iterable[Any] | None = None, tick: float = 5.0):
        self.pump, self.tick = pump, tick
        self.alarms = tuple(resources.ALARMS if alarms is None else alarms)
        self.states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_urls: dict[str, str] = {}

    def _queue_depth(self, spec: QueueAlarm) -> tuple[float, str]:
        if spec.stream is not None:
            function, table = spec.stream
            skipped = [f for f in (self.pump.failures if self.pump is not None else [])
                       if f.function == function
                       and f"/{settings.table_name(table)}/" in f.record.get("eventSourceARN", "")]
            return len(skipped), f"{len(skipped)} stream record(s) of {table} skipped by {function} after retries"
        sqs = aws.client("sqs")
        url = self._queue_urls.get(spec.queue) or settings.queue_url(spec.queue)
        if url is None:   # asked once: a queue keeps its URL for the runtime's life (provisioned once)
            url = sqs.get_queue_url(QueueName=settings.resource_name(spec.queue))["QueueUrl"]
        self._queue_urls[spec.queue] = url
        visible = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"])
        return visible, f"{visible} message(s) in {spec.queue}"

    @staticmethod
    def _failed_executions(spec: ExecutionsFailedAlarm, since: float) -> tuple[float, str]:
        sfn = aws.client("stepfunctions")
        cutoff = dt.datetime.fromtimestamp(since, dt.timezone.utc)
        ended = [e for page in sfn.get_paginator("list_executions").paginate(
                     stateMachineArn=settings.state_machine_arn(spec.state_machine), statusFilter=spec.status)
                 for e in page["executions"] if e.get("stopDate") and e["stopDate"] >= cutoff]
        how = "failed" if spec.status == "FAILED" else "timed out"
        return len(ended), f"{len(ended)} {spec.state_machine} execution(s) {how} in the last {spec.period} s"

    @staticmethod
    def _function_metric(spec: FunctionAlarm, since: float) -> tuple[float, str]:
        if spec.metric == "Errors":
            value = metric_sum(f"AWS/Lambda:Errors:{spec.function}", since)
            return value, f"{value:g} error(s) of {spec.function} in the last {spec.period} s"
        if spec.metric == "Throttles":
            return 0, "never throttled locally (no concurrency limit): only CloudWatch measures this"
        if spec.metric == "IteratorAge":
            return 0, "not measured locally (the pump keeps no iterator position): only CloudWatch measures this"
        raise ValueError(f"unknown function metric {spec.metric!r}")

    def _value(self, spec: Any, now: float) -> tuple[float, str, bool]:
        """(value, reason, breaching) for one alarm."""
        if isinstance(spec, QueueAlarm):
            value, reason = self._queue_depth(spec)
        elif isinstance(spec, ExecutionsFailedAlarm):
            value, reason = self._failed_executions(spec, now - spec.period)
        elif isinstance(spec, MetricAlarm):
            value = metric_sum(spec.metric, now - spec.period)
            reason = f"{spec.metric}: {value:g} in the last {spec.period} s"
        elif isinstance(spec, ApiAlarm):
            points = metric_values(f"AWS/ApiGateway:{spec.metric}", now - spec.period)
            value = _statistic(points, spec.statistic)
            reason = f"API {spec.metric} {spec.statistic}: {value:g} over {len(points)} answer(s) in the last {spec.period} s"
        elif isinstance(spec, FunctionAlarm):
            value, reason = self._function_metric(spec, now - spec.period)
        elif isinstance(spec, ServiceAlarm):
            value, reason = 0, f"{spec.namespace} {spec.metric}: not measured locally (no SMS or email goes through AWS)"
        else:
            raise TypeError(f"unknown alarm {spec!r}")
        return value, reason, breaching(spec, value)   # as CloudWatch compares (infra/resources.py)

    def evaluate(self) -> list[dict[str, Any]]:
        """Evaluate every alarm now; log the ones whose state changed. The report, raised first."""
        now = time.time()
        with self._lock:
            for spec in self.alarms:
                try:
                    value, reason, breaching = self._value(spec, now)
                except Exception as exc:   # an alarm that cannot be read is not an alarm raised
                    value, reason, breaching = None, f"could not be evaluated: {type(exc).__name__}: {exc}", False
                state = ALARM if breaching else OK
                before = self.states.get(spec.name)
                since = before["since"] if before and before["state"] == state else _iso(now)
                self.states[spec.name] = {"name": spec.name, "state": state, "value": value, "reason": reason,
                                          "threshold": spec.threshold, "description": spec.description,
                                          "kind": type(spec).__name__, "since": since}
                if state == ALARM and (before is None or before["state"] != ALARM):
                    log.warning("ALARM %s: %s (%s)", spec.name, reason, spec.description)
                elif state == OK and before is not None and before["state"] == ALARM:
                    log.info("alarm %s is OK again: %s", spec.name, reason)
            return self.report()

    def report(self) -> list[dict[str, Any]]:
        """The last evaluation: raised alarms first, then by name."""
        return sorted(self.states.values(), key=lambda a: (a["state"] != ALARM, a["name"]))

    def start(self) -> None:
        global _current
        _current = self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="alarms")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.evaluate()
            except Exception:
                log.exception("evaluating the alarms failed")

    def stop(self) -> None:
        global _current
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.tick + 1)
            self._thread = None
        if _current is self:
            _current = None


_current: Alarms | None = None


def report() -> list[dict[str, Any]]:
    """What GET /local/alarms shows: every alarm evaluated now, by the runtime's evaluator (its
    pump's skipped records included), or, without one (the test client), by a fresh one."""
    return (_current or Alarms()).evaluate()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
