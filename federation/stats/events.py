"""The events section of networkStats: occurrences, registrations, attendance and fill rate
by category, over the request's range and spaces (read from the calendar's tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import strawberry
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.calendar import types as calendar_types
from federation.calendar.models import (
    Category,
    Event,
    EventStatus,
    Occurrence,
    Registration,
    RegistrationStatus,
)
from federation.kit.clock import PARIS
from federation.stats.service import StatsRequest

# Registers the calendar's enums with Strawberry even where the calendar schema is absent.
_ = calendar_types.Event


@dataclass(frozen=True, slots=True)
class CategoryFigures:
    category: Category
    count: int  # occurrences held (cancelled ones aside)
    registrations: int  # confirmed registrations
    attendance: int  # registrations marked as attended
    places: int  # capacity of the occurrences that have one
    taken: int  # confirmed registrations of those occurrences

    @property
    def fill_rate(self) -> float | None:
        return round(self.taken / self.places, 4) if self.places else None


def _conditions(request: StatsRequest) -> list[ColumnElement[bool]]:
    start = datetime.combine(request.first, time(), PARIS)
    end = datetime.combine(request.last + timedelta(days=1), time(), PARIS)
    conditions: list[ColumnElement[bool]] = [
        Occurrence.starts_at >= start,
        Occurrence.starts_at < end,
        Occurrence.status != EventStatus.CANCELLED,
    ]
    if request.selection is not None:
        conditions.append(Event.site_id.in_(request.selection))
    return conditions


async def events_by_category(session: AsyncSession, request: StatsRequest) -> list[CategoryFigures]:
    """Categories with at least one occurrence in the range, in the categories' order."""
    conditions = _conditions(request)
    capped = Occurrence.capacity.is_not(None)
    held = await session.execute(
        select(
            Event.category,
            func.count(Occurrence.id),
            func.coalesce(func.sum(case((capped, Occurrence.capacity), else_=0)), 0),
            func.coalesce(func.sum(case((capped, Occurrence.confirmed), else_=0)), 0),
        )
        .join(Event, Event.id == Occurrence.event_id)
        .where(*conditions)
        .group_by(Event.category)
    )
    came = Registration.attended.is_(True)
    registered = await session.execute(
        select(
            Event.category,
            func.count(Registration.id),
            func.coalesce(func.sum(case((came, 1), else_=0)), 0),
        )
        .join(Occurrence, Occurrence.id == Registration.occurrence_id)
        .join(Event, Event.id == Occurrence.event_id)
        .where(*conditions, Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Event.category)
    )
    people = {category: (int(n), int(a)) for category, n, a in registered}
    found = {
        category: CategoryFigures(
            category, int(count), *people.get(category, (0, 0)), int(places), int(taken)
        )
        for category, count, places, taken in held
    }
    return [found[c] for c in Category if c in found]


@strawberry.type(name="EventCategoryFigures", description="Events of one category.")
class EventCategoryFigures:
    category: Category
    count: int = strawberry.field(description="Occurrences held (cancelled ones aside).")
    registrations: int = strawberry.field(description="Confirmed registrations.")
    attendance: int = strawberry.field(description="Registrations marked as attended.")
    fill_rate: float | None = strawberry.field(
        description="Confirmed places / capacity, over occurrences with a capacity."
    )

    @classmethod
    def from_model(cls, row: CategoryFigures) -> EventCategoryFigures:
        return cls(
            category=row.category,
            count=row.count,
            registrations=row.registrations,
            attendance=row.attendance,
            fill_rate=row.fill_rate,
        )


@strawberry.type(name="EventFigures", description="The calendar's figures.")
class EventFigures:
    by_category: list[EventCategoryFigures]
