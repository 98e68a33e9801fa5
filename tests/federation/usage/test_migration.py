"""Migration 0010 spreads the existing rollups over the stripes as the hub writes them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from alembic import command
from sqlalchemy import MetaData, select

from federation.db import Database
from federation.migrations import alembic_config, upgrade
from federation.usage.models import UseKind
from federation.usage.service import rebuild_rollups
from tests.factories import make_site
from tests.federation.test_migrations import empty_database as empty_database
from tests.federation.usage.factories import make_membership, make_use, rollup_rows

STRIPED = ("usage_uses_by_period", "usage_active_counts", "usage_visits_by_period")


async def write_uses(db: Database) -> None:
    """Uses of 13 people at 3 spaces, over days that cross a week, a month and a year."""
    sites = [await make_site(db) for _ in range(3)]
    for n in range(30):
        await make_use(
            db,
            sites[n % 3],
            date(2025, 12, 27) + timedelta(days=n % 9),
            subject=f"person:{n % 13}",
            kind=list(UseKind)[n % 3],
            units=1 + n % 2,
            home=sites[n % 2] if n % 4 else None,
        )
    await make_membership(db, sites[0], date(2025, 12, 30))


async def unstriped(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the three tables as 0009 has them (one per counter), as text."""
    async with db.engine.connect() as connection:
        tables = MetaData()
        await connection.run_sync(lambda c: tables.reflect(c, only=STRIPED))
        return {
            name: sorted(
                tuple(str(v) for v in row)
                for row in await connection.execute(select(tables.tables[name]))
            )
            for name in STRIPED
        }


def folded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Striped rows (key, stripe, counter) summed over the stripes."""
    sums: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        sums[row[:-2]] += int(row[-1])
    return sorted((*key, str(total)) for key, total in sums.items())


async def test_the_migration_spreads_existing_rollups_over_stripes_as_the_hub_writes_them(
    empty_database: str,
) -> None:
    upgrade(empty_database)
    db = Database(empty_database)
    try:
        await write_uses(db)
        written = await rollup_rows(db)
    finally:
        await db.dispose()
    assert len({row[-2] for row in written["usage_active_counts"]}) > 1  # several stripes

    command.downgrade(alembic_config(empty_database), "0009")
    db = Database(empty_database)
    try:
        assert await unstriped(db) == {name: folded(written[name]) for name in STRIPED}
    finally:
        await db.dispose()

    upgrade(empty_database)
    db = Database(empty_database)
    try:
        assert await rollup_rows(db) == written
        async with db.transaction() as session:
            await rebuild_rollups(session)
        assert await rollup_rows(db) == written
    finally:
        await db.dispose()
