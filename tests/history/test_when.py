from __future__ import annotations

import datetime as dt

import pytest

from memvault_hooks.history import when
from memvault_hooks.errors import UsageError

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-26T12:34:56Z", dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)),
    ("2026-11-26t12:34:56z", dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)),
    ("2026-11-26 12:34:56Z", dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)),
    ("2026-11-26T12:34:56.250Z", dt.datetime(2026, 11, 26, 12, 34, 56, 250000, tzinfo=UTC)),
    ("2026-11-26T13:34:56+01:00", dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)),
    ("2026-11-26T13:34:56+0100", dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)),
    ("2026-11-26 07:04-05:30", dt.datetime(2026, 11, 26, 12, 34, tzinfo=UTC)),
    ("@1790000000", dt.datetime.fromtimestamp(1790000000, UTC)),
])
def test_iso_forms(text: str, expected: dt.datetime) -> None:
    assert when.parse(text, NOW) == expected


def test_no_zone_is_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "CET-1")
    time.tzset()
    try:
        assert when.parse("2026-11-26 13:00", NOW) == dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        assert when.parse("2026-11-26", NOW) == dt.datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
        assert when.local(dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == "2026-11-26 13:00:00+01:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("text, delta", [
    ("now", dt.timedelta(0)),
    ("yesterday", dt.timedelta(days=1)),
    ("2 hours ago", dt.timedelta(hours=2)),
    ("2.hours.ago", dt.timedelta(hours=2)),
    ("2h ago", dt.timedelta(hours=2)),
    ("an hour ago", dt.timedelta(hours=1)),
    ("3 days ago", dt.timedelta(days=3)),
    ("90 seconds ago", dt.timedelta(seconds=90)),
    ("15 min ago", dt.timedelta(minutes=15)),
    ("1 week ago", dt.timedelta(weeks=1)),
    ("  5   Minutes   AGO ", dt.timedelta(minutes=5)),
])
def test_relative_forms(text: str, delta: dt.timedelta) -> None:
    assert when.parse(text, NOW) == NOW - delta


def test_months_and_years_are_calendar_steps() -> None:
    march_31 = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert when.parse("1 month ago", march_31).date() == dt.date(2026, 2, 28)
    assert when.parse("2 years ago", march_31).date() == dt.date(2024, 3, 31)


@pytest.mark.parametrize("text", ["", "soon", "2026-13-01", "2026-11-26T25:00", "2 fortnights ago",
                                  "12:00", "last tuesday", "2026/11/26", "-1 hours ago", "@x"])
def test_unreadable_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        when.parse(text, NOW)
    assert info.value.exit_code == 2
    assert "2 hours ago" in str(info.value)


def test_iso_utc_round_trips() -> None:
    moment = dt.datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)
    assert when.iso_utc(moment) == "2026-11-26T12:34:56Z"
    assert when.parse(when.iso_utc(moment)) == moment
    assert when.parse(when.local(moment)) == moment
