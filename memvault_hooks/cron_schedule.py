"""Cron schedules: a 5-field expression (minute hour day-of-month month day-of-week),
checked by python-crontab's parser, the one cron itself would accept; and how far apart
its runs can be.

`max_gap` is the longest gap between two consecutive runs, which `status` doubles to
decide that backups have gone stale. It reads `*`, numbers, ranges `a-b`, steps `*/n`
`a-b/n` `a/n`, lists, month and day names, and cron's rule that a restricted day-of-month
and day-of-week match either. The gap is measured over a span long enough to contain
every pattern's repetition (a little over four years, so even `0 0 29 2 *` has two runs);
days are walked, not minutes.
"""
from __future__ import annotations

import datetime as dt

FIX = "use minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'"


class InvalidSchedule(ValueError):
    pass


def normalize(expr: str) -> str:
    """The expression with single spaces between its 5 fields; InvalidSchedule if it is not
    one, if a field is out of range (the message names the field), or if it never fires."""
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidSchedule(f"{expr!r} is not a 5-field cron expression "
                              f"(it has {len(fields)} field{'s' if len(fields) != 1 else ''})")
    normal = " ".join(fields)
    max_gap(normal)  # names the bad field; refuses a schedule that never fires ('0 0 31 2 *')
    from crontab import CronSlices  # type: ignore[import-untyped]  # python-crontab, loaded only here

    if not CronSlices.is_valid(normal):
        raise InvalidSchedule(f"{expr!r} is not a valid cron expression")
    return normal


_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS))
_SPAN_DAYS = 4 * 366 + 31


def _number(text: str, names: dict[str, int], what: str) -> int:
    value = names.get(text.lower())
    if value is not None:
        return value
    if not text.isdigit():
        raise InvalidSchedule(f"{what} field: {text!r} is not a number")
    return int(text)


def parse_field(text: str, what: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = _number(step_text, {}, what) if step_text else 1
        if step < 1:
            raise InvalidSchedule(f"{what} field: step {step_text!r} must be 1 or more")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _number(a, names, what), _number(b, names, what)
        else:
            start = _number(body, names, what)
            end = high if step_text else start
        for value in (start, end):
            if not low <= value <= high:
                raise InvalidSchedule(f"{what} field: {value} is out of range {low}-{high}")
        if start > end:
            raise InvalidSchedule(f"{what} field: the range {body!r} ends before it starts")
        values.update(range(start, end + 1, step))
    return values


def max_gap(schedule: str) -> dt.timedelta:
    """The longest time between two consecutive runs of `schedule` (InvalidSchedule if unreadable)."""
    fields = schedule.split()
    if len(fields) != 5:
        raise InvalidSchedule("a cron schedule has 5 fields: minute hour day-of-month month day-of-week")
    for text, (what, _, _, _) in zip(fields, _FIELDS):
        if not text or text.startswith(",") or text.endswith(",") or ",," in text:
            raise InvalidSchedule(f"{what} field: {text!r} has an empty list item")
    minutes, hours, mdays, months, wdays = (
        parse_field(text, what, low, high, names) for text, (what, low, high, names) in zip(fields, _FIELDS))
    wdays = {d % 7 for d in wdays}
    mday_any, wday_any = fields[2].startswith("*"), fields[4].startswith("*")
    times = sorted(h * 60 + m for h in hours for m in minutes)
    first_of_day, last_of_day = times[0], times[-1]
    inner = max((b - a for a, b in zip(times, times[1:])), default=0)
    start = dt.date(2024, 1, 1)
    previous: int | None = None      # minute (since start) of the last run seen
    gap = 0
    for offset in range(_SPAN_DAYS):
        day = start + dt.timedelta(days=offset)
        in_mday, in_wday = day.day in mdays, (day.isoweekday() % 7) in wdays
        if day.month not in months:
            continue
        if mday_any or wday_any:
            runs = in_mday and in_wday
        else:
            runs = in_mday or in_wday
        if not runs:
            continue
        base = offset * 1440
        if previous is not None:
            gap = max(gap, base + first_of_day - previous)
        gap = max(gap, inner)
        previous = base + last_of_day
    if previous is None:
        raise InvalidSchedule(f"{schedule!r} never fires: no date has that day of the month in that month")
    return dt.timedelta(minutes=gap or 1440 * _SPAN_DAYS)
