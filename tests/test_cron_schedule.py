from __future__ import annotations

import pytest

from memvault_hooks import cron_schedule


@pytest.mark.parametrize("expr, normal", [
    ("*/15 * * * *", "*/15 * * * *"),
    ("  0\t12 *  * mon-fri ", "0 12 * * mon-fri"),
    ("5,35 0-23/2 1 jan,jul 0", "5,35 0-23/2 1 jan,jul 0"),
])
def test_valid(expr: str, normal: str) -> None:
    assert cron_schedule.normalize(expr) == normal


@pytest.mark.parametrize("expr", ["", "* * * *", "* * * * * *", "@hourly", "60 * * * *", "* 24 * * *",
                                  "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "x * * * *"])
def test_invalid(expr: str) -> None:
    with pytest.raises(cron_schedule.InvalidSchedule):
        cron_schedule.normalize(expr)


@pytest.mark.parametrize("expr, said", [
    ("61 * * * *", "minute field: 61 is out of range 0-59"),
    ("0 24 * * *", "hour field: 24 is out of range 0-23"),
    ("0 0 32 * *", "day of month field: 32 is out of range 1-31"),
    ("0 0 * 13 *", "month field: 13 is out of range 1-12"),
    ("0 0 * * 8", "day of week field: 8 is out of range 0-7"),
    ("x * * * *", "minute field: 'x' is not a number"),
    ("0 9-5 * * *", "hour field: the range '9-5' ends before it starts"),
    ("0 1,,2 * * *", "hour field: '1,,2' has an empty list item"),
])
def test_a_bad_field_is_named(expr: str, said: str) -> None:
    with pytest.raises(cron_schedule.InvalidSchedule) as caught:
        cron_schedule.normalize(expr)
    assert str(caught.value) == said


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_schedule_that_never_fires_is_refused(expr: str) -> None:
    with pytest.raises(cron_schedule.InvalidSchedule, match="never fires"):
        cron_schedule.normalize(expr)


@pytest.mark.parametrize("expr", ["0 0 29 2 *", "0 0 31 2 mon", "0 0 31 * *"])
def test_rare_schedules_that_do_fire_are_kept(expr: str) -> None:
    assert cron_schedule.normalize(expr) == expr
