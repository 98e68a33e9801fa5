"""Helpers for the calendar tests: viewers and events written through the service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from federation.access import Role, Viewer
from federation.calendar import service
from federation.calendar.models import Category
from federation.db import Database
from federation.directory.models import Site
from tests.factories import make_person

PARIS = ZoneInfo("Europe/Paris")
COORDINATOR = Viewer(person_id=uuid.uuid4(), roles=frozenset({Role.COORDINATOR}))


def manager_of(site: Site) -> Viewer:
    return Viewer(
        person_id=uuid.uuid4(),
        home_site_id=site.id,
        roles=frozenset({Role.MANAGER}),
        managed_site_ids=frozenset({site.id}),
    )


async def make_coworker(db: Database, home: Site | None = None) -> Viewer:
    person = await make_person(db, home=home)
    return Viewer(
        person_id=person.id,
        home_site_id=home.id if home else None,
        roles=frozenset({Role.COWORKER}),
    )


def soon(days: int = 7, hour: int = 18) -> datetime:
    day = (datetime.now(PARIS) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


async def make_event(
    db: Database, site: Site | None, *, starts_at: datetime | None = None, **fields: Any
) -> tuple[str, int]:
    """(first occurrence id, event id)."""
    start = starts_at or soon()
    data = service.EventData(
        title=fields.pop("title", "Atelier"),
        category=fields.pop("category", Category.WORKSHOP),
        starts_at=start,
        ends_at=fields.pop("ends_at", start + timedelta(hours=2)),
        **fields,
    )
    async with db.transaction() as session:
        occurrence, event = await service.create_event(
            session, COORDINATOR, site=site.slug if site else None, data=data
        )
    return str(occurrence.id), event.id
