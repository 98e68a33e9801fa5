"""Viewers, spaces with known capacity, and uses written in bulk for the statistics tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from federation.access import Role, Viewer
from federation.db import Database
from federation.directory.models import Site
from federation.usage.models import UseKind, UseSource
from federation.usage.service import UseRecord, record_use
from tests.factories import make_site

COORDINATOR = Viewer(person_id=uuid.uuid4(), roles=frozenset({Role.COORDINATOR}))
COWORKER = Viewer(person_id=uuid.uuid4(), roles=frozenset({Role.COWORKER}))


def manager_of(*sites: Site) -> Viewer:
    return Viewer(
        person_id=uuid.uuid4(),
        roles=frozenset({Role.MANAGER, Role.COWORKER}),
        managed_site_ids=frozenset(site.id for site in sites),
    )


def hours(opens: str, closes: str, days: str = "MO TU WE TH FR") -> list[dict[str, str]]:
    return [{"day": day, "opens": opens, "closes": closes} for day in days.split()]


async def make_space(db: Database, desks: int = 10, **overrides: Any) -> Site:
    """A space open Monday to Friday, 9:00-18:00 (two half-days a weekday) unless told."""
    overrides.setdefault("opening_hours", hours("09:00", "18:00"))
    return await make_site(db, desks=desks, **overrides)


def weekdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() < 5
    ]


def use(
    site: Site,
    day: date,
    who: str,
    *,
    units: int = 1,
    kind: UseKind = UseKind.OPEN_SPACE,
    home: Site | None = None,
    homeless: bool = False,
) -> UseRecord:
    """A use by `who`; their home is the host unless `home` is given (or `homeless`)."""
    home_site_id = None if homeless else (home or site).id
    return UseRecord(site.id, day, kind, units, who, home_site_id, UseSource.SYNC)


async def record_all(db: Database, records: Iterable[UseRecord]) -> None:
    async with db.transaction() as session:
        for record in records:
            await record_use(session, record)


FULL_QUERY = """
query Stats($from: Date!, $to: Date!, $sites: [String!], $groupBy: StatsGrouping! = MONTH) {
  networkStats(from: $from, to: $to, sites: $sites, groupBy: $groupBy) {
    from to groupBy
    totals { uses activeCoworkers newMembers occupancyRate crossSiteVisits }
    previous {
      from to
      totals { uses activeCoworkers newMembers occupancyRate crossSiteVisits }
      changes { uses activeCoworkers newMembers occupancyRate crossSiteVisits }
    }
    series { period from to uses activeCoworkers occupancyRate }
    bySite {
      site { slug name }
      uses usesByKind { kind count } activeCoworkers suppressed occupancyRate
    }
    visits { fromSite { slug } toSite { slug } count suppressed }
  }
}
"""


def variables(first: str, last: str, **extra: Any) -> dict[str, Any]:
    return {"from": first, "to": last, **extra}
