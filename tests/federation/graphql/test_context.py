"""The request context never holds two pooled connections at once."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import text

from federation.access import Viewer
from federation.db import Database
from federation.graphql.context import Context
from federation.keys.service import KeyRing
from federation.settings import Settings


def _context(db: Database) -> Context:
    # The request is never touched by reading() or transaction().
    return Context(
        request=cast(Any, None),
        db=db,
        settings=Settings(database_url=db.url),
        viewer=Viewer(),
        keys=KeyRing(db),
    )


async def test_a_mutation_after_a_read_hands_back_the_read_connection_first(
    db: Database,
) -> None:
    context = _context(db)
    async with context.reading() as session:
        await session.execute(text("SELECT 1"))
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    async with context.transaction() as session:
        await session.execute(text("SELECT 1"))
        # Under load, holding the read connection while waiting for a write one drains
        # the pool: every request holds one and waits for another.
        assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    async with context.reading() as session:
        assert await session.scalar(text("SELECT 2")) == 2
    await context.close()
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
