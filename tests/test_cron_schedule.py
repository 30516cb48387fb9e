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
