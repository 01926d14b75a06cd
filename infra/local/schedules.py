"""EventBridge Scheduler, locally: fire each Schedule's function on its expression (UTC).

Expressions as Scheduler takes them (read by chalicelib/schedules.py: rate, cron, at).

The event is the schedule's Target.Input as provisioned (infra.local.provision.schedule_input),
with Scheduler's context attributes filled in.

Schedules made at run time through the Scheduler API (a campaign's schedule, made by the campaign
API) are fired too: the runtime's Scheduler lists moto's schedules every tick and fires those
whose target is one of our functions, with their own Target.Input; an `at(...)` schedule with
ActionAfterCompletion DELETE is deleted once fired, as Scheduler does.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from typing import Any, Callable, Iterable

from chalicelib import aws, settings
from chalicelib.schedules import UTC, next_fire  # noqa: F401  (next_fire re-exported for callers)
from infra import resources
from infra.local import lambdas
from infra.local.provision import schedule_input
from infra.resources import Function, Schedule

log = logging.getLogger("infra.local")
RELIST_SECONDS = 60.0   # with moto in this process: list the schedules at least this often anyway
_changes = [0]          # schedules created, updated or deleted through moto in this process
_hooked = threading.Lock()


def _watch_moto() -> int | None:
    """How many schedule changes moto, in this process, has made (hooks on its Scheduler backend,
    put in on first use); None when moto runs elsewhere (then the schedules are listed every tick)."""
    from infra.local.pump import moto_here

    if not moto_here():
        return None
    from moto.scheduler.models import EventBridgeSchedulerBackend as Backend

    with _hooked:
        if not getattr(Backend, "_omnishop_counted", False):
            for name in ("create_schedule", "update_schedule", "delete_schedule", "delete_schedule_group"):
                setattr(Backend, name, _counted(getattr(Backend, name)))
            Backend._omnishop_counted = True   # type: ignore[attr-defined]
    return _changes[0]


def _counted(method: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            _changes[0] += 1
    return counted

def schedule_arn(name: str, group: str = "default") -> str:
    return f"arn:aws:scheduler:{settings.region()}:{settings.account_id()}:schedule/{group}/{name}"


def _filled(target_input: str, when: dt.datetime, arn: str) -> Any:
    """A Target.Input with Scheduler's context attributes filled in."""
    text = (target_input.replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.scheduled-time>", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.schedule-arn>", arn))
    return json.loads(text) if text.strip() else {}


def schedule_event(schedule: Schedule, when: dt.datetime) -> dict[str, Any]:
    """The Target.Input with Scheduler's context attributes filled in."""
    return _filled(schedule_input(schedule), when, schedule_arn(settings.resource_name(schedule.name)))


class _Made:
    """A schedule made at run time, as moto's GetSchedule describes it."""

    def __init__(self, described: dict[str, Any], function: Function):
        self.name, self.group = described["Name"], described.get("GroupName") or "default"
        self.expression, self.function = described["ScheduleExpression"], function
        self.input = (described.get("Target") or {}).get("Input") or ""
        self.delete_after = described.get("ActionAfterCompletion") == "DELETE"
        self.stamp = str(described.get("LastModificationDate"))


class Scheduler:
    """Fires `schedules` (default: SCHEDULES) on their expressions in a thread, or on demand."""

    def __init__(self, schedules: Iterable[Schedule] | None = None, functions: Iterable[Function] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC), tick: float = 1.0,
                 made_at_run_time: bool | None = None):
        self.schedules = {s.name: s for s in (resources.SCHEDULES if schedules is None else schedules)}
        self.functions = {f.name: f for f in (resources.FUNCTIONS if functions is None else functions)}
        self.clock, self.tick = clock, tick
        # The runtime's scheduler (every resource) also fires the schedules made through the API.
        self.made_at_run_time = schedules is None if made_at_run_time is None else made_at_run_time
        self._made: dict[str, tuple[_Made, dt.datetime | None]] = {}
        self._listed_at: tuple[int | None, float] = (None, 0.0)   # (changes seen, when to list anyway)
        self.fired: list[tuple[str, dt.datetime]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for schedule in self.schedules.values():
            next_fire(schedule.expression, self.clock())  # refuse a bad expression now, not later

    def fire(self, name: str, when: dt.datetime | None = None) -> Any:
        """Invoke schedule `name`'s function now; return its result (its exception propagates)."""
        schedule = self.schedules[name]
        when = when or self.clock()
        self.fired.append((name, when))
        return lambdas.call(self.functions[schedule.function], schedule_event(schedule, when))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="scheduler")
        self._thread.start()

    def _run(self) -> None:
        now = self.clock()
        due = {name: next_fire(s.expression, now) for name, s in self.schedules.items()}
        while not self._stop.wait(self.tick):
            now = self.clock()
            for name, when in due.items():
                if when is None or when > now:
                    continue
                try:
                    self.fire(name, when)
                except Exception:
                    log.exception("schedule %s: its function failed", name)
                due[name] = next_fire(self.schedules[name].expression, max(when, now))
            if self.made_at_run_time:
                try:
                    self.fire_made(now)
                except Exception:
                    log.exception("schedules made at run time: listing or firing them failed")

    # --- schedules made at run time through the Scheduler API ---------------------------------
    def _by_arn(self) -> dict[str, Function]:
        return {lambdas.function_arn(f): f for f in self.functions.values()}

    def refresh_made(self, now: dt.datetime) -> None:
        """Learn the schedules made (or changed, or deleted) through the API since the last tick.
        With moto in this process, only when one was (a hook counts them) or a minute passed: the
        listing was most of an idle runtime's CPU."""
        changes = _watch_moto()
        if changes is not None and changes == self._listed_at[0] and time.monotonic() < self._listed_at[1]:
            return
        self._listed_at = (changes, time.monotonic() + RELIST_SECONDS)
        client, static = aws.client("scheduler"), {settings.resource_name(n) for n in self.schedules}
        by_arn, seen = self._by_arn(), set()
        for page in client.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                name, group = summary["Name"], summary.get("GroupName") or "default"
                if name in static or summary.get("State") == "DISABLED":
                    continue
                seen.add(name)
                known = self._made.get(name)
                described = client.get_schedule(Name=name, GroupName=group) if known is None or str(
                    summary.get("LastModificationDate")) != known[0].stamp else None
                if described is None:
                    continue
                function = by_arn.get((described.get("Target") or {}).get("Arn", ""))
                if function is None:
                    continue  # not one of ours
                made = _Made(described, function)
                made.stamp = str(summary.get("LastModificationDate"))
                self._made[name] = (made, next_fire(made.expression, now))
        for name in set(self._made) - seen:
            del self._made[name]

    def fire_made(self, now: dt.datetime | None = None) -> int:
        """Fire the schedules made at run time that are due; how many fired."""
        now = now or self.clock()
        self.refresh_made(now)
        fired = 0
        for name, (made, when) in list(self._made.items()):
            if when is None or when > now:
                continue
            self.fired.append((name, when))
            fired += 1
            try:
                lambdas.call(made.function, _filled(made.input, when, schedule_arn(name, made.group)))
            except Exception:
                log.exception("schedule %s: its function failed", name)
            following = next_fire(made.expression, max(when, now))
            self._made[name] = (made, following)
            if following is None and made.delete_after:
                aws.client("scheduler").delete_schedule(Name=name, GroupName=made.group)
        return fired

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
