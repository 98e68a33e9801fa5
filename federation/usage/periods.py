"""Calendar periods, the grain of every rollup: days, ISO weeks (Monday first), months,
quarters and years, each named by its first day. Pure: no I/O.

A date range is answered from rollups by covering it with whole periods (`cover`):
the largest periods that fit, and days only at ragged ends.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import date, timedelta


class Period(enum.StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


# Largest first: how `cover` prefers to cut a range.
LARGEST_FIRST = (Period.YEAR, Period.QUARTER, Period.MONTH, Period.WEEK, Period.DAY)


def period_start(period: Period, day: date) -> date:
    """The first day of the period of kind `period` that contains `day`."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    if period is Period.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def next_start(period: Period, start: date) -> date:
    """The first day of the period after the one starting on `start`."""
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    if period is Period.YEAR:
        return date(start.year + 1, 1, 1)
    return add_months(start, 3 if period is Period.QUARTER else 1)


def period_end(period: Period, start: date) -> date:
    """The last day of the period starting on `start`."""
    return next_start(period, start) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; only ever called with the first of a month here."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def periods_of(day: date) -> list[tuple[Period, date]]:
    """The five periods a day belongs to: what one use changes."""
    return [(period, period_start(period, day)) for period in Period]


def periods_between(period: Period, first: date, last: date) -> Iterator[tuple[date, date, date]]:
    """(period start, clipped from, clipped to) for every period of kind `period` that
    meets [first, last], in order; the first and last may be cut by the range."""
    start = period_start(period, first)
    while start <= last:
        end = period_end(period, start)
        yield start, max(start, first), min(end, last)
        start = next_start(period, start)


def cover(first: date, last: date) -> list[tuple[Period, date]]:
    """Whole periods, disjoint, whose union is exactly [first, last]: years where they fit,
    then quarters, months and weeks at the ends, and days only at the ragged edges."""
    pieces: list[tuple[Period, date]] = []
    _cover(first, last, 0, pieces)
    pieces.sort(key=lambda piece: piece[1])
    return pieces


def _cover(first: date, last: date, level: int, pieces: list[tuple[Period, date]]) -> None:
    if first > last:
        return
    period = LARGEST_FIRST[level]
    if period is Period.DAY:
        day = first
        while day <= last:
            pieces.append((Period.DAY, day))
            day += timedelta(days=1)
        return
    start = period_start(period, first)
    if start < first:
        start = next_start(period, start)
    inner_first = start
    while start <= last and period_end(period, start) <= last:
        pieces.append((period, start))
        start = next_start(period, start)
    if start == inner_first:  # no whole period fits: try smaller ones over the whole range
        _cover(first, last, level + 1, pieces)
        return
    _cover(first, inner_first - timedelta(days=1), level + 1, pieces)
    _cover(start, last, level + 1, pieces)


def label(period: Period, start: date) -> str:
    """How a period is named in series and exports: 2025-03-14, 2025-W11, 2025-03, 2025-Q1, 2025."""
    if period is Period.DAY:
        return start.isoformat()
    if period is Period.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return f"{start.year}-{start.month:02d}"
    if period is Period.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def is_whole_months(first: date, last: date) -> bool:
    return first.day == 1 and (last + timedelta(days=1)).day == 1


def months_between(first: date, last: date) -> int:
    """How many calendar months [first, last] spans (both whole months)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1
