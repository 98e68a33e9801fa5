"""Network statistics (DESIGN §8), read from the usage rollups and the directory.

Every figure covers [first, last] exactly: the range is cut into whole calendar periods
(usage.periods.cover) and the rollup rows of those periods are added up; people are
counted from per-period counters when one period covers the range, and as the distinct
subjects of the periods' rows otherwise. Nothing here scans raw uses, and the number of
statements per figure does not grow with the range or the number of spaces.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Role, Viewer
from federation.db import Database
from federation.directory.models import Site
from federation.errors import BadUserInput, Forbidden
from federation.stats.occupancy import (
    Capacity,
    Pattern,
    SiteCapacity,
    half_days_by_weekday,
    rate,
)
from federation.usage.models import (
    ActiveCount,
    ActiveSubject,
    NewMembersByPeriod,
    UseKind,
    UsesByPeriod,
    VisitsByPeriod,
)
from federation.usage.periods import (
    Period,
    add_months,
    cover,
    is_whole_months,
    label,
    months_between,
    periods_between,
)
from federation.usage.rollups import ANY_HOME, NETWORK
from federation.usage.service import drain

SCOPE = "stats:read"
MAX_YEARS = 5
# A figure that counts people is shown only from this many: below, someone could be singled out.
SMALLEST_SHOWN = 5

Piece = tuple[Period, date]


# --- the request --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatsRequest:
    """A validated request and what the viewer may see of it."""

    first: date
    last: date
    grouping: Period
    # The spaces whose figures make the totals and series; None is the whole network.
    selection: tuple[int, ...] | None
    # The spaces listed in bySite and in the visit matrix; None is every space.
    shown: tuple[int, ...] | None
    # The selected spaces' capacities, read with their slugs (None for the whole network,
    # whose capacities come from the per-process cache).
    selected: Capacities | None = None

    @property
    def previous(self) -> tuple[date, date]:
        """The period of the same length just before: as many calendar months when the
        range is whole months, otherwise as many days."""
        if is_whole_months(self.first, self.last):
            months = months_between(self.first, self.last)
            return add_months(self.first, -months), self.first - timedelta(days=1)
        days = (self.last - self.first).days + 1
        return self.first - timedelta(days=days), self.first - timedelta(days=1)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_range(first: date, last: date, grouping: Period) -> None:
    if first > last:
        raise BadUserInput("`from` must not be after `to`", argument="from")
    if last >= add_years(first, MAX_YEARS):
        raise BadUserInput(f"a range covers at most {MAX_YEARS} years", argument="to")
    if grouping is Period.DAY and last >= add_years(first, 1):
        raise BadUserInput(
            "grouping by DAY covers at most one year; group by WEEK or MONTH", argument="groupBy"
        )


def stats_spaces(viewer: Viewer) -> frozenset[int] | None:
    """Which spaces' breakdowns a viewer may see: None for a coordinator (all of them), the
    spaces they manage (or their client acts for) otherwise; FORBIDDEN for anyone else."""
    viewer.require_scope(SCOPE)
    if viewer.is_coordinator:
        return None
    spaces = set(viewer.managed_site_ids) if Role.MANAGER in viewer.roles else set()
    if viewer.client_site_id is not None:
        spaces.add(viewer.client_site_id)
    if not spaces:
        raise Forbidden("network statistics are for coordinators and the managers of a space")
    return frozenset(spaces)


async def catch_up(db: Database, viewer: Viewer) -> None:
    """Statistics count every use committed before they are asked for: apply the usage
    queue first (the server also does every second). Only for those who may see them."""
    stats_spaces(viewer)
    await drain(db)


async def prepare(
    session: AsyncSession,
    viewer: Viewer,
    *,
    first: date,
    last: date,
    sites: Sequence[str] | None,
    grouping: Period,
) -> StatsRequest:
    """Check who asks and what for; the spaces to count and to list."""
    allowed = stats_spaces(viewer)
    check_range(first, last, grouping)
    selection: tuple[int, ...] | None = None
    selected: Capacities | None = None
    if sites is not None:
        if not sites:
            raise BadUserInput(
                "give at least one space in `sites`, or leave it out", argument="sites"
            )
        ids, selected = await _selected_sites(session, sites)
        if allowed is not None and not set(ids.values()) <= allowed:
            outside = sorted(slug for slug, site_id in ids.items() if site_id not in allowed)
            raise Forbidden(f"you may see the figures of your own spaces only, not {outside[0]!r}")
        selection = tuple(sorted(set(ids.values())))
    if allowed is None:
        shown = selection
    else:
        shown = tuple(sorted(set(selection) if selection is not None else allowed))
    return StatsRequest(first, last, grouping, selection, shown, selected)


async def _selected_sites(
    session: AsyncSession, slugs: Sequence[str]
) -> tuple[dict[str, int], Capacities]:
    """Slug -> id of the spaces asked for, and their capacities, in one statement;
    BAD_USER_INPUT naming the first unknown slug."""
    wanted = set(slugs)
    rows = (
        await session.execute(select(Site.slug, *_CAPACITY_COLUMNS).where(Site.slug.in_(wanted)))
    ).all()
    ids = {row[0]: row[1] for row in rows}
    missing = sorted(wanted - ids.keys())
    if missing:
        raise BadUserInput(f"unknown space {missing[0]!r}", argument="site")
    return ids, _capacities(tuple(row[1:]) for row in rows)


# --- capacity -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capacities:
    """Each counted space's capacity, and their sum over any range."""

    sites: dict[int, SiteCapacity]
    total: Capacity
    # Every space of the network by name, for bySite when it lists them all.
    names: dict[int, str] = field(default_factory=dict)
    # Spaces without desks or opening hours: their desk half-days are left out of the
    # occupancy of a group of spaces, since they bring no capacity to fill.
    uncounted: tuple[int, ...] = ()

    def of(self, request: StatsRequest, first: date, last: date) -> int:
        """The selection's desk half-days over [first, last]."""
        if request.selection is None:
            return self.total.desk_half_days(first, last)
        return sum(self.sites[s].desk_half_days(first, last) for s in request.selection)


# What a space's capacity is made of. Opening hours as text: thousands of spaces share a few
# dozen timetables, each parsed once.
_CAPACITY_COLUMNS = (
    Site.id,
    Site.desks,
    cast(Site.opening_hours, String),
    Site.joined_at,
    Site.name_key,
)


def _capacities(rows: Iterable[tuple[Any, ...]]) -> Capacities:
    sites: dict[int, SiteCapacity] = {}
    names: dict[int, str] = {}
    patterns: dict[str | None, Pattern] = {}
    for site_id, desks, hours, joined_at, name_key in rows:
        pattern = patterns.get(hours)
        if pattern is None:
            pattern = patterns[hours] = half_days_by_weekday(json.loads(hours) if hours else [])
        sites[site_id] = SiteCapacity(site_id, desks, pattern, joined_at)
        names[site_id] = name_key
    uncounted = tuple(
        sorted(s.site_id for s in sites.values() if not s.desks or not any(s.pattern))
    )
    return Capacities(sites, Capacity(sites.values()), names, uncounted)


# --- the network's capacities, cached per process -----------------------------------------
#
# Every space's desks and opening hours make the network's capacity: reading and parsing
# them all is the one part of the network figures whose cost grows with the number of
# spaces. They are kept per process (per engine), with a fingerprint of the `sites` table
# read in the same statement; each request reads the fingerprint again (one aggregate over
# the table, no row leaves the database) and reloads when it changed. The fingerprint
# covers every row version, not a timestamp: an edit is seen by the next request whatever
# the order in which concurrent edits commit.

Fingerprint = tuple[int, object]


def _fingerprint_query(dialect: str) -> Select[int, Any]:
    """(rows, digest) of the `sites` table, in one aggregate."""
    if dialect == "postgresql":
        # A row's xmin changes with every write of it: the sum of the rows' 64-bit hashes
        # of (id, xmin) changes with any insert, update or delete.
        version = func.hashtextextended(func.concat(Site.id, ":", literal_column("sites.xmin")), 0)
        return select(func.count(), func.sum(version)).select_from(Site)
    # SQLite has no row versions: the capacity columns themselves, in id order.
    ordered = select(*_CAPACITY_COLUMNS).order_by(Site.id).subquery()
    row: ColumnElement[str] = literal("")
    for column in ordered.c:
        row = row.concat(func.coalesce(cast(column, String), "")).concat("|")
    return select(func.count(), func.group_concat(row, "\n")).select_from(ordered)


_NETWORK_CAPACITIES: WeakKeyDictionary[Any, tuple[Fingerprint, Capacities]] = WeakKeyDictionary()


async def network_capacities(session: AsyncSession) -> Capacities:
    """Every space's capacity: from the process's cache while the `sites` table has not
    changed (one statement), read again otherwise (one more)."""
    engine = session.get_bind()
    dialect = engine.dialect.name
    fingerprint_query = _fingerprint_query(dialect)
    current = (await session.execute(fingerprint_query)).one()
    cached = _NETWORK_CAPACITIES.get(engine)
    if cached is not None and cached[0] == tuple(current):
        return cached[1]
    # The rows and their fingerprint in one statement, so in one snapshot.
    known = fingerprint_query.subquery()
    rows = (
        await session.execute(
            select(known.c[0], known.c[1], *_CAPACITY_COLUMNS).select_from(
                known.outerjoin(Site, true())
            )
        )
    ).all()
    fingerprint: Fingerprint = (rows[0][0], rows[0][1])
    capacities = _capacities(tuple(row[2:]) for row in rows if row[2] is not None)
    _NETWORK_CAPACITIES[engine] = (fingerprint, capacities)
    return capacities


async def load_capacities(session: AsyncSession, request: StatsRequest) -> Capacities:
    """The capacities the request counts: the selection's (read with their slugs) or the
    whole network's (cached)."""
    if request.selection is None:
        return await network_capacities(session)
    if request.selected is not None:
        return request.selected
    rows = await session.execute(select(*_CAPACITY_COLUMNS).where(Site.id.in_(request.selection)))
    return _capacities(tuple(row) for row in rows)


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    uses: int
    active_coworkers: int
    new_members: int
    cross_site_visits: int
    desk_half_days: int  # OPEN_SPACE uses: what occupancy counts
    capacity: int  # desks x open half-days

    @property
    def occupancy_rate(self) -> float | None:
        return rate(self.desk_half_days, self.capacity)


@dataclass(frozen=True, slots=True)
class Changes:
    """This period minus the previous one; the occupancy change is in rate points."""

    uses: int
    active_coworkers: int
    new_members: int
    cross_site_visits: int
    occupancy_rate: float | None


@dataclass(frozen=True, slots=True)
class Comparison:
    first: date
    last: date
    totals: Totals
    changes: Changes


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    label: str
    first: date
    last: date
    uses: int
    active_coworkers: int
    desk_half_days: int
    capacity: int

    @property
    def occupancy_rate(self) -> float | None:
        return rate(self.desk_half_days, self.capacity)


@dataclass(frozen=True, slots=True)
class SiteFigures:
    site_id: int
    uses_by_kind: dict[UseKind, int]
    # None when suppressed: between 1 and SMALLEST_SHOWN - 1 people.
    active_coworkers: int | None
    desk_half_days: int
    capacity: int

    @property
    def uses(self) -> int:
        return sum(self.uses_by_kind.values())

    @property
    def suppressed(self) -> bool:
        return self.active_coworkers is None

    @property
    def occupancy_rate(self) -> float | None:
        return rate(self.desk_half_days, self.capacity)


@dataclass(frozen=True, slots=True)
class VisitFigures:
    home_site_id: int
    host_site_id: int
    # Uses by people of the home space at the host; None when fewer than SMALLEST_SHOWN
    # different people made them.
    uses: int | None

    @property
    def suppressed(self) -> bool:
        return self.uses is None


def shown_people(count: int) -> int | None:
    """A count of people as it may be shown: none is shown as 0, 1-4 are suppressed."""
    return None if 0 < count < SMALLEST_SHOWN else count


def _scope(request: StatsRequest) -> list[int]:
    return [NETWORK] if request.selection is None else list(request.selection)


def _in_pieces(period: Any, starts_on: Any, pieces: Collection[Piece]) -> ColumnElement[bool]:
    return tuple_(period, starts_on).in_(sorted(pieces))


async def totals(
    session: AsyncSession,
    request: StatsRequest,
    capacities: Capacities,
    *,
    first: date | None = None,
    last: date | None = None,
) -> Totals:
    """The selection's totals over the request's range (or another one, for `previous`):
    one statement."""
    first, last = first or request.first, last or request.last
    pieces = cover(first, last)
    scope = _scope(request)

    def total(column: Any, table: Any, *conditions: ColumnElement[bool]) -> Any:
        return (
            select(func.coalesce(func.sum(column), 0))
            .where(table.site_id.in_(scope), _in_pieces(table.period, table.starts_on, pieces))
            .where(*conditions)
            .scalar_subquery()
        )

    row = (
        await session.execute(
            select(
                total(UsesByPeriod.uses, UsesByPeriod),
                total(UsesByPeriod.uses, UsesByPeriod, UsesByPeriod.kind == UseKind.OPEN_SPACE),
                total(NewMembersByPeriod.members, NewMembersByPeriod),
                total(VisitsByPeriod.uses, VisitsByPeriod, VisitsByPeriod.home_site_id == ANY_HOME),
                _open_space_at(capacities.uncounted, pieces),
                _people_in(scope, pieces).scalar_subquery(),
            )
        )
    ).one()
    return Totals(
        uses=int(row[0]),
        active_coworkers=int(row[5] or 0),
        new_members=int(row[2]),
        cross_site_visits=int(row[3]),
        desk_half_days=int(row[1]) - int(row[4]),
        capacity=capacities.of(request, first, last),
    )


def _open_space_at(site_ids: Sequence[int], pieces: Collection[Piece]) -> Any:
    """Open-space uses at the given spaces over the pieces (a scalar subquery)."""
    return (
        select(func.coalesce(func.sum(UsesByPeriod.uses), 0))
        .where(
            UsesByPeriod.site_id.in_(site_ids),
            UsesByPeriod.kind == UseKind.OPEN_SPACE,
            _in_pieces(UsesByPeriod.period, UsesByPeriod.starts_on, pieces),
        )
        .scalar_subquery()
    )


async def previous(
    session: AsyncSession, request: StatsRequest, capacities: Capacities, current: Totals
) -> Comparison:
    first, last = request.previous
    before = await totals(session, request, capacities, first=first, last=last)
    now_rate, then_rate = current.occupancy_rate, before.occupancy_rate
    return Comparison(
        first,
        last,
        before,
        Changes(
            uses=current.uses - before.uses,
            active_coworkers=current.active_coworkers - before.active_coworkers,
            new_members=current.new_members - before.new_members,
            cross_site_visits=current.cross_site_visits - before.cross_site_visits,
            occupancy_rate=(
                round(now_rate - then_rate, 4)
                if now_rate is not None and then_rate is not None
                else None
            ),
        ),
    )


async def series(
    session: AsyncSession, request: StatsRequest, capacities: Capacities
) -> list[PeriodFigures]:
    """One entry per period of the grouping in the range, empty ones included; the first
    and last are cut to the range, so the entries add up to the totals. One statement:
    uses by piece and kind, the open-space uses of spaces without capacity, and the people
    of each period (a counter per whole period, a distinct count for a cut one), as the
    parts of one UNION ALL told apart by their first column."""
    periods = list(periods_between(request.grouping, request.first, request.last))
    covers = [cover(first, last) for _, first, last in periods]
    pieces = {piece for pieces in covers for piece in pieces}
    scope = _scope(request)
    nothing: ColumnElement[Any] = literal_column("NULL")
    kind_text: Any = cast(UsesByPeriod.kind, String)
    parts: list[Select[Any]] = [
        select(
            literal("uses"),
            literal(0),
            UsesByPeriod.period,
            UsesByPeriod.starts_on,
            kind_text,
            func.sum(UsesByPeriod.uses),
        )
        .where(
            UsesByPeriod.site_id.in_(scope),
            _in_pieces(UsesByPeriod.period, UsesByPeriod.starts_on, pieces),
        )
        .group_by(UsesByPeriod.period, UsesByPeriod.starts_on, UsesByPeriod.kind)
    ]
    if capacities.uncounted:
        parts.append(
            select(
                literal("uncounted"),
                literal(0),
                UsesByPeriod.period,
                UsesByPeriod.starts_on,
                nothing,
                func.sum(UsesByPeriod.uses),
            )
            .where(
                UsesByPeriod.site_id.in_(capacities.uncounted),
                UsesByPeriod.kind == UseKind.OPEN_SPACE,
                _in_pieces(UsesByPeriod.period, UsesByPeriod.starts_on, pieces),
            )
            .group_by(UsesByPeriod.period, UsesByPeriod.starts_on)
        )
    whole = {covers[i][0] for i, pieces_of in enumerate(covers) if len(pieces_of) == 1}
    if whole:
        parts.append(_people_by_piece(scope, whole))
    # Only the first and last periods of a series can be cut by the range.
    ragged = [i for i, pieces_of in enumerate(covers) if len(pieces_of) > 1]
    for i in ragged:
        parts.append(
            select(
                literal("ragged"),
                literal(i),
                nothing,
                nothing,
                nothing,
                _people_in(scope, covers[i]).scalar_subquery(),
            )
        )
    uses: defaultdict[Piece, int] = defaultdict(int)
    open_space: defaultdict[Piece, int] = defaultdict(int)
    people_by_piece: dict[Piece, int] = {}
    people_cut: dict[int, int] = {}
    for part, index, period, starts_on, kind, value in await session.execute(union_all(*parts)):
        count = int(value or 0)
        if part == "uses":
            piece = (Period(period), _day(starts_on))
            uses[piece] += count
            if kind == UseKind.OPEN_SPACE.value:
                open_space[piece] += count
        elif part == "uncounted":
            open_space[(Period(period), _day(starts_on))] -= count
        elif part == "people":
            people_by_piece[(Period(period), _day(starts_on))] = count
        else:
            people_cut[int(index)] = count
    figures: list[PeriodFigures] = []
    for i, ((start, first, last), pieces_of) in enumerate(zip(periods, covers, strict=True)):
        active = (
            people_by_piece.get(pieces_of[0], 0) if len(pieces_of) == 1 else people_cut.get(i, 0)
        )
        figures.append(
            PeriodFigures(
                label=label(request.grouping, start),
                first=first,
                last=last,
                uses=sum(uses[piece] for piece in pieces_of),
                active_coworkers=active,
                desk_half_days=sum(open_space[piece] for piece in pieces_of),
                capacity=capacities.of(request, first, last),
            )
        )
    return figures


def _day(value: date | str) -> date:
    """A date from a UNION's column (SQLite hands dates back as text there)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


async def by_site(
    session: AsyncSession,
    request: StatsRequest,
    capacities: Capacities,
    *,
    first: int | None = None,
) -> list[SiteFigures]:
    """Each space the viewer may see, most used first (then by name), or the `first` of
    them; people suppressed below 5."""
    pieces = cover(request.first, request.last)
    listed = list(request.shown) if request.shown is not None else list(capacities.sites)

    def of_sites(column: Any, chosen: Sequence[int] | None) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = (
            column.in_(chosen) if chosen is not None else column != NETWORK
        )
        return condition

    by_kind: defaultdict[int, dict[UseKind, int]] = defaultdict(dict)
    query = (
        select(UsesByPeriod.site_id, UsesByPeriod.kind, func.sum(UsesByPeriod.uses))
        .where(
            of_sites(UsesByPeriod.site_id, request.shown),
            _in_pieces(UsesByPeriod.period, UsesByPeriod.starts_on, pieces),
        )
        .group_by(UsesByPeriod.site_id, UsesByPeriod.kind)
    )
    for site_id, kind, count in await session.execute(query):
        by_kind[site_id][kind] = int(count)
    listed.sort(key=lambda s: (-sum(by_kind.get(s, {}).values()), capacities.names.get(s, ""), s))
    chosen: Sequence[int] | None = request.shown
    if first is not None:
        listed = listed[: _check_first(first)]
        chosen = listed

    if len(pieces) == 1:  # the counters of its stripes
        counted = (
            select(ActiveCount.site_id, func.sum(ActiveCount.people))
            .where(
                of_sites(ActiveCount.site_id, chosen),
                ActiveCount.home_site_id == ANY_HOME,
                _in_pieces(ActiveCount.period, ActiveCount.starts_on, pieces),
            )
            .group_by(ActiveCount.site_id)
        )
    else:
        counted = (
            select(ActiveSubject.site_id, func.count(ActiveSubject.subject.distinct()))
            .where(
                of_sites(ActiveSubject.site_id, chosen),
                ActiveSubject.home_site_id == ANY_HOME,
                _in_pieces(ActiveSubject.period, ActiveSubject.starts_on, pieces),
            )
            .group_by(ActiveSubject.site_id)
        )
    people = {site_id: int(count) for site_id, count in await session.execute(counted)}
    figures = []
    for site_id in listed:
        kinds = by_kind.get(site_id, {})
        capacity = capacities.sites.get(site_id)
        figures.append(
            SiteFigures(
                site_id=site_id,
                uses_by_kind={kind: kinds.get(kind, 0) for kind in UseKind},
                active_coworkers=shown_people(people.get(site_id, 0)),
                desk_half_days=kinds.get(UseKind.OPEN_SPACE, 0),
                capacity=capacity.desk_half_days(request.first, request.last) if capacity else 0,
            )
        )
    return figures


async def visits(
    session: AsyncSession, request: StatsRequest, *, first: int | None = None
) -> list[VisitFigures]:
    """The home -> host matrix: uses by people of one space at another, most first (or the
    `first` of them); a cell made by fewer than 5 different people is suppressed (and
    listed last)."""
    pieces = cover(request.first, request.last)

    def touching(host: Any, home: Any) -> list[ColumnElement[bool]]:
        conditions = [host != NETWORK, home != ANY_HOME]
        if request.shown is not None:
            conditions.append(or_(host.in_(request.shown), home.in_(request.shown)))
        return conditions

    cells: Select[int, int, int] = (
        select(VisitsByPeriod.site_id, VisitsByPeriod.home_site_id, func.sum(VisitsByPeriod.uses))
        .where(
            *touching(VisitsByPeriod.site_id, VisitsByPeriod.home_site_id),
            _in_pieces(VisitsByPeriod.period, VisitsByPeriod.starts_on, pieces),
        )
        .group_by(VisitsByPeriod.site_id, VisitsByPeriod.home_site_id)
    )
    counts = {(host, home): int(n) for host, home, n in await session.execute(cells)}
    if len(pieces) == 1:  # the counters of its stripes
        visitors_query: Select[int, int, int] = (
            select(ActiveCount.site_id, ActiveCount.home_site_id, func.sum(ActiveCount.people))
            .where(
                *touching(ActiveCount.site_id, ActiveCount.home_site_id),
                _in_pieces(ActiveCount.period, ActiveCount.starts_on, pieces),
            )
            .group_by(ActiveCount.site_id, ActiveCount.home_site_id)
        )
    else:
        visitors_query = (
            select(
                ActiveSubject.site_id,
                ActiveSubject.home_site_id,
                func.count(ActiveSubject.subject.distinct()),
            )
            .where(
                *touching(ActiveSubject.site_id, ActiveSubject.home_site_id),
                _in_pieces(ActiveSubject.period, ActiveSubject.starts_on, pieces),
            )
            .group_by(ActiveSubject.site_id, ActiveSubject.home_site_id)
        )
    visitors = {(host, home): int(n) for host, home, n in await session.execute(visitors_query)}
    figures = [
        VisitFigures(
            home_site_id=home,
            host_site_id=host,
            uses=uses if visitors.get((host, home), 0) >= SMALLEST_SHOWN else None,
        )
        for (host, home), uses in counts.items()
    ]
    figures.sort(key=lambda v: (v.suppressed, -(v.uses or 0), v.home_site_id, v.host_site_id))
    return figures if first is None else figures[: _check_first(first)]


def _check_first(first: int) -> int:
    if first < 0:
        raise BadUserInput("`first` cannot be negative", argument="first")
    return first


def _people_in(scope: list[int], pieces: Sequence[Piece]) -> Select[Any]:
    """Distinct people active over the pieces, in the scope's spaces (one value): the
    counters (one per stripe) when one period of one scope covers it, distinct subjects
    otherwise."""
    if len(pieces) == 1 and len(scope) == 1:
        return select(func.coalesce(func.sum(ActiveCount.people), 0)).where(
            ActiveCount.site_id == scope[0],
            ActiveCount.home_site_id == ANY_HOME,
            _in_pieces(ActiveCount.period, ActiveCount.starts_on, pieces),
        )
    return select(func.count(ActiveSubject.subject.distinct())).where(
        ActiveSubject.site_id.in_(scope),
        ActiveSubject.home_site_id == ANY_HOME,
        _in_pieces(ActiveSubject.period, ActiveSubject.starts_on, pieces),
    )


def _people_by_piece(scope: list[int], pieces: Collection[Piece]) -> Select[Any]:
    """("people", 0, period, starts_on, NULL, people) for each whole period."""
    nothing: ColumnElement[Any] = literal_column("NULL")
    if len(scope) == 1:  # the counters of the stripes
        return (
            select(
                literal("people"),
                literal(0),
                ActiveCount.period,
                ActiveCount.starts_on,
                nothing,
                func.sum(ActiveCount.people),
            )
            .where(
                ActiveCount.site_id == scope[0],
                ActiveCount.home_site_id == ANY_HOME,
                _in_pieces(ActiveCount.period, ActiveCount.starts_on, pieces),
            )
            .group_by(ActiveCount.period, ActiveCount.starts_on)
        )
    return (
        select(
            literal("people"),
            literal(0),
            ActiveSubject.period,
            ActiveSubject.starts_on,
            nothing,
            func.count(ActiveSubject.subject.distinct()),
        )
        .where(
            ActiveSubject.site_id.in_(scope),
            ActiveSubject.home_site_id == ANY_HOME,
            _in_pieces(ActiveSubject.period, ActiveSubject.starts_on, pieces),
        )
        .group_by(ActiveSubject.period, ActiveSubject.starts_on)
    )


# --- everything at once (exports) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkFigures:
    request: StatsRequest
    totals: Totals
    previous: Comparison
    series: list[PeriodFigures]
    by_site: list[SiteFigures]
    visits: list[VisitFigures]


async def network_stats(session: AsyncSession, request: StatsRequest) -> NetworkFigures:
    """Every section of the request's statistics (what the CSV export writes)."""
    capacities = await load_capacities(session, request)
    current = await totals(session, request, capacities)
    return NetworkFigures(
        request=request,
        totals=current,
        previous=await previous(session, request, capacities, current),
        series=await series(session, request, capacities),
        by_site=await by_site(session, request, capacities),
        visits=await visits(session, request),
    )
