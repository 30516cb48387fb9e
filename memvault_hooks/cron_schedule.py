"""Cron schedules: a 5-field expression (minute hour day-of-month month day-of-week),
checked by python-crontab's parser, the one cron itself would accept."""
from __future__ import annotations

FIX = "use minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'"


class InvalidSchedule(ValueError):
    pass


def normalize(expr: str) -> str:
    """The expression with single spaces between its 5 fields; InvalidSchedule if it is not one."""
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidSchedule(f"{expr!r} is not a 5-field cron expression "
                              f"(it has {len(fields)} field{'s' if len(fields) != 1 else ''})")
    normal = " ".join(fields)
    from crontab import CronSlices  # type: ignore[import-untyped]  # python-crontab, loaded only here

    if not CronSlices.is_valid(normal):
        raise InvalidSchedule(f"{expr!r} is not a valid cron expression")
    return normal
