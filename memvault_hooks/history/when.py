"""WHEN on the command line: an ISO 8601 time or a relative one, as an aware UTC datetime.

Accepted (SPEC "Commands"):
- ISO 8601 with `T` or a space, seconds and fractions optional, with `Z` or a numeric
  offset (`+01:00`, `+0100`), or without a zone = the machine's local time;
  a date alone is local midnight.
- `@<seconds since the epoch>` (as git accepts).
- Relative: `now`, `yesterday` (24 hours ago, as git reads it), `N <unit> ago` with units
  seconds, minutes, hours, days, weeks, months, years (singular, plural or short: `2h ago`,
  `2.hours.ago`, `an hour ago`).

Parsed by hand (not `datetime.fromisoformat`) so Python 3.10 reads `Z` too.
"""
from __future__ import annotations

import datetime as dt
import re

from memvault_hooks.ui import logs
from memvault_hooks.errors import UsageError

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"(\d+|an?)\s*([a-z]+)\s+ago", re.IGNORECASE)
_UNITS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months",
    "y": "years", "year": "years", "years": "years",
}
HELP = ("use ISO 8601 such as 2026-11-26T12:00:00Z or '2026-11-26 12:00' (no zone = local time), "
        "or a relative time such as '2 hours ago', '3 days ago', 'yesterday', 'now'")


def parse(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """The moment WHEN names, timezone-aware in UTC; UsageError (exit 2) when unreadable."""
    now = now or dt.datetime.now(dt.timezone.utc)
    value = " ".join(text.replace(".", " ").split()) if "ago" in text.lower() else text.strip()
    try:
        moment = _parse(value, now)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise UsageError(f"cannot read the time {text!r}: {HELP}")
    return moment.astimezone(dt.timezone.utc)


def _parse(value: str, now: dt.datetime) -> dt.datetime | None:
    lower = value.lower()
    if lower == "now":
        return now
    if lower == "yesterday":
        return now - dt.timedelta(days=1)
    if lower.startswith("@") and lower[1:].isdigit():
        return dt.datetime.fromtimestamp(int(lower[1:]), dt.timezone.utc)
    match = _RELATIVE.fullmatch(value)
    if match:
        count_text, unit_text = match.groups()
        unit = _UNITS.get(unit_text.lower())
        if unit is None:
            return None
        count = 1 if count_text.lower() in ("a", "an") else int(count_text)
        return _minus(now, count, unit)
    match = _ISO.fullmatch(value)
    if match:
        return _iso(match)
    return None


def _minus(now: dt.datetime, count: int, unit: str) -> dt.datetime:
    if unit in ("months", "years"):
        months = count * (12 if unit == "years" else 1)
        local = now.astimezone()
        total = local.year * 12 + (local.month - 1) - months
        year, month = divmod(total, 12)
        day = min(local.day, _days_in(year, month + 1))
        return local.replace(year=year, month=month + 1, day=day)
    return now - dt.timedelta(**{unit: count})


def _days_in(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def _iso(match: re.Match[str]) -> dt.datetime:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                         int(second or 0), micro)
    if zone is None:
        return moment.astimezone()  # no zone: the machine's local time
    if zone.upper() == "Z":
        return moment.replace(tzinfo=dt.timezone.utc)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return moment.replace(tzinfo=dt.timezone(sign * offset))


def iso_utc(moment: dt.datetime) -> str:
    """`2026-11-26T12:34:56Z`: how times appear in JSON output."""
    return logs.utc_now(moment.timestamp())


def local(moment: dt.datetime) -> str:
    """`2026-11-26 13:34:56+01:00`: how times appear on a terminal (and parse back as WHEN)."""
    return moment.astimezone().isoformat(sep=" ", timespec="seconds")
