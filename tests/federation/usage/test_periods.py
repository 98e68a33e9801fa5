"""Calendar periods and how a range is cut into whole ones (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from federation.usage.periods import (
    Period,
    cover,
    label,
    period_end,
    period_start,
    periods_between,
    periods_of,
)

days = st.dates(min_value=date(2018, 1, 1), max_value=date(2032, 12, 31))


def days_of(period: Period, start: date) -> set[date]:
    end = period_end(period, start)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


@given(first=days, length=st.integers(0, 2000))
def test_a_cover_is_whole_periods_without_overlap_whose_union_is_the_range(
    first: date, length: int
) -> None:
    last = first + timedelta(days=length)
    pieces = cover(first, last)
    covered: list[date] = []
    for period, start in pieces:
        assert period_start(period, start) == start
        covered.extend(days_of(period, start))
    assert len(covered) == len(set(covered)) == length + 1
    assert (min(covered), max(covered)) == (first, last)


def test_a_calendar_year_is_one_piece_and_ragged_ends_use_weeks_and_days() -> None:
    assert cover(date(2025, 1, 1), date(2025, 12, 31)) == [(Period.YEAR, date(2025, 1, 1))]
    assert cover(date(2025, 4, 1), date(2025, 9, 30)) == [
        (Period.QUARTER, date(2025, 4, 1)),
        (Period.QUARTER, date(2025, 7, 1)),
    ]
    ragged = cover(date(2025, 1, 15), date(2025, 3, 10))
    assert (Period.MONTH, date(2025, 2, 1)) in ragged
    assert (Period.WEEK, date(2025, 1, 20)) in ragged  # Monday 20 to Sunday 26 January
    assert (Period.DAY, date(2025, 3, 10)) in ragged


def test_a_day_belongs_to_one_period_of_each_kind() -> None:
    assert periods_of(date(2025, 12, 31)) == [
        (Period.DAY, date(2025, 12, 31)),
        (Period.WEEK, date(2025, 12, 29)),  # ISO week 1 of 2026 starts in 2025
        (Period.MONTH, date(2025, 12, 1)),
        (Period.QUARTER, date(2025, 10, 1)),
        (Period.YEAR, date(2025, 1, 1)),
    ]


def test_periods_between_cut_the_first_and_last_to_the_range() -> None:
    assert list(periods_between(Period.MONTH, date(2025, 1, 15), date(2025, 3, 10))) == [
        (date(2025, 1, 1), date(2025, 1, 15), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 10)),
    ]


def test_periods_are_labelled_as_people_write_them() -> None:
    assert label(Period.DAY, date(2025, 3, 14)) == "2025-03-14"
    assert label(Period.WEEK, date(2025, 3, 10)) == "2025-W11"
    assert label(Period.WEEK, date(2025, 12, 29)) == "2026-W01"
    assert label(Period.MONTH, date(2025, 3, 1)) == "2025-03"
    assert label(Period.QUARTER, date(2025, 10, 1)) == "2025-Q4"
    assert label(Period.YEAR, date(2025, 1, 1)) == "2025"
