"""Calendar GraphQL types. An `Event` is one dated occurrence; its series' rule is in
`recurrence`. Nested spaces come through the directory's loaders."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from federation.calendar import loaders, models
from federation.calendar.models import EventStatus, RegistrationStatus
from federation.directory.types import Site, load_site
from federation.graphql.context import Info

strawberry.enum(models.Category, description="What kind of event (OpenAgenda-like).")
strawberry.enum(
    models.Audience,
    description="Who sees an event: PUBLIC anyone; NETWORK signed-in people and spaces of "
    "the network; MEMBERS the organising space's people.",
)
strawberry.enum(models.AttendanceMode, description="On site, online, or both.")
strawberry.enum(
    models.EventStatus,
    description="CONFIRMED, CANCELLED (kept visible), POSTPONED, or FULL (no place left).",
)
strawberry.enum(models.EventSource, description="Created in the hub, or synced from a space.")
strawberry.enum(models.RegistrationMode, description="How people register.")
strawberry.enum(models.RegistrationStatus, description="Where a registration stands.")


@strawberry.enum(description="OpenAgenda's accessibility codes.")
class Accessibility(enum.Enum):
    HEARING = "hi"
    VISUAL = "vi"
    PSYCHIC = "pi"
    MOTOR = "mi"
    INTELLECTUAL = "ii"


@strawberry.type(description="Where an event happens: a space of the network, or an address.")
class EventLocation:
    address: str | None
    site_id: strawberry.Private[int | None]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await load_site(info, self.site_id)


@strawberry.type
class AgeRange:
    min: int | None
    max: int | None


@strawberry.type(description="How to register: in the hub (with capacity), or external links.")
class EventRegistrationInfo:
    mode: models.RegistrationMode
    links: list[str]


@strawberry.type(description="Where the event comes from; `uid` is its iCalendar UID.")
class EventOrigin:
    kind: models.EventSource
    external_id: str | None
    uid: str


@strawberry.type(description="The series' rule: RRULE, EXDATE and RDATE, in `timezone`.")
class Recurrence:
    rrule: str
    exdates: list[datetime]
    rdates: list[datetime]


@strawberry.type(description="One occurrence of an event of a space, or of the network.")
class Event:
    id: strawberry.ID = strawberry.field(description="This occurrence's id.")
    series_id: strawberry.ID = strawberry.field(description="The event (series) it belongs to.")
    title: str
    description: str
    category: models.Category
    starts_at: datetime
    ends_at: datetime
    timezone: str
    all_day: bool
    recurrence_id: datetime | None = strawberry.field(
        description="For an occurrence of a series, the start its rule gives it."
    )
    recurrence: Recurrence | None
    location: EventLocation
    audience: models.Audience
    attendance_mode: models.AttendanceMode
    online_url: str | None
    capacity: int | None
    remaining_capacity: int | None = strawberry.field(
        description="Places left; null when there is no limit."
    )
    confirmed_count: int
    price: str | None
    registration: EventRegistrationInfo
    accessibility: list[Accessibility]
    age_range: AgeRange | None
    keywords: list[str]
    status: EventStatus
    source: EventOrigin
    url: str | None
    sequence: int
    revised_at: datetime
    site_id: strawberry.Private[int | None]
    occurrence_id: strawberry.Private[int]

    @strawberry.field(description="The organising space; null for a network event.")
    async def site(self, info: Info) -> Site | None:
        return await load_site(info, self.site_id)

    @strawberry.field(description="Your registration, if you have one.")
    async def my_registration(self, info: Info) -> Registration | None:
        person_id = info.context.viewer.person_id
        if person_id is None:
            return None
        row = await info.context.loader(loaders.registrations_by_person_occurrence).load(
            (person_id, self.occurrence_id)
        )
        if row is None or row.status is RegistrationStatus.CANCELLED:
            return None
        return Registration.of(row, self)

    @classmethod
    def from_model(cls, occurrence: models.Occurrence, event: models.Event) -> Event:
        status = occurrence.status
        full = occurrence.capacity is not None and occurrence.confirmed >= occurrence.capacity
        if status is EventStatus.CONFIRMED and full:
            status = EventStatus.FULL
        return cls(
            id=strawberry.ID(str(occurrence.id)),
            series_id=strawberry.ID(str(event.id)),
            occurrence_id=occurrence.id,
            title=occurrence.title or event.title,
            description=event.description,
            category=event.category,
            starts_at=occurrence.starts_at,
            ends_at=occurrence.ends_at,
            timezone=event.timezone,
            all_day=event.all_day,
            recurrence_id=occurrence.recurrence_id if event.rrule or event.rdates else None,
            recurrence=Recurrence(
                rrule=event.rrule,
                exdates=[datetime.fromisoformat(d) for d in event.exdates],
                rdates=[datetime.fromisoformat(d) for d in event.rdates],
            )
            if event.rrule
            else None,
            location=EventLocation(address=event.location_address, site_id=event.location_site_id),
            audience=event.audience,
            attendance_mode=event.attendance_mode,
            online_url=event.online_url,
            capacity=occurrence.capacity,
            remaining_capacity=max(occurrence.capacity - occurrence.confirmed, 0)
            if occurrence.capacity is not None
            else None,
            confirmed_count=occurrence.confirmed,
            price=event.price,
            registration=EventRegistrationInfo(
                mode=event.registration_mode, links=list(event.registration_links)
            ),
            accessibility=[Accessibility(code) for code in event.accessibility],
            age_range=AgeRange(min=event.age_min, max=event.age_max)
            if event.age_min is not None or event.age_max is not None
            else None,
            keywords=list(event.keywords),
            status=status,
            source=EventOrigin(kind=event.source, external_id=event.external_id, uid=event.uid),
            url=event.url,
            sequence=event.sequence,
            revised_at=event.revised_at,
            site_id=event.site_id,
        )


@strawberry.type(description="A person's place at one occurrence.")
class Registration:
    status: models.RegistrationStatus
    registered_at: datetime
    event: Event

    @classmethod
    def of(cls, row: models.Registration, event: Event) -> Registration:
        return cls(status=row.status, registered_at=row.created_at, event=event)


@strawberry.type(description="Your private calendar feed: keep the URL secret.")
class CalendarFeed:
    url: str
