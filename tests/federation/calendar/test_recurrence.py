"""Recurrence rules, without a database: DST, EXDATE, RDATE, overrides, bad rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from federation.calendar.recurrence import Override, Series, expand, normalise_rrule
from federation.errors import BadUserInput

PARIS = ZoneInfo("Europe/Paris")


def paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS)


def test_a_weekly_evening_stays_at_18h_local_across_the_march_change() -> None:
    start = paris(2027, 3, 21, 18)  # the clocks change on Sunday 28 March
    series = Series(start, start + timedelta(hours=2), rrule="FREQ=WEEKLY;COUNT=3")
    found = expand(series, until=paris(2027, 5, 1))
    assert [i.starts_at.astimezone(PARIS).hour for i in found] == [18, 18, 18]
    assert [i.starts_at.hour for i in found] == [17, 16, 16]  # UTC moves, local does not
    assert all(i.ends_at - i.starts_at == timedelta(hours=2) for i in found)


def test_a_weekly_evening_stays_at_18h_local_across_the_october_change() -> None:
    start = paris(2027, 10, 24, 18)  # the clocks change on Sunday 31 October
    series = Series(start, start + timedelta(hours=2), rrule="FREQ=WEEKLY;COUNT=3")
    found = expand(series, until=paris(2027, 12, 1))
    assert [i.starts_at.astimezone(PARIS).hour for i in found] == [18, 18, 18]
    assert [i.starts_at.hour for i in found] == [16, 17, 17]


def test_exdates_remove_rdates_add_and_overrides_move_occurrences() -> None:
    start = paris(2027, 1, 5, 18)
    moved = Override(
        paris(2027, 1, 19, 18).astimezone(UTC),
        paris(2027, 1, 20, 19),
        paris(2027, 1, 20, 21),
        "Casapéro exceptionnel",
    )
    series = Series(
        start,
        start + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=(paris(2027, 1, 12, 18),),
        rdates=(paris(2027, 1, 30, 10),),
        overrides=(moved,),
    )
    found = expand(series, until=paris(2027, 3, 1))
    assert [i.starts_at.astimezone(PARIS) for i in found] == [
        paris(2027, 1, 5, 18),
        paris(2027, 1, 20, 19),
        paris(2027, 1, 26, 18),
        paris(2027, 1, 30, 10),
    ]
    assert found[1].title == "Casapéro exceptionnel"
    assert found[1].recurrence_id == paris(2027, 1, 19, 18).astimezone(UTC)


def test_until_in_utc_ends_the_series() -> None:
    start = paris(2027, 1, 4, 9)
    series = Series(start, start + timedelta(hours=1), rrule="FREQ=DAILY;UNTIL=20270106T235959Z")
    assert len(expand(series, until=paris(2028, 1, 1))) == 3


@pytest.mark.parametrize("rule", ["FREQ=SOMETIMES", "FREQ=WEEKLY;BYDAY=XX", "", "FREQ=SECONDLY"])
def test_an_invalid_rule_is_bad_user_input(rule: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        normalise_rrule(rule)
    assert "rrule" in raised.value.message


def test_a_rule_is_stored_without_its_prefix_in_upper_case() -> None:
    assert normalise_rrule("RRULE:freq=weekly;byday=tu") == "FREQ=WEEKLY;BYDAY=TU"
