"""Calendar GraphQL inputs, and how they become the service's EventData and changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from federation.calendar import models
from federation.calendar.recurrence import DEFAULT_TIMEZONE, Override
from federation.calendar.service import KEEP, EventData
from federation.calendar.types import Accessibility


@strawberry.input(description="A space of the network (by slug) or a free address.")
class LocationInput:
    site: str | None = None
    address: str | None = None


@strawberry.input
class AgeRangeInput:
    min: int | None = None
    max: int | None = None


@strawberry.input(description="How people register: in the hub, elsewhere (links), or not at all.")
class RegistrationInput:
    mode: models.RegistrationMode = models.RegistrationMode.HUB
    links: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="One occurrence of the series moved, renamed or cancelled.")
class OverrideInput:
    recurrence_id: datetime
    starts_at: datetime
    ends_at: datetime
    title: str | None = None
    status: models.EventStatus | None = None

    def to_override(self) -> Override:
        return Override(
            self.recurrence_id,
            self.starts_at,
            self.ends_at,
            self.title,
            self.status.value if self.status is not None else None,
        )


@strawberry.input(description="A new event; `site` null publishes a network event.")
class CreateEventInput:
    site: str | None = None
    title: str
    category: models.Category
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    timezone: str = DEFAULT_TIMEZONE
    all_day: bool = False
    rrule: str | None = None
    exdates: list[datetime] = strawberry.field(default_factory=list)
    rdates: list[datetime] = strawberry.field(default_factory=list)
    overrides: list[OverrideInput] = strawberry.field(default_factory=list)
    location: LocationInput | None = None
    audience: models.Audience = models.Audience.PUBLIC
    attendance_mode: models.AttendanceMode = models.AttendanceMode.OFFLINE
    online_url: str | None = None
    capacity: int | None = None
    price: str | None = None
    registration: RegistrationInput | None = None
    accessibility: list[Accessibility] = strawberry.field(default_factory=list)
    age_range: AgeRangeInput | None = None
    keywords: list[str] = strawberry.field(default_factory=list)
    url: str | None = None

    def to_data(self) -> tuple[EventData, str | None]:
        """The event, and the slug of the space in `location` (looked up by the service)."""
        registration = self.registration or RegistrationInput()
        data = EventData(
            title=self.title,
            category=self.category,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            description=self.description,
            timezone=self.timezone,
            all_day=self.all_day,
            rrule=self.rrule,
            exdates=tuple(self.exdates),
            rdates=tuple(self.rdates),
            overrides=tuple(o.to_override() for o in self.overrides),
            location_address=self.location.address if self.location else None,
            audience=self.audience,
            attendance_mode=self.attendance_mode,
            online_url=self.online_url,
            capacity=self.capacity,
            price=self.price,
            registration_mode=registration.mode,
            registration_links=tuple(registration.links),
            accessibility=tuple(a.value for a in self.accessibility),
            age_min=self.age_range.min if self.age_range else None,
            age_max=self.age_range.max if self.age_range else None,
            keywords=tuple(self.keywords),
            url=self.url,
        )
        return data, self.location.site if self.location else None


@strawberry.input(description="What changes; fields left out stay as they are.")
class UpdateEventInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    category: models.Category | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    all_day: bool | None = strawberry.UNSET
    rrule: str | None = strawberry.UNSET
    exdates: list[datetime] | None = strawberry.UNSET
    rdates: list[datetime] | None = strawberry.UNSET
    overrides: list[OverrideInput] | None = strawberry.UNSET
    location: LocationInput | None = strawberry.UNSET
    audience: models.Audience | None = strawberry.UNSET
    attendance_mode: models.AttendanceMode | None = strawberry.UNSET
    online_url: str | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET
    price: str | None = strawberry.UNSET
    registration: RegistrationInput | None = strawberry.UNSET
    accessibility: list[Accessibility] | None = strawberry.UNSET
    age_range: AgeRangeInput | None = strawberry.UNSET
    keywords: list[str] | None = strawberry.UNSET
    status: models.EventStatus | None = strawberry.UNSET
    url: str | None = strawberry.UNSET

    def changes(self) -> tuple[dict[str, Any], Any]:
        """EventData changes, and the `location` space slug (KEEP if the location is unchanged)."""
        given = {
            name: value
            for name, value in vars(self).items()
            if value is not strawberry.UNSET and not name.startswith("_")
        }
        changes: dict[str, Any] = {}
        location_site: Any = KEEP
        for name, value in given.items():
            if name == "location":
                location_site = value.site if value else None
                changes["location_address"] = value.address if value else None
            elif name == "registration":
                registration = value or RegistrationInput(mode=models.RegistrationMode.NONE)
                changes["registration_mode"] = registration.mode
                changes["registration_links"] = tuple(registration.links)
            elif name == "age_range":
                changes["age_min"] = value.min if value else None
                changes["age_max"] = value.max if value else None
            elif name == "overrides":
                changes["overrides"] = tuple(o.to_override() for o in value or [])
            elif name in ("exdates", "rdates", "keywords"):
                changes[name] = tuple(value or ())
            elif name == "accessibility":
                changes[name] = tuple(a.value for a in value or ())
            elif name in ("title", "category", "starts_at", "ends_at", "timezone", "all_day"):
                if value is None:
                    continue  # required fields cannot be emptied: null means "unchanged"
                changes[name] = value
            elif name == "status" and value is None:
                continue
            else:
                changes[name] = value
        return changes, location_site
