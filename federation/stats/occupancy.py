"""Capacity for the occupancy rate: desks x open half-days. Pure: no I/O.

A space's open half-days come from its opening hours (directory): a weekday on which it
opens before 12:00 and closes after 14:00 counts two half-days; a weekday on which it is
open otherwise (only a morning, only an afternoon, or only over lunch) counts one; a day
without opening hours counts none. Public holidays are not known to the hub and count as
open. A space counts from the day it joined the network, with its current desks.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NOON, TWO_PM = "12:00", "14:00"

Pattern = tuple[int, int, int, int, int, int, int]  # open half-days, Monday first


def half_days_by_weekday(opening_hours: Iterable[Mapping[str, Any]]) -> Pattern:
    """Open half-days on each weekday, from a space's opening hours."""
    mornings: set[str] = set()
    afternoons: set[str] = set()
    open_days: set[str] = set()
    for slot in opening_hours:
        day, opens, closes = (
            slot.get("day"),
            str(slot.get("opens", "")),
            str(slot.get("closes", "")),
        )
        if day not in WEEKDAYS or not opens or not closes or opens >= closes:
            continue
        open_days.add(day)
        if opens < NOON:
            mornings.add(day)
        if closes > TWO_PM:
            afternoons.add(day)
    counts = [
        2 if day in mornings and day in afternoons else 1 if day in open_days else 0
        for day in WEEKDAYS
    ]
    return (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6])


def open_half_days(pattern: Sequence[int], first: date, last: date) -> int:
    """Open half-days from `first` to `last` included, for a weekly pattern."""
    if first > last:
        return 0
    weeks, extra = divmod((last - first).days + 1, 7)
    start = first.weekday()
    return weeks * sum(pattern) + sum(pattern[(start + i) % 7] for i in range(extra))


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    site_id: int
    desks: int
    pattern: Pattern
    joined_at: date

    def desk_half_days(self, first: date, last: date) -> int:
        return self.desks * open_half_days(self.pattern, max(first, self.joined_at), last)


class Capacity:
    """Desk half-days of many spaces over any range, without a loop over every space:
    spaces are grouped by weekly pattern, with running totals of desks by joining date."""

    def __init__(self, sites: Iterable[SiteCapacity]) -> None:
        grouped: defaultdict[Pattern, list[SiteCapacity]] = defaultdict(list)
        for site in sites:
            if site.desks > 0 and any(site.pattern):
                grouped[site.pattern].append(site)
        self._groups: list[tuple[Pattern, list[date], list[int], list[SiteCapacity]]] = []
        for pattern, members in grouped.items():
            members.sort(key=lambda s: s.joined_at)
            running, total = [], 0
            for member in members:
                total += member.desks
                running.append(total)
            self._groups.append((pattern, [m.joined_at for m in members], running, members))

    def desk_half_days(self, first: date, last: date) -> int:
        total = 0
        for pattern, joined, running, members in self._groups:
            # Spaces that had joined by `first` count over the whole range...
            settled = bisect.bisect_right(joined, first)
            if settled:
                total += running[settled - 1] * open_half_days(pattern, first, last)
            # ...those that joined during it, from their joining day.
            for member in members[settled:]:
                if member.joined_at > last:
                    break
                total += member.desk_half_days(first, last)
        return total


def rate(used: int, capacity: int) -> float | None:
    """Occupancy as a ratio (0.42 is 42 %); None when there was no capacity to fill."""
    return round(used / capacity, 4) if capacity else None
