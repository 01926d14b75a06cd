"""EventBridge Scheduler's schedule expressions, read once for the whole platform: the campaign
API checks the expressions it is given with them, and the local runtime fires schedules by them.

`rate(N minute|minutes|hour|hours|day|days)` (first fire one period after start),
`cron(minutes hours day-of-month month day-of-week year)` with `*`, `?`, lists, ranges, steps,
month and weekday names, `L` (day-of-month: last day; day-of-week: `nL`, last such weekday) and
`n#k` (k-th weekday n of the month); `W` is not supported. And `at(yyyy-mm-ddThh:mm:ss)`, once.
Times are UTC. Plain Python, no AWS.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

UTC = dt.timezone.utc
MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
WEEKDAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """The numbers a plain cron field (`*`, lists, ranges, steps, names) allows."""
    def number(token: str) -> int:
        value = (names or {}).get(token.upper()) or int(token)
        if not low <= value <= high:
            raise ValueError(f"{token} is outside {low}-{high}")
        return value

    allowed: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            start, end = low, high
        elif "-" in span:
            start, end = (number(t) for t in span.split("-", 1))
        else:
            start = number(span)
            end = high if step else start
        allowed.update(range(start, end + 1, int(step) if step else 1))
    return allowed


class Cron:
    """An AWS cron expression, matched to the minute."""

    def __init__(self, fields: str):
        parts = fields.split()
        if len(parts) != 6:
            raise ValueError(f"cron needs 6 fields (minutes hours day-of-month month day-of-week year): {fields!r}")
        minutes, hours, self.dom, months, self.dow, years = parts
        if "?" not in (self.dom, self.dow):
            raise ValueError("one of day-of-month and day-of-week must be '?'")
        if "W" in self.dom.upper():
            raise ValueError("the W (nearest weekday) day-of-month is not supported locally")
        self.minutes, self.hours = sorted(_values(minutes, 0, 59)), sorted(_values(hours, 0, 23))
        self.months, self.years = _values(months, 1, 12, MONTHS), _values(years, 1970, 2199)
        self._days_of_month = None if self.dom in ("?", "L") else _values(self.dom, 1, 31)
        self._days_of_week = None if self.dow == "?" or re.search(r"[L#]", self.dow) else _values(self.dow, 1, 7, WEEKDAYS)

    def matches_day(self, day: dt.date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        weekday = (day.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        if self.dom == "L":
            return day.day == last
        if self._days_of_month is not None:   # a day-of-month field other than ? and L
            return day.day in self._days_of_month
        if self._days_of_week is not None:
            return weekday in self._days_of_week
        if self.dow.upper().endswith("L"):  # nL: the last weekday n of the month (L alone: Saturday)
            return weekday == _values(self.dow[:-1] or "7", 1, 7, WEEKDAYS).pop() and day.day > last - 7
        wanted, _, nth = self.dow.partition("#")  # n#k: the k-th weekday n of the month
        return weekday == _values(wanted, 1, 7, WEEKDAYS).pop() and (day.day - 1) // 7 + 1 == int(nth)

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        """The first matching minute strictly after `moment` (within ten years), or None."""
        start = moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = start.date()
        for _ in range(3660):
            if self.matches_day(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=start.tzinfo)
                        if candidate >= start:
                            return candidate
            day += dt.timedelta(days=1)
        return None


def next_fire(expression: str, after: dt.datetime) -> dt.datetime | None:
    """When a schedule with this expression fires next after `after` (None: never again)."""
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        seconds = int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")]
        if seconds <= 0:
            raise ValueError(f"a rate must be positive: {expression}")
        return after + dt.timedelta(seconds=seconds)
    if expression.startswith("cron(") and expression.endswith(")"):
        return Cron(expression[5:-1]).next_after(after)
    if expression.startswith("at(") and expression.endswith(")"):
        when = dt.datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
        return when if when > after else None
    raise ValueError(f"not a schedule expression: {expression!r}")
