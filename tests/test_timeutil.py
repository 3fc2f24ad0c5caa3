from datetime import UTC, date, datetime

import pytest

from arcticroute.errors import BadInputError
from arcticroute.timeutil import month_days, new_run_id, parse_since, parse_ym

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [("202609", (2026, 9)), ("current", (2026, 11)), (" CURRENT ", (2026, 11))])
def test_parse_ym_accepts_months_and_current(text, expected):
    assert parse_ym(text, NOW) == expected


@pytest.mark.parametrize("now, text, expected", [
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "-P1D", (2026, 10)),  # the daily chain on the 1st: October's last day
    (datetime(2026, 11, 2, 5, 30, tzinfo=UTC), "-P1D", (2026, 11)),
    (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "PT1S", (2026, 12)),
    (NOW, "-P5W", (2026, 10)),
])
def test_parse_ym_takes_the_month_of_a_moment_back_from_now(now, text, expected):
    assert parse_ym(text, now) == expected


@pytest.mark.parametrize("text", ["2026-09", "202613", "202600", "26091", "sept", "197001"])
def test_parse_ym_rejects_malformed_months(text):
    with pytest.raises(BadInputError, match="expected YYYYMM"):
        parse_ym(text, NOW)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-P1D", datetime(2026, 11, 27, 12, 30, tzinfo=UTC)),
        ("P1D", datetime(2026, 11, 27, 12, 30, tzinfo=UTC)),
        ("PT6H", datetime(2026, 11, 28, 6, 30, tzinfo=UTC)),
        ("-P1W", datetime(2026, 11, 21, 12, 30, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T06:00Z", datetime(2026, 11, 20, 6, tzinfo=UTC)),
        ("2026-11-20T08:00+02:00", datetime(2026, 11, 20, 6, tzinfo=UTC)),
    ],
)
def test_parse_since_accepts_datetimes_and_durations(text, expected):
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "P", "-PT", "P1M", "P1Y", "2026-13-01", ""])
def test_parse_since_rejects_everything_else_with_examples(text):
    with pytest.raises(BadInputError) as info:
        parse_since(text, NOW)
    assert "-P1D" in info.value.hint


def test_run_id_sorts_by_start_time_and_has_random_suffix():
    run_id = new_run_id(NOW)
    assert run_id.startswith("20261128T123000Z-") and len(run_id.split("-")[1]) == 6
    assert new_run_id(NOW) != run_id


def test_month_days_covers_leap_february():
    assert month_days(2028, 2)[-1] == date(2028, 2, 29)
