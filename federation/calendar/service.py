"""Calendar use cases: publish events, list their occurrences, register with a waiting list,
and the entry points the sync domain calls for a space's own events."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Role, Viewer
from federation.calendar import ics, recurrence
from federation.calendar.models import (
    AttendanceMode,
    Audience,
    Category,
    Event,
    EventOverride,
    EventSource,
    EventStatus,
    FeedToken,
    Occurrence,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from federation.calendar.recurrence import DEFAULT_TIMEZONE, Override, Series
from federation.directory.models import Site
from federation.directory.regions import canonical_region
from federation.errors import BadUserInput, Conflict, Forbidden, NotFound, Refused
from federation.kit.clock import utcnow
from federation.kit.pagination import Page, PageRequest, decode_cursor, page_of
from federation.kit.text import fold, like_contains

MAX_RANGE_DAYS = 366
KEEP: Any = object()  # "leave this as it is", for optional arguments where None means something
# Occurrences exist this far ahead; `federation calendar extend` rolls it forward.
HORIZON_DAYS = 400
ACCESSIBILITY_CODES = ("hi", "vi", "pi", "mi", "ii")  # OpenAgenda: hearing, visual, ...
MAX_KEYWORDS = 20

# What, when it changes, a calendar client must show its user again (SEQUENCE + 1).
_SIGNIFICANT = (
    "title",
    "starts_at",
    "ends_at",
    "timezone",
    "all_day",
    "rrule",
    "exdates",
    "rdates",
    "overrides",
    "location_site_id",
    "location_address",
    "status",
    "attendance_mode",
    "online_url",
)


# --- what an event says ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventData:
    """Everything an organiser says about an event, checked by `check_event_data`."""

    title: str
    category: Category
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    timezone: str = DEFAULT_TIMEZONE
    all_day: bool = False
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    rdates: tuple[datetime, ...] = ()
    overrides: tuple[Override, ...] = ()
    location_site_id: int | None = None
    location_address: str | None = None
    audience: Audience = Audience.PUBLIC
    attendance_mode: AttendanceMode = AttendanceMode.OFFLINE
    online_url: str | None = None
    capacity: int | None = None
    price: str | None = None
    registration_mode: RegistrationMode = RegistrationMode.HUB
    registration_links: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    keywords: tuple[str, ...] = ()
    status: EventStatus = EventStatus.CONFIRMED
    url: str | None = None

    def changed(self, **changes: Any) -> EventData:
        return dataclasses.replace(self, **changes)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise BadUserInput(
            f"`{name}` needs a time zone offset (e.g. 2026-12-01T18:00:00+01:00)", field=name
        )
    return value.astimezone(UTC)


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadUserInput(f"`{name}` is required", field=name)
        return None
    value = value.strip()
    if required and not value:
        raise BadUserInput(f"`{name}` must not be empty", field=name)
    if len(value) > limit:
        raise BadUserInput(f"`{name}` is longer than {limit} characters", field=name)
    return value or None


def _url(value: str | None, name: str) -> str | None:
    value = _text(value, name, 500)
    if value is not None and not value.startswith(("https://", "http://", "mailto:", "tel:")):
        raise BadUserInput(f"`{name}` must be an http(s), mailto: or tel: link", field=name)
    return value


def check_event_data(data: EventData) -> EventData:
    """The data, normalised; BAD_USER_INPUT naming the first field that is wrong."""
    tz = recurrence.zone(data.timezone)
    starts_at, ends_at = _aware(data.starts_at, "startsAt"), _aware(data.ends_at, "endsAt")
    if data.all_day:
        # An all-day event runs from local midnight to local midnight.
        first = starts_at.astimezone(tz).date()
        last = max(ends_at.astimezone(tz).date(), first + timedelta(days=1))
        starts_at = datetime.combine(first, time(), tz).astimezone(UTC)
        ends_at = datetime.combine(last, time(), tz).astimezone(UTC)
    if ends_at < starts_at:
        raise BadUserInput("`endsAt` is before `startsAt`", field="endsAt")
    if ends_at - starts_at > timedelta(days=31):
        raise BadUserInput("an occurrence lasts at most 31 days (`endsAt`)", field="endsAt")
    if data.capacity is not None and data.capacity < 0:
        raise BadUserInput("`capacity` must be 0 or more", field="capacity")
    if data.age_min is not None and data.age_min < 0:
        raise BadUserInput("`ageRange.min` must be 0 or more", field="ageRange")
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        raise BadUserInput("`ageRange.min` is above `ageRange.max`", field="ageRange")
    unknown = sorted(set(data.accessibility) - set(ACCESSIBILITY_CODES))
    if unknown:
        raise BadUserInput(
            f"`accessibility` codes are {', '.join(ACCESSIBILITY_CODES)} (got {unknown[0]!r})",
            field="accessibility",
        )
    if len(data.keywords) > MAX_KEYWORDS:
        raise BadUserInput(f"at most {MAX_KEYWORDS} `keywords`", field="keywords")
    if data.attendance_mode is not AttendanceMode.OFFLINE and not data.online_url:
        raise BadUserInput("an ONLINE or MIXED event needs an `onlineUrl`", field="onlineUrl")
    if data.location_site_id is not None and data.location_address:
        raise BadUserInput("`location` is a space or an address, not both", field="location")
    rrule = recurrence.normalise_rrule(data.rrule) if data.rrule else None
    overrides = tuple(
        Override(
            _aware(o.recurrence_id, "overrides.recurrenceId"),
            _aware(o.starts_at, "overrides.startsAt"),
            _aware(o.ends_at, "overrides.endsAt"),
            _text(o.title, "overrides.title", 300),
            o.status,
        )
        for o in data.overrides
    )
    for override in overrides:
        if override.ends_at < override.starts_at:
            raise BadUserInput(
                "`overrides.endsAt` is before `overrides.startsAt`", field="overrides"
            )
        if override.status is not None and override.status not in EventStatus.__members__:
            raise BadUserInput(
                f"`overrides.status` {override.status!r} is unknown", field="overrides"
            )
    return dataclasses.replace(
        data,
        title=_text(data.title, "title", 300, required=True) or "",
        description=(data.description or "").strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        rrule=rrule,
        exdates=tuple(sorted({_aware(d, "exdates") for d in data.exdates})),
        rdates=tuple(sorted({_aware(d, "rdates") for d in data.rdates})),
        overrides=tuple(sorted(overrides, key=lambda o: o.recurrence_id)),
        location_address=_text(data.location_address, "location.address", 300),
        online_url=_url(data.online_url, "onlineUrl"),
        price=_text(data.price, "price", 200),
        registration_links=tuple(
            link
            for link in (_url(x, "registration.links") for x in data.registration_links)
            if link
        ),
        keywords=tuple(dict.fromkeys(k.strip() for k in data.keywords if k.strip())),
        accessibility=tuple(sorted(set(data.accessibility))),
        url=_url(data.url, "url"),
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def data_of(event: Event, overrides: Sequence[EventOverride]) -> EventData:
    """What the stored event says, as EventData (to change a few fields of it)."""
    return EventData(
        title=event.title,
        category=event.category,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        description=event.description,
        timezone=event.timezone,
        all_day=event.all_day,
        rrule=event.rrule,
        exdates=tuple(_from_iso(d) for d in event.exdates),
        rdates=tuple(_from_iso(d) for d in event.rdates),
        overrides=tuple(
            Override(
                o.recurrence_id,
                o.starts_at,
                o.ends_at,
                o.title,
                o.status.value if o.status is not None else None,
            )
            for o in sorted(overrides, key=lambda o: o.recurrence_id)
        ),
        location_site_id=event.location_site_id,
        location_address=event.location_address,
        audience=event.audience,
        attendance_mode=event.attendance_mode,
        online_url=event.online_url,
        capacity=event.capacity,
        price=event.price,
        registration_mode=event.registration_mode,
        registration_links=tuple(event.registration_links),
        accessibility=tuple(event.accessibility),
        age_min=event.age_min,
        age_max=event.age_max,
        keywords=tuple(event.keywords),
        status=event.status,
        url=event.url,
    )


def series_of(event: Event, overrides: Sequence[EventOverride]) -> Series:
    data = data_of(event, overrides)
    return Series(
        data.starts_at,
        data.ends_at,
        data.timezone,
        data.rrule,
        data.exdates,
        data.rdates,
        data.overrides,
    )


# --- who sees and who edits -----------------------------------------------------------


def member_site_ids(viewer: Viewer) -> set[int]:
    ids = set(viewer.managed_site_ids)
    if viewer.home_site_id is not None:
        ids.add(viewer.home_site_id)
    if viewer.client_site_id is not None:
        ids.add(viewer.client_site_id)
    return ids


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """PUBLIC for anyone; NETWORK for any signed-in person or space; MEMBERS for the people
    of the organising space (and network-wide MEMBERS events for any member).

    Said of occurrences, on their copies of the event's audience and space (see
    `Occurrence`): lists and feeds read the occurrences alone."""
    if viewer.is_coordinator:
        return true()
    if viewer.is_anonymous:
        return Occurrence.audience == Audience.PUBLIC
    mine = member_site_ids(viewer)
    members: ColumnElement[bool] = Occurrence.site_id.is_(None)
    if mine:
        members = or_(members, Occurrence.site_id.in_(sorted(mine)))
    return or_(
        Occurrence.audience.in_([Audience.PUBLIC, Audience.NETWORK]),
        and_(Occurrence.audience == Audience.MEMBERS, members),
    )


def can_see(viewer: Viewer, event: Event) -> bool:
    if event.audience is Audience.PUBLIC or viewer.is_coordinator:
        return True
    if viewer.is_anonymous:
        return False
    if event.audience is Audience.NETWORK or event.site_id is None:
        return True
    return event.site_id in member_site_ids(viewer)


def require_editor(viewer: Viewer, site_id: int | None) -> None:
    """A manager of the space; a coordinator for any event, and only they for network ones."""
    if viewer.is_coordinator:
        return
    if site_id is None:
        raise Forbidden("only the network's coordinators publish network events")
    if not viewer.manages(site_id):
        raise Forbidden("only this space's managers can do this")


# --- listing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventFilter:
    site: str | None = None
    region: str | None = None
    category: Category | None = None
    audience: Audience | None = None
    search: str | None = None


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "from"), _aware(end, "to")
    if start > end:
        raise BadUserInput("`from` is after `to`", argument="from")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise BadUserInput(f"the range spans more than {MAX_RANGE_DAYS} days", argument="to")
    return start, end


def _occurrence_conditions(
    viewer: Viewer, filters: EventFilter, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    """Occurrences starting in [start, end) that pass the filters but `search`: all on
    `event_occurrences` alone, one range of `ix_event_occurrences_month`."""
    conditions: list[ColumnElement[bool]] = [
        Occurrence.starts_at >= start,
        Occurrence.starts_at < end,
        visible_to(viewer),
    ]
    if filters.site:
        site_id = select(Site.id).where(Site.slug == filters.site).scalar_subquery()
        conditions.append(Occurrence.site_id == site_id)
    if filters.region:
        region = canonical_region(filters.region)
        conditions.append(Occurrence.site_id.in_(select(Site.id).where(Site.region == region)))
    if filters.category is not None:
        conditions.append(Occurrence.category == filters.category)
    if filters.audience is not None:
        conditions.append(Occurrence.audience == filters.audience)
    return conditions


def _search_conditions(filters: EventFilter) -> list[ColumnElement[bool]]:
    """`search`, the one filter that reads the event itself (its folded text)."""
    if not filters.search:
        return []
    return [
        Event.search_text.like(like_contains(word), escape="\\")
        for word in fold(filters.search).split()[:8]
    ]


async def list_occurrences(
    session: AsyncSession,
    viewer: Viewer,
    *,
    start: datetime,
    end: datetime,
    filters: EventFilter,
    page: PageRequest,
) -> Page[tuple[Occurrence, Event]]:
    """Occurrences starting in [start, end) that the viewer may see, by start."""
    start, end = check_range(start, end)
    conditions = _occurrence_conditions(viewer, filters, start, end)
    searched = _search_conditions(filters)
    query = (
        select(Occurrence, Event)
        .join(Event, Event.id == Occurrence.event_id)
        .where(*conditions, *searched)
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    if page.after:
        when, occurrence_id = decode_cursor(page.after, types=(str, int))
        try:
            after = datetime.fromisoformat(when)
        except ValueError:
            raise BadUserInput("`after` is a cursor from another list", argument="after") from None
        query = query.where(
            tuple_(Occurrence.starts_at, Occurrence.id) > tuple_(after, occurrence_id)
        )
    rows = [(o, e) for o, e in (await session.execute(query.limit(page.first + 1)))]

    async def count(s: AsyncSession) -> int:
        # Without `search`, no join: an index-only count over the range.
        counted = select(func.count()).select_from(Occurrence).where(*conditions)
        if searched:
            counted = counted.join(Event, Event.id == Occurrence.event_id).where(*searched)
        return await s.scalar(counted) or 0

    return page_of(rows, page, key=lambda row: (_iso(row[0].starts_at), row[0].id), count=count)


def _occurrence_id(text: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise NotFound(f"no event {text!r}") from None
    if not 0 < value < 2**63:
        raise NotFound(f"no event {text!r}")
    return value


async def get_occurrence(
    session: AsyncSession, viewer: Viewer, occurrence_id: str, *, for_update: bool = False
) -> tuple[Occurrence, Event]:
    """The occurrence and its event; NOT_FOUND if there is none or the viewer may not see it."""
    query = (
        select(Occurrence, Event)
        .join(Event, Event.id == Occurrence.event_id)
        .where(Occurrence.id == _occurrence_id(occurrence_id))
    )
    row = (await session.execute(query)).first()
    if row is None or not can_see(viewer, row[1]):
        raise NotFound(f"no event {occurrence_id!r}")
    return row


# --- writing events ---------------------------------------------------------------------


async def _overrides_of(session: AsyncSession, event_id: int) -> list[EventOverride]:
    return list(
        await session.scalars(select(EventOverride).where(EventOverride.event_id == event_id))
    )


def _search_text(data: EventData) -> str:
    return fold(" ".join([data.title, data.description, *data.keywords]))


def _occurrence_status(data: EventData, instance: recurrence.Instance) -> EventStatus:
    if data.status is EventStatus.CANCELLED:
        return EventStatus.CANCELLED
    if instance.status is not None:
        return EventStatus(instance.status)
    return data.status


async def _write(
    session: AsyncSession,
    event: Event,
    data: EventData,
    old: EventData | None,
    *,
    now: datetime,
    moved: bool = False,
) -> bool:
    """Store `data` on `event` (new or not) and rematerialise its occurrences.
    False if nothing changed (`moved`: the event's space changed)."""
    if old is not None and old == data and not moved:
        return False
    new = old is None and event not in session
    for name in (
        "title",
        "category",
        "starts_at",
        "ends_at",
        "description",
        "timezone",
        "all_day",
        "rrule",
        "location_site_id",
        "location_address",
        "audience",
        "attendance_mode",
        "online_url",
        "capacity",
        "price",
        "registration_mode",
        "age_min",
        "age_max",
        "status",
        "url",
    ):
        setattr(event, name, getattr(data, name))
    event.exdates = [_iso(d) for d in data.exdates]
    event.rdates = [_iso(d) for d in data.rdates]
    event.registration_links = list(data.registration_links)
    event.accessibility = list(data.accessibility)
    event.keywords = list(data.keywords)
    event.search_text = _search_text(data)
    # iCalendar stamps have whole seconds: each revision gets a later one than the last.
    stamp = now.astimezone(UTC).replace(microsecond=0)
    event.revised_at = stamp if new else max(stamp, event.revised_at + timedelta(seconds=1))
    if old is not None and (
        moved or any(getattr(old, n) != getattr(data, n) for n in _SIGNIFICANT)
    ):
        event.sequence += 1
    event.materialised_until = max(
        now + timedelta(days=HORIZON_DAYS), data.starts_at + timedelta(days=1)
    )
    if new:
        session.add(event)
        await session.flush()
    else:
        await session.execute(delete(EventOverride).where(EventOverride.event_id == event.id))
    overrides = [
        EventOverride(
            event_id=event.id,
            recurrence_id=o.recurrence_id,
            starts_at=o.starts_at,
            ends_at=o.ends_at,
            title=o.title,
            status=EventStatus(o.status) if o.status else None,
        )
        for o in data.overrides
    ]
    session.add_all(overrides)
    await materialise(session, event, data, until=event.materialised_until)
    await render_ical(session, event, overrides)
    return True


async def render_ical(
    session: AsyncSession, event: Event, overrides: Sequence[EventOverride]
) -> None:
    """Store the event's VEVENTs as the feeds publish them (see Event.ical)."""
    await session.flush()
    ids = sorted({i for i in (event.site_id, event.location_site_id) if i is not None})
    sites = {s.id: s for s in await session.scalars(select(Site).where(Site.id.in_(ids)))}
    event.ical = ics.to_ical(ics.series_components(event, overrides, sites)).decode()


async def materialise(
    session: AsyncSession, event: Event, data: EventData, *, until: datetime
) -> None:
    """Make the stored occurrences those the rule gives up to `until`. An occurrence that
    disappears but has registrations stays, CANCELLED, so nobody's registration vanishes.

    Every occurrence of the event, kept or new, gets the event's space, audience and
    category (the copies lists filter on): every write path comes through here."""
    series = Series(
        data.starts_at,
        data.ends_at,
        data.timezone,
        data.rrule,
        data.exdates,
        data.rdates,
        data.overrides,
    )
    instances = recurrence.expand(series, until=until)
    stored = {
        o.recurrence_id: o
        for o in await session.scalars(select(Occurrence).where(Occurrence.event_id == event.id))
    }
    wanted = {i.recurrence_id: i for i in instances}
    single = not data.rrule and not data.rdates
    if single and len(stored) == 1 and len(wanted) == 1:
        # A one-off event that moved is the same occurrence: its registrations follow it.
        (old_key, kept), (new_key, _) = next(iter(stored.items())), next(iter(wanted.items()))
        if old_key != new_key:
            kept.recurrence_id = new_key
            stored = {new_key: kept}
    gone = [o for key, o in stored.items() if key not in wanted]
    if gone:
        with_people = set(
            await session.scalars(
                select(Registration.occurrence_id)
                .where(Registration.occurrence_id.in_([o.id for o in gone]))
                .distinct()
            )
        )
        for occurrence in gone:
            if occurrence.id in with_people:
                occurrence.status = EventStatus.CANCELLED
                _copy_event_fields(occurrence, event, data)
            else:
                await session.delete(occurrence)
    promote: list[Occurrence] = []
    for key, instance in wanted.items():
        status = _occurrence_status(data, instance)
        found = stored.get(key)
        if found is None:
            session.add(
                Occurrence(
                    event_id=event.id,
                    recurrence_id=key,
                    starts_at=instance.starts_at,
                    ends_at=instance.ends_at,
                    title=instance.title,
                    status=status,
                    capacity=data.capacity,
                    confirmed=0,
                    site_id=event.site_id,
                    audience=data.audience,
                    category=data.category,
                )
            )
            continue
        occurrence = found
        if data.capacity is not None and occurrence.confirmed > data.capacity:
            raise BadUserInput(
                f"`capacity` {data.capacity} is below the {occurrence.confirmed} people already "
                f"confirmed on {instance.starts_at:%Y-%m-%d}",
                field="capacity",
            )
        grew = occurrence.capacity is not None and (
            data.capacity is None or data.capacity > occurrence.capacity
        )
        occurrence.starts_at = instance.starts_at
        occurrence.ends_at = instance.ends_at
        occurrence.title = instance.title
        occurrence.status = status
        occurrence.capacity = data.capacity
        _copy_event_fields(occurrence, event, data)
        if grew:
            promote.append(occurrence)
    await session.flush()
    for occurrence in promote:
        if await _promote(session, occurrence.id):
            await session.refresh(occurrence)


def _copy_event_fields(occurrence: Occurrence, event: Event, data: EventData) -> None:
    # Assigned only when different: the ORM then writes only the occurrences that changed.
    if occurrence.site_id != event.site_id:
        occurrence.site_id = event.site_id
    if occurrence.audience != data.audience:
        occurrence.audience = data.audience
    if occurrence.category != data.category:
        occurrence.category = data.category


async def create_event(
    session: AsyncSession,
    viewer: Viewer,
    *,
    site: str | None,
    data: EventData,
    location_site: str | None = None,
    now: datetime | None = None,
) -> tuple[Occurrence, Event]:
    """Publish an event of a space (or of the network when `site` is None); its first
    occurrence comes back."""
    site_id = await _site_id(session, site)
    require_editor(viewer, site_id)
    data = data.changed(location_site_id=await location_site_id(session, location_site))
    data = await _check_location(session, check_event_data(data))
    event = Event(
        uid=f"{uuid.uuid4()}@tiers-lieux.hub",
        site_id=site_id,
        source=EventSource.HUB,
        sequence=0,
    )
    await _write(session, event, data, None, now=now or utcnow())
    return await _first_occurrence(session, event)


async def _site_id(session: AsyncSession, slug: str | None) -> int | None:
    if slug is None:
        return None
    site_id = await session.scalar(select(Site.id).where(Site.slug == slug))
    if site_id is None:
        raise BadUserInput(f"unknown space {slug!r}", field="site")
    return site_id


async def _check_location(session: AsyncSession, data: EventData) -> EventData:
    if data.location_site_id is not None:
        found = await session.scalar(select(Site.id).where(Site.id == data.location_site_id))
        if found is None:
            raise BadUserInput("unknown space in `location`", field="location")
    return data


async def location_site_id(session: AsyncSession, slug: str | None) -> int | None:
    """The id of the space named in `location.site`; BAD_USER_INPUT if unknown."""
    if slug is None:
        return None
    site_id = await session.scalar(select(Site.id).where(Site.slug == slug))
    if site_id is None:
        raise BadUserInput(f"unknown space {slug!r} in `location`", field="location")
    return site_id


async def _first_occurrence(session: AsyncSession, event: Event) -> tuple[Occurrence, Event]:
    occurrence = await session.scalar(
        select(Occurrence)
        .where(Occurrence.event_id == event.id)
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(1)
    )
    if occurrence is None:  # every occurrence excluded: the event still needs a face
        raise BadUserInput("the event has no occurrence left (`exdates`)", field="exdates")
    return occurrence, event


async def _editable(
    session: AsyncSession, viewer: Viewer, occurrence_id: str
) -> tuple[Occurrence, Event]:
    occurrence, event = await get_occurrence(session, viewer, occurrence_id)
    require_editor(viewer, event.site_id)
    if event.source is EventSource.SYNCED:
        raise Refused(
            "EVENT_SYNCED",
            "this event comes from the space's own tool: change it there, the hub follows",
        )
    return occurrence, event


async def update_event(
    session: AsyncSession,
    viewer: Viewer,
    occurrence_id: str,
    changes: Mapping[str, Any],
    *,
    location_site: str | None = KEEP,
    now: datetime | None = None,
) -> tuple[Occurrence, Event]:
    """Change fields of the event (the whole series) an occurrence belongs to."""
    occurrence, event = await _editable(session, viewer, occurrence_id)
    if location_site is not KEEP:
        changes = {**changes, "location_site_id": await location_site_id(session, location_site)}
    old = data_of(event, await _overrides_of(session, event.id))
    data = await _check_location(session, check_event_data(old.changed(**changes)))
    await _write(session, event, data, old, now=now or utcnow())
    await session.refresh(occurrence)
    if occurrence.status is EventStatus.CANCELLED and data.status is not EventStatus.CANCELLED:
        return await _first_occurrence(session, event)
    return occurrence, event


async def cancel_event(
    session: AsyncSession,
    viewer: Viewer,
    occurrence_id: str,
    *,
    only_this_occurrence: bool = False,
    now: datetime | None = None,
) -> tuple[Occurrence, Event]:
    """Cancel the series (or one occurrence of it); it stays listed, as CANCELLED."""
    occurrence, event = await _editable(session, viewer, occurrence_id)
    old = data_of(event, await _overrides_of(session, event.id))
    if only_this_occurrence and event.rrule:
        kept = [o for o in old.overrides if o.recurrence_id != occurrence.recurrence_id]
        cancelled = Override(
            occurrence.recurrence_id,
            occurrence.starts_at,
            occurrence.ends_at,
            occurrence.title,
            EventStatus.CANCELLED.value,
        )
        data = old.changed(
            overrides=tuple(sorted([*kept, cancelled], key=lambda o: o.recurrence_id))
        )
    else:
        data = old.changed(status=EventStatus.CANCELLED)
    await _write(session, event, data, old, now=now or utcnow())
    await session.refresh(occurrence)
    return occurrence, event


async def extend_horizon(
    session: AsyncSession, *, days: int = HORIZON_DAYS, now: datetime | None = None
) -> int:
    """Materialise recurring events' occurrences up to `days` ahead; how many events moved."""
    until = (now or utcnow()) + timedelta(days=days)
    events = list(
        await session.scalars(
            select(Event).where(Event.rrule.is_not(None), Event.materialised_until < until)
        )
    )
    for event in events:
        data = data_of(event, await _overrides_of(session, event.id))
        await materialise(session, event, data, until=until)
        event.materialised_until = until
    return len(events)


# --- registrations ------------------------------------------------------------------------


async def registration_of(
    session: AsyncSession, person_id: uuid.UUID, occurrence_id: int
) -> Registration | None:
    return await session.scalar(
        select(Registration).where(
            Registration.occurrence_id == occurrence_id, Registration.person_id == person_id
        )
    )


async def register_for_event(
    session: AsyncSession, viewer: Viewer, occurrence_id: str, *, now: datetime | None = None
) -> tuple[Registration, Occurrence, Event]:
    """CONFIRMED while there is room, WAITLISTED after; registering again changes nothing."""
    person_id = viewer.require_person()
    occurrence, event = await get_occurrence(session, viewer, occurrence_id)
    existing = await registration_of(session, person_id, occurrence.id)
    if existing is not None and existing.status is not RegistrationStatus.CANCELLED:
        return existing, occurrence, event
    if occurrence.status is EventStatus.CANCELLED:
        raise Refused("EVENT_CANCELLED", "this event is cancelled")
    if occurrence.status is EventStatus.POSTPONED:
        raise Refused("EVENT_POSTPONED", "this event is postponed; registrations wait for a date")
    if event.registration_mode is not RegistrationMode.HUB:
        raise Refused("REGISTRATION_ELSEWHERE", "registrations for this event are not taken here")
    if occurrence.ends_at <= (now or utcnow()):
        raise Refused("EVENT_PAST", "this event is over")
    # The conditional UPDATE is the admission: it holds under any concurrency, and the
    # CHECK on the table would refuse anything that slipped past it.
    admitted = await session.execute(
        update(Occurrence)
        .where(
            Occurrence.id == occurrence.id,
            or_(Occurrence.capacity.is_(None), Occurrence.confirmed < Occurrence.capacity),
        )
        .values(confirmed=Occurrence.confirmed + 1)
        .execution_options(synchronize_session=False)
    )
    status = (
        RegistrationStatus.CONFIRMED if _rowcount(admitted) == 1 else RegistrationStatus.WAITLISTED
    )
    stamp = now or utcnow()
    if existing is not None:
        existing.status, existing.created_at, existing.updated_at = status, stamp, stamp
        registration = existing
    else:
        registration = Registration(
            occurrence_id=occurrence.id,
            person_id=person_id,
            status=status,
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(registration)
    try:
        await session.flush()
    except IntegrityError:
        # The same person registering twice at the same instant: the first one stands.
        raise Conflict("you are already registering for this event") from None
    await session.refresh(occurrence)
    return registration, occurrence, event


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_registration(
    session: AsyncSession, viewer: Viewer, occurrence_id: str
) -> tuple[Registration, Occurrence, Event]:
    """Withdraw; a confirmed place goes to the first person waiting, in the same transaction."""
    person_id = viewer.require_person()
    occurrence, event = await get_occurrence(session, viewer, occurrence_id)
    registration = await registration_of(session, person_id, occurrence.id)
    if registration is None or registration.status is RegistrationStatus.CANCELLED:
        raise NotFound("you are not registered for this event")
    await _withdraw(session, registration)
    await session.refresh(occurrence)
    return registration, occurrence, event


async def _withdraw(session: AsyncSession, registration: Registration) -> None:
    was_confirmed = registration.status is RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.updated_at = utcnow()
    await session.flush()
    if was_confirmed:
        await session.execute(
            update(Occurrence)
            .where(Occurrence.id == registration.occurrence_id, Occurrence.confirmed > 0)
            .values(confirmed=Occurrence.confirmed - 1)
            .execution_options(synchronize_session=False)
        )
        await _promote(session, registration.occurrence_id)


async def _promote(session: AsyncSession, occurrence_id: int) -> int:
    """Confirm people waiting, first come first served, while there is room."""
    promoted = 0
    for _ in range(1000):
        waiting = await session.scalar(
            select(Registration.id)
            .where(
                Registration.occurrence_id == occurrence_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if waiting is None:
            break
        room = await session.execute(
            update(Occurrence)
            .where(
                Occurrence.id == occurrence_id,
                or_(Occurrence.capacity.is_(None), Occurrence.confirmed < Occurrence.capacity),
            )
            .values(confirmed=Occurrence.confirmed + 1)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(room) != 1:
            break
        flipped = await session.execute(
            update(Registration)
            .where(Registration.id == waiting, Registration.status == RegistrationStatus.WAITLISTED)
            .values(status=RegistrationStatus.CONFIRMED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if _rowcount(flipped) != 1:  # someone else promoted them meanwhile: give the place back
            await session.execute(
                update(Occurrence)
                .where(Occurrence.id == occurrence_id)
                .values(confirmed=Occurrence.confirmed - 1)
                .execution_options(synchronize_session=False)
            )
            continue
        promoted += 1
    return promoted


async def waiting_position(session: AsyncSession, registration: Registration) -> int | None:
    if registration.status is not RegistrationStatus.WAITLISTED:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.occurrence_id == registration.occurrence_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            tuple_(Registration.created_at, Registration.id)
            < tuple_(registration.created_at, registration.id),
        )
    )
    return (ahead or 0) + 1


# --- private feeds --------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def reset_feed_token(session: AsyncSession, person_id: uuid.UUID) -> str:
    """A new secret for the person's private feed; the old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    await session.execute(delete(FeedToken).where(FeedToken.person_id == person_id))
    session.add(FeedToken(person_id=person_id, token_hash=_hash(token)))
    await session.flush()
    return token


async def person_of_feed_token(session: AsyncSession, token: str) -> uuid.UUID | None:
    if not token or len(token) > 100:
        return None
    return await session.scalar(
        select(FeedToken.person_id).where(FeedToken.token_hash == _hash(token))
    )


async def registrations_of(
    session: AsyncSession, person_id: uuid.UUID
) -> list[tuple[Registration, Occurrence, Event]]:
    """The person's current registrations (confirmed or waiting), by start."""
    query = (
        select(Registration, Occurrence, Event)
        .join(Occurrence, Occurrence.id == Registration.occurrence_id)
        .join(Event, Event.id == Occurrence.event_id)
        .where(
            Registration.person_id == person_id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    return [(r, o, e) for r, o, e in (await session.execute(query))]


# --- public feeds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedRequest:
    filters: EventFilter
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class FeedSummary:
    count: int
    last_revised: datetime | None
    timezones: list[str] = field(default_factory=list)


def _feed_conditions(viewer: Viewer, request: FeedRequest) -> list[ColumnElement[bool]]:
    """Events with an occurrence in the range that passes the filters (read from the
    occurrences' own copies, see `_occurrence_conditions`)."""
    occurring = select(Occurrence.event_id).where(
        *_occurrence_conditions(viewer, request.filters, request.start, request.end)
    )
    return [Event.id.in_(occurring), *_search_conditions(request.filters)]


async def site_exists(session: AsyncSession, slug: str) -> bool:
    return await session.scalar(select(Site.id).where(Site.slug == slug)) is not None


async def feed_summary(session: AsyncSession, viewer: Viewer, request: FeedRequest) -> FeedSummary:
    """How many events the feed holds, their last revision (for ETag and Last-Modified) and
    their time zones (a VTIMEZONE each): one statement."""
    rows = list(
        await session.execute(
            select(Event.timezone, func.count(), func.max(Event.revised_at))
            .where(*_feed_conditions(viewer, request))
            .group_by(Event.timezone)
        )
    )
    count = sum(int(n) for _, n, _ in rows)
    stamps = [last if last.tzinfo else last.replace(tzinfo=UTC) for _, _, last in rows if last]
    return FeedSummary(count, max(stamps, default=None), sorted(tz for tz, _, _ in rows))


@dataclass(frozen=True, slots=True)
class FeedBatch:
    events: list[tuple[Event, list[EventOverride]]]
    sites: dict[int, Site]


async def feed_events(
    session: AsyncSession, viewer: Viewer, request: FeedRequest, *, chunk: int = 1000
) -> AsyncIterator[str]:
    """The feed's VEVENTs in event id order, `chunk` events at a time, from one server-side
    cursor (PostgreSQL): a feed is streamed, never held whole. Each event's VEVENTs were
    rendered by the icalendar library when it was written (`Event.ical`)."""
    result = await session.stream(
        select(Event.ical)
        .where(*_feed_conditions(viewer, request))
        .order_by(Event.id)
        .execution_options(yield_per=chunk)
    )
    async for rows in result.partitions():
        yield "".join(text for (text,) in rows)


async def _batch(session: AsyncSession, events: list[Event]) -> FeedBatch:
    grouped = await overrides_by_event(session, [e.id for e in events])
    site_ids = {i for e in events for i in (e.site_id, e.location_site_id) if i is not None}
    sites = {
        site.id: site
        for site in await session.scalars(select(Site).where(Site.id.in_(sorted(site_ids))))
    }
    return FeedBatch([(e, grouped[e.id]) for e in events], sites)


async def person_feed(
    session: AsyncSession, person_id: uuid.UUID, *, since: datetime
) -> tuple[list[tuple[Registration, Occurrence, Event]], dict[int, Site]]:
    """A person's registrations (withdrawals too, so calendars drop them) from `since`."""
    query = (
        select(Registration, Occurrence, Event)
        .join(Occurrence, Occurrence.id == Registration.occurrence_id)
        .join(Event, Event.id == Occurrence.event_id)
        .where(Registration.person_id == person_id, Occurrence.ends_at >= since)
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    rows = [(r, o, e) for r, o, e in await session.execute(query)]
    batch = await _batch(session, list({e.id: e for _, _, e in rows}.values()))
    return rows, batch.sites


async def overrides_by_event(
    session: AsyncSession, event_ids: Sequence[int]
) -> dict[int, list[EventOverride]]:
    grouped: dict[int, list[EventOverride]] = {event_id: [] for event_id in event_ids}
    if event_ids:
        for override in await session.scalars(
            select(EventOverride).where(EventOverride.event_id.in_(list(event_ids)))
        ):
            grouped[override.event_id].append(override)
    return grouped


# --- sync entry points ------------------------------------------------------------------------

_SYNC_FIELDS = {
    "title",
    "description",
    "category",
    "startsAt",
    "endsAt",
    "timezone",
    "allDay",
    "rrule",
    "exdates",
    "rdates",
    "uid",
    "location",
    "audience",
    "capacity",
    "status",
    "url",
    "keywords",
    "overrides",
    "attendanceMode",
    "onlineUrl",
    "price",
    "accessibility",
    "ageRange",
    "registration",
}


def _field(
    data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = False
) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise BadUserInput(f"`{name}` is required", field=name)
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise BadUserInput(f"`{name}` has the wrong type", field=name)
    return value


def _moment(value: Any, name: str, tz: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadUserInput(
                f"`{name}` is not an ISO 8601 date-time ({value!r})", field=name
            ) from None
    else:
        raise BadUserInput(f"`{name}` is not an ISO 8601 date-time", field=name)
    if moment.tzinfo is None:  # a floating local time: the event's zone
        moment = moment.replace(tzinfo=recurrence.zone(tz))
    return moment.astimezone(UTC)


def _choice(value: Any, kind: type[Any], name: str, default: Any) -> Any:
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise BadUserInput(f"`{name}` is one of {choices} (got {value!r})", field=name) from None


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BadUserInput(f"`{name}` must be a list of strings", field=name)
    return tuple(value)


async def synced_event_data(
    session: AsyncSession, data: Mapping[str, Any]
) -> tuple[EventData, str | None]:
    """A sync record's data (GraphQL's camelCase names) as checked EventData, and its UID."""
    unknown = sorted(set(data) - _SYNC_FIELDS)
    if unknown:
        raise BadUserInput(f"`{unknown[0]}` is not a field of an event", field=unknown[0])
    tz = _field(data, "timezone", str) or DEFAULT_TIMEZONE
    recurrence.zone(tz)
    location = data.get("location")
    location_site: int | None = None
    address: str | None = None
    if isinstance(location, str):
        address = location
    elif isinstance(location, Mapping):
        address = _field(location, "address", str)
        slug = _field(location, "site", str)
        if slug is not None:
            location_site = await location_site_id(session, slug)
    elif location is not None:
        raise BadUserInput("`location` is an address or {site, address}", field="location")
    overrides: list[Override] = []
    raw_overrides = data.get("overrides") or []
    if not isinstance(raw_overrides, list):
        raise BadUserInput("`overrides` must be a list", field="overrides")
    for raw in raw_overrides:
        if not isinstance(raw, Mapping):
            raise BadUserInput("`overrides` items are objects", field="overrides")
        status = _choice(raw.get("status"), EventStatus, "overrides.status", None)
        overrides.append(
            Override(
                _moment(raw.get("recurrenceId"), "overrides.recurrenceId", tz),
                _moment(raw.get("startsAt"), "overrides.startsAt", tz),
                _moment(raw.get("endsAt"), "overrides.endsAt", tz),
                _field(raw, "title", str),
                status.value if status is not None else None,
            )
        )
    age = data.get("ageRange") or {}
    registration = data.get("registration") or {}
    if not isinstance(age, Mapping) or not isinstance(registration, Mapping):
        raise BadUserInput("`ageRange` and `registration` are objects", field="ageRange")
    capacity = _field(data, "capacity", int)
    exdates = data.get("exdates") or []
    rdates = data.get("rdates") or []
    if not isinstance(exdates, list) or not isinstance(rdates, list):
        raise BadUserInput("`exdates` and `rdates` are lists of date-times", field="exdates")
    result = EventData(
        title=_field(data, "title", str, required=True),
        category=_choice(data.get("category"), Category, "category", Category.OTHER),
        starts_at=_moment(_field(data, "startsAt", str, required=True), "startsAt", tz),
        ends_at=_moment(_field(data, "endsAt", str, required=True), "endsAt", tz),
        description=_field(data, "description", str) or "",
        timezone=tz,
        all_day=bool(_field(data, "allDay", bool)),
        rrule=_field(data, "rrule", str),
        exdates=tuple(_moment(d, "exdates", tz) for d in exdates),
        rdates=tuple(_moment(d, "rdates", tz) for d in rdates),
        overrides=tuple(overrides),
        location_site_id=location_site,
        location_address=address,
        audience=_choice(data.get("audience"), Audience, "audience", Audience.PUBLIC),
        attendance_mode=_choice(
            data.get("attendanceMode"), AttendanceMode, "attendanceMode", AttendanceMode.OFFLINE
        ),
        online_url=_field(data, "onlineUrl", str),
        capacity=capacity,
        price=_field(data, "price", str),
        registration_mode=_choice(
            registration.get("mode"), RegistrationMode, "registration.mode", RegistrationMode.HUB
        ),
        registration_links=_strings(registration.get("links"), "registration.links"),
        accessibility=_strings(data.get("accessibility"), "accessibility"),
        age_min=_field(age, "min", int),
        age_max=_field(age, "max", int),
        keywords=_strings(data.get("keywords"), "keywords"),
        status=_choice(data.get("status"), EventStatus, "status", EventStatus.CONFIRMED),
        url=_field(data, "url", str),
    )
    uid = _field(data, "uid", str)
    if uid is not None and not 0 < len(uid.strip()) <= 255:
        raise BadUserInput("`uid` is 1 to 255 characters", field="uid")
    return check_event_data(result), uid.strip() if uid else None


async def save_synced_event(
    session: AsyncSession,
    *,
    site_id: int,
    external_id: str,
    updated_at: datetime,
    data: Mapping[str, Any],
) -> Literal["created", "updated", "unchanged"]:
    """Create or update a space's event from its own tool; older data never wins."""
    if not external_id or len(external_id) > 255:
        raise BadUserInput("`externalId` is 1 to 255 characters", field="externalId")
    updated_at = _aware(updated_at, "updatedAt")
    event = await session.scalar(
        select(Event).where(Event.site_id == site_id, Event.external_id == external_id)
    )
    if (
        event is not None
        and event.source_updated_at is not None
        and updated_at < event.source_updated_at
    ):
        return "unchanged"
    checked, uid = await synced_event_data(session, data)
    now = utcnow()
    if event is None:
        uid = uid or f"{uuid.uuid4()}@tiers-lieux.hub"
        if await session.scalar(select(Event.id).where(Event.uid == uid)) is not None:
            raise BadUserInput(f"`uid` {uid!r} is already another event's", field="uid")
        event = Event(
            uid=uid,
            site_id=site_id,
            source=EventSource.SYNCED,
            external_id=external_id,
            sequence=0,
            source_updated_at=updated_at,
        )
        await _write(session, event, checked, None, now=now)
        return "created"
    old = data_of(event, await _overrides_of(session, event.id))
    event.source_updated_at = updated_at
    changed = await _write(session, event, checked, old, now=now)
    return "updated" if changed else "unchanged"


async def _cancel_events(session: AsyncSession, events: Sequence[Event]) -> int:
    now = utcnow()
    cancelled = 0
    for event in events:
        old = data_of(event, await _overrides_of(session, event.id))
        if old.status is EventStatus.CANCELLED:
            continue
        await _write(session, event, old.changed(status=EventStatus.CANCELLED), old, now=now)
        cancelled += 1
    return cancelled


async def cancel_synced_events_except(
    session: AsyncSession, *, site_id: int, keep_external_ids: Collection[str]
) -> int:
    """A complete snapshot came: the space's synced events not in it are cancelled (kept,
    STATUS:CANCELLED, so calendar clients learn of it). How many were cancelled."""
    keep = set(keep_external_ids)
    events = [
        e
        for e in await session.scalars(
            select(Event).where(
                Event.site_id == site_id,
                Event.source == EventSource.SYNCED,
                Event.status != EventStatus.CANCELLED,
            )
        )
        if e.external_id not in keep
    ]
    return await _cancel_events(session, events)


async def delete_synced_event(session: AsyncSession, *, site_id: int, external_id: str) -> bool:
    """The space deleted the event: it is cancelled (kept with its UID, so feeds propagate
    the deletion). False if there was no such event."""
    event = await session.scalar(
        select(Event).where(Event.site_id == site_id, Event.external_id == external_id)
    )
    if event is None:
        return False
    await _cancel_events(session, [event])
    return True


async def save_event(
    session: AsyncSession, *, uid: str, site_id: int | None, data: EventData
) -> Literal["created", "updated", "unchanged"]:
    """Create or update a hub event by its UID (the demo's stable keys)."""
    checked = await _check_location(session, check_event_data(data))
    event = await session.scalar(select(Event).where(Event.uid == uid))
    if event is None:
        event = Event(uid=uid, site_id=site_id, source=EventSource.HUB, sequence=0)
        await _write(session, event, checked, None, now=utcnow())
        return "created"
    old = data_of(event, await _overrides_of(session, event.id))
    moved = event.site_id != site_id
    event.site_id = site_id  # an event moved to another space: its occurrences follow
    changed = await _write(session, event, checked, old, now=utcnow(), moved=moved)
    return "updated" if changed else "unchanged"


async def register_person(
    session: AsyncSession, person_id: uuid.UUID, occurrence_id: int, *, now: datetime | None = None
) -> Registration:
    """Register a person without a viewer (the demo); same rules as registerForEvent."""
    # Seen as a coordinator: the demo registers people whatever the audience.
    viewer = Viewer(person_id=person_id, roles=frozenset({Role.COORDINATOR}))
    registration, _, _ = await register_for_event(session, viewer, str(occurrence_id), now=now)
    return registration


async def record_attendance(
    session: AsyncSession, *, occurrence_id: int, person_id: uuid.UUID, attended: bool
) -> bool:
    """Whether a confirmed person came (a check-in, a space's own list); False if there is
    no confirmed registration or it already said so."""
    done = await session.execute(
        update(Registration)
        .where(
            Registration.occurrence_id == occurrence_id,
            Registration.person_id == person_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            or_(Registration.attended.is_(None), Registration.attended != attended),
        )
        .values(attended=attended)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done) == 1


# --- personal data --------------------------------------------------------------------------


async def export_person_data(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any]:
    """The person's registrations and whether they have a private feed."""
    rows = await session.execute(
        select(Registration, Occurrence, Event)
        .join(Occurrence, Occurrence.id == Registration.occurrence_id)
        .join(Event, Event.id == Occurrence.event_id)
        .where(Registration.person_id == person_id)
        .order_by(Occurrence.starts_at)
    )
    has_feed = await session.scalar(
        select(func.count()).select_from(FeedToken).where(FeedToken.person_id == person_id)
    )
    return {
        "registrations": [
            {
                "event": e.title,
                "uid": e.uid,
                "starts_at": o.starts_at.isoformat(),
                "status": r.status.value,
                "registered_at": r.created_at.isoformat(),
            }
            for r, o, e in rows
        ],
        "private_feed": bool(has_feed),
    }


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Withdraw every registration (places go to people waiting), then erase them and the feed."""
    for registration in await session.scalars(
        select(Registration).where(
            Registration.person_id == person_id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    ):
        await _withdraw(session, registration)
    await session.execute(delete(Registration).where(Registration.person_id == person_id))
    await session.execute(delete(FeedToken).where(FeedToken.person_id == person_id))
