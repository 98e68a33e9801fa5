"""Migration 0009 fills the occurrences' copies of their event's fields."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select

from federation.calendar.models import Audience, Category, Occurrence
from federation.db import Database
from federation.migrations import alembic_config, upgrade
from tests.factories import make_site
from tests.federation.calendar.support import make_event, soon
from tests.federation.calendar.test_service import copies, copies_out_of_step
from tests.federation.test_migrations import empty_database as empty_database


async def test_the_migration_fills_the_copies_of_existing_occurrences(
    empty_database: str,
) -> None:
    upgrade(empty_database)
    db = Database(empty_database)
    try:
        site = await make_site(db, "casaco")
        _, local = await make_event(
            db, site, rrule="FREQ=WEEKLY;COUNT=3", category=Category.TRAINING
        )
        _, network = await make_event(db, None, starts_at=soon(3), audience=Audience.MEMBERS)
    finally:
        await db.dispose()
    command.downgrade(alembic_config(empty_database), "0008")
    upgrade(empty_database)
    db = Database(empty_database)
    try:
        assert await copies(db, local) == {(site.id, Audience.PUBLIC, Category.TRAINING)}
        assert await copies(db, network) == {(None, Audience.MEMBERS, Category.WORKSHOP)}
        assert await copies_out_of_step(db) == []
        async with db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(Occurrence)) == 4
    finally:
        await db.dispose()
