"""Uses: recorded and removed through one service, with the database's rules behind it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from federation.db import Database
from federation.errors import BadUserInput
from federation.usage.models import Use, UseKind, UseSource
from federation.usage.service import UseRecord, find_synced_use, record_use, remove_use
from tests.factories import make_site


async def test_a_synced_use_is_found_by_its_external_id_and_can_be_removed(db: Database) -> None:
    site = await make_site(db)
    record = UseRecord(
        site.id,
        date(2026, 3, 2),
        UseKind.OPEN_SPACE,
        2,
        "membership:1",
        site.id,
        UseSource.SYNC,
        external_id="visit-42",
    )
    async with db.transaction() as session:
        await record_use(session, record)
    async with db.transaction() as session:
        found = await find_synced_use(session, site.id, "visit-42")
        assert found is not None
        assert (found.units, found.kind) == (2, UseKind.OPEN_SPACE)
        await remove_use(session, found)
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Use)) == 0


async def test_a_use_of_zero_units_is_refused(db: Database) -> None:
    site = await make_site(db)
    with pytest.raises(BadUserInput):
        async with db.transaction() as session:
            await record_use(
                session,
                UseRecord(
                    site.id,
                    date(2026, 3, 2),
                    UseKind.OFFICE,
                    0,
                    "membership:1",
                    None,
                    UseSource.SYNC,
                ),
            )


async def test_the_same_external_id_twice_at_one_space_is_refused_by_the_database(
    db: Database,
) -> None:
    site = await make_site(db)
    record = UseRecord(
        site.id,
        date(2026, 3, 2),
        UseKind.MEETING_ROOM,
        1,
        "membership:1",
        None,
        UseSource.SYNC,
        external_id="booking-7",
    )
    async with db.transaction() as session:
        await record_use(session, record)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await record_use(session, record)
