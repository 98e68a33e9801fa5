"""`make_*` helpers for uses and memberships, written through the usage service."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import MetaData, select

from federation.db import Database
from federation.directory.models import Site
from federation.usage.models import Membership, Use, UseKind, UseSource
from federation.usage.service import (
    MembershipRecord,
    UseRecord,
    drain,
    record_use,
    save_membership,
)

_external = itertools.count(1)

ROLLUP_TABLES = (
    "usage_uses_by_period",
    "usage_active_subjects",
    "usage_active_counts",
    "usage_visits_by_period",
    "usage_new_members_by_period",
)


async def make_use(
    db: Database,
    site: Site,
    day: date,
    *,
    subject: str = "membership:1",
    kind: UseKind = UseKind.OPEN_SPACE,
    units: int = 1,
    home: Site | Literal["host"] | None = "host",
    source: UseSource = UseSource.SYNC,
) -> Use:
    """One use in its own transaction; by default the user's home is the host."""
    home_site_id = site.id if isinstance(home, str) else home.id if home is not None else None
    async with db.transaction() as session:
        return await record_use(
            session,
            UseRecord(
                site.id,
                day,
                kind,
                units,
                subject,
                home_site_id,
                source,
                external_id=f"use-{next(_external)}",
            ),
        )


async def make_membership(
    db: Database, site: Site, starts_on: date, *, external_id: str | None = None, **extra: Any
) -> Membership:
    async with db.transaction() as session:
        membership, _ = await save_membership(
            session,
            MembershipRecord(
                site_id=site.id,
                external_id=external_id or f"member-{next(_external)}",
                starts_on=starts_on,
                source_updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                **extra,
            ),
        )
    return membership


async def rollup_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rollup table once the queue is applied, in a stable order,
    values as plain text."""
    await drain(db)
    async with db.engine.connect() as connection:
        tables = MetaData()
        await connection.run_sync(lambda c: tables.reflect(c, only=ROLLUP_TABLES))
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for name in ROLLUP_TABLES:
            rows = (await connection.execute(select(tables.tables[name]))).all()
            dump[name] = sorted(tuple(str(value) for value in row) for row in rows)
    return dump
