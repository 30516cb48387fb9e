from __future__ import annotations

import datetime as dt

import pytest

from memvault_hooks.cron_schedule import InvalidSchedule
from memvault_hooks.cron_schedule import max_gap

M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.mark.parametrize("schedule, gap", [
    ("*/15 * * * *", 15 * M),
    ("* * * * *", M),
    ("*/7 * * * *", 7 * M),          # 56 -> 0 of the next hour is only 4 minutes
    ("0 * * * *", H),
    ("5,35 * * * *", 30 * M),
    ("0 9-17 * * *", 16 * H),        # 17:00 -> 9:00 the next day
    ("*/10 9-17 * * *", 15 * H + 10 * M),
    ("0 9 * * 1-5", 3 * D),          # Friday -> Monday
    ("0 9 * * mon-fri", 3 * D),
    ("5 4 * * sun", 7 * D),
    ("0 0 * * 7", 7 * D),
    ("30 2 1 * *", 31 * D),
    ("0 0 1 jan,jul *", 184 * D),
    ("0 0 1,15 * mon", 7 * D),       # day-of-month OR day-of-week
    ("0 0 10/10 * *", 19 * D),       # 10, 20, 30: Feb 20 -> Mar 10 of a leap year
])
def test_longest_gap(schedule: str, gap: dt.timedelta) -> None:
    assert max_gap(schedule) == gap


@pytest.mark.parametrize("schedule", ["* * * *", "61 * * * *", "*/0 * * * *", "x * * * *",
                                      "0 0 31 2 *", "5-1 * * * *", "0 0 * 13 *"])
def test_bad_schedules(schedule: str) -> None:
    with pytest.raises(InvalidSchedule):
        max_gap(schedule)
