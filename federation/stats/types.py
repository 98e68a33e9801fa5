"""Statistics GraphQL types. Each section of NetworkStats is computed only when asked for,
by one service call; spaces nest through the directory's loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

import strawberry

from federation.directory import loaders as directory_loaders
from federation.directory.types import Site
from federation.graphql.context import Info
from federation.stats import service
from federation.stats.events import EventCategoryFigures, EventFigures, events_by_category
from federation.usage import types as _usage_types  # noqa: F401  (registers UseKind)
from federation.usage.models import UseKind
from federation.usage.periods import Period

strawberry.enum(
    Period,
    name="StatsGrouping",
    description="Calendar periods of a series: days, ISO weeks (Monday first), months, "
    "quarters, years.",
)

T = TypeVar("T")


@dataclass(eq=False)
class Once(Generic[T]):
    """A value computed at most once per request, whichever resolver asks first."""

    compute: Callable[[], Awaitable[T]]
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _value: list[T] = field(default_factory=list)

    async def get(self) -> T:
        async with self._lock:
            if not self._value:
                self._value.append(await self.compute())
            return self._value[0]


@strawberry.type(description="How many uses of one kind.")
class UseKindCount:
    kind: UseKind
    count: int


@strawberry.type(description="Figures of the selection over the whole range; exact.")
class StatsTotals:
    uses: int = strawberry.field(
        description="Uses (DESIGN §8): half-days in the open space (a full day is two), "
        "office rentals, meeting-room rentals."
    )
    active_coworkers: int = strawberry.field(
        description="Different people (or pseudonymous memberships) with at least one use."
    )
    new_members: int = strawberry.field(description="Memberships that started in the range.")
    occupancy_rate: float | None = strawberry.field(
        description="Open-space desk half-days used / (desks x open half-days), as a ratio "
        "(0.42 = 42 %); null without desks or opening hours."
    )
    cross_site_visits: int = strawberry.field(
        description="Uses by people whose home space is not the host."
    )

    @classmethod
    def from_model(cls, row: service.Totals) -> StatsTotals:
        return cls(
            uses=row.uses,
            active_coworkers=row.active_coworkers,
            new_members=row.new_members,
            occupancy_rate=row.occupancy_rate,
            cross_site_visits=row.cross_site_visits,
        )


@strawberry.type(description="This range minus the previous one.")
class StatsChanges:
    uses: int
    active_coworkers: int
    new_members: int
    cross_site_visits: int
    occupancy_rate: float | None = strawberry.field(description="In rate points (0.05 = 5 points).")


@strawberry.type(
    description="The previous range of the same length: as many calendar months when the "
    "range is whole months, otherwise as many days."
)
class StatsComparison:
    from_: date = strawberry.field(name="from")
    to: date
    totals: StatsTotals
    changes: StatsChanges

    @classmethod
    def from_model(cls, row: service.Comparison) -> StatsComparison:
        c = row.changes
        return cls(
            from_=row.first,
            to=row.last,
            totals=StatsTotals.from_model(row.totals),
            changes=StatsChanges(
                uses=c.uses,
                active_coworkers=c.active_coworkers,
                new_members=c.new_members,
                cross_site_visits=c.cross_site_visits,
                occupancy_rate=c.occupancy_rate,
            ),
        )


@strawberry.type(description="One period of the series, cut to the range at either end.")
class StatsPeriod:
    period: str = strawberry.field(
        description="2025-03-14 (DAY), 2025-W11 (WEEK), 2025-03, 2025-Q1, 2025."
    )
    from_: date = strawberry.field(name="from")
    to: date
    uses: int
    active_coworkers: int
    occupancy_rate: float | None

    @classmethod
    def from_model(cls, row: service.PeriodFigures) -> StatsPeriod:
        return cls(
            period=row.label,
            from_=row.first,
            to=row.last,
            uses=row.uses,
            active_coworkers=row.active_coworkers,
            occupancy_rate=row.occupancy_rate,
        )


@strawberry.type(description="One space's figures over the range.")
class SiteStats:
    site: Site
    uses: int
    uses_by_kind: list[UseKindCount]
    active_coworkers: int | None = strawberry.field(
        description="Null when between 1 and 4 people: see `suppressed`."
    )
    suppressed: bool = strawberry.field(
        description="True when activeCoworkers is hidden because so few people could be "
        "singled out."
    )
    occupancy_rate: float | None

    @classmethod
    def from_model(cls, row: service.SiteFigures, site: Site) -> SiteStats:
        return cls(
            site=site,
            uses=row.uses,
            uses_by_kind=[UseKindCount(kind=k, count=n) for k, n in row.uses_by_kind.items()],
            active_coworkers=row.active_coworkers,
            suppressed=row.suppressed,
            occupancy_rate=row.occupancy_rate,
        )


@strawberry.type(description="Uses by people of one space (home) at another (host).")
class SiteVisits:
    from_site: Site
    to_site: Site
    count: int | None = strawberry.field(
        description="Uses; null when fewer than 5 different people made them."
    )
    suppressed: bool

    @classmethod
    def from_model(cls, row: service.VisitFigures, home: Site, host: Site) -> SiteVisits:
        return cls(from_site=home, to_site=host, count=row.uses, suppressed=row.suppressed)


@strawberry.type(
    description="Network statistics (DESIGN §8) over [from, to]: totals, a series, each "
    "space, the visit matrix, and the previous range for comparison."
)
class NetworkStats:
    from_: date = strawberry.field(name="from")
    to: date
    group_by: Period
    request: strawberry.Private[service.StatsRequest]
    capacities: strawberry.Private[Once[service.Capacities]]
    current: strawberry.Private[Once[service.Totals]]

    @classmethod
    def of(cls, info: Info, request: service.StatsRequest) -> NetworkStats:
        async def capacities() -> service.Capacities:
            async with info.context.reading() as session:
                return await service.load_capacities(session, request)

        capacity = Once(capacities)

        async def current() -> service.Totals:
            known = await capacity.get()
            async with info.context.reading() as session:
                return await service.totals(session, request, known)

        return cls(
            from_=request.first,
            to=request.last,
            group_by=request.grouping,
            request=request,
            capacities=capacity,
            current=Once(current),
        )

    @strawberry.field(description="Events by category: occurrences, registrations, attendance.")
    async def events(self, info: Info) -> EventFigures:
        async with info.context.reading() as session:
            rows = await events_by_category(session, self.request)
        return EventFigures(by_category=[EventCategoryFigures.from_model(r) for r in rows])

    @strawberry.field(description="The selection's figures over the whole range; exact.")
    async def totals(self) -> StatsTotals:
        return StatsTotals.from_model(await self.current.get())

    @strawberry.field(description="The same figures over the previous range, and the changes.")
    async def previous(self, info: Info) -> StatsComparison:
        capacities, current = await self.capacities.get(), await self.current.get()
        async with info.context.reading() as session:
            row = await service.previous(session, self.request, capacities, current)
        return StatsComparison.from_model(row)

    @strawberry.field(description="Every period of `groupBy` in the range, empty ones included.")
    async def series(self, info: Info) -> list[StatsPeriod]:
        capacities = await self.capacities.get()
        async with info.context.reading() as session:
            rows = await service.series(session, self.request, capacities)
        return [StatsPeriod.from_model(row) for row in rows]

    @strawberry.field(
        description="Each space you may see (all for a coordinator, your own for a manager), "
        "most used first, then by name; `first` keeps the top ones (a national network has "
        "thousands: the CSV export has them all)."
    )
    async def by_site(self, info: Info, first: int | None = None) -> list[SiteStats]:
        capacities = await self.capacities.get()
        async with info.context.reading() as session:
            rows = await service.by_site(session, self.request, capacities, first=first)
        sites = await _sites(info, [row.site_id for row in rows])
        return [SiteStats.from_model(row, sites[row.site_id]) for row in rows]

    @strawberry.field(
        description="The home -> host matrix of the spaces you may see, most used first; "
        "cells made by fewer than 5 people are suppressed and come last. `first` keeps the "
        "largest flows."
    )
    async def visits(self, info: Info, first: int | None = None) -> list[SiteVisits]:
        async with info.context.reading() as session:
            rows = await service.visits(session, self.request, first=first)
        sites = await _sites(
            info, [i for row in rows for i in (row.home_site_id, row.host_site_id)]
        )
        return [
            SiteVisits.from_model(row, sites[row.home_site_id], sites[row.host_site_id])
            for row in rows
        ]


async def _sites(info: Info, ids: list[int]) -> dict[int, Site]:
    """Spaces by id in one batched load (no resolver per row)."""
    unique = list(dict.fromkeys(ids))
    rows = await info.context.loader(directory_loaders.sites_by_id).load_many(unique)
    return {row.id: Site.from_model(row) for row in rows if row is not None}
