"""Open half-days and capacity (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from federation.stats.occupancy import (
    Capacity,
    SiteCapacity,
    half_days_by_weekday,
    open_half_days,
    rate,
)

patterns = st.tuples(*[st.integers(0, 2)] * 7)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def test_a_day_open_before_noon_and_after_two_counts_two_half_days() -> None:
    hours = [
        {"day": "MO", "opens": "09:00", "closes": "19:00"},  # 2
        {"day": "TU", "opens": "09:00", "closes": "12:00"},  # morning only: 1
        {"day": "WE", "opens": "14:00", "closes": "18:00"},  # afternoon only: 1
        {"day": "TH", "opens": "08:30", "closes": "12:30"},  # two slots making a full day: 2
        {"day": "TH", "opens": "13:30", "closes": "17:00"},
        {"day": "FR", "opens": "12:00", "closes": "14:00"},  # over lunch only: 1
    ]
    assert half_days_by_weekday(hours) == (2, 1, 1, 2, 1, 0, 0)
    assert half_days_by_weekday([]) == (0,) * 7


@given(pattern=patterns, first=days, length=st.integers(-3, 400))
def test_open_half_days_add_up_the_pattern_day_by_day(
    pattern: tuple[int, ...], first: date, length: int
) -> None:
    last = first + timedelta(days=length)
    expected = sum(
        pattern[(first + timedelta(days=n)).weekday()] for n in range(max(0, length + 1))
    )
    assert open_half_days(pattern, first, last) == expected


@given(
    sites=st.lists(st.tuples(st.integers(0, 40), patterns, days), max_size=12),
    first=days,
    length=st.integers(0, 400),
)
def test_the_capacity_of_many_spaces_is_the_sum_of_each(
    sites: list[tuple[int, tuple[int, ...], date]], first: date, length: int
) -> None:
    spaces = [
        SiteCapacity(i, desks, pattern, joined)  # type: ignore[arg-type]
        for i, (desks, pattern, joined) in enumerate(sites)
    ]
    last = first + timedelta(days=length)
    assert Capacity(spaces).desk_half_days(first, last) == sum(
        s.desk_half_days(first, last) for s in spaces
    )


def test_a_space_counts_from_the_day_it_joined() -> None:
    space = SiteCapacity(1, 10, (2, 2, 2, 2, 2, 0, 0), date(2025, 3, 17))
    # March 2025: the weekdays from Monday 17 to Monday 31 are 11.
    assert space.desk_half_days(date(2025, 3, 1), date(2025, 3, 31)) == 10 * 2 * 11
    assert space.desk_half_days(date(2025, 1, 1), date(2025, 2, 28)) == 0


def test_a_rate_needs_capacity() -> None:
    assert rate(21, 84) == 0.25
    assert rate(3, 0) is None
