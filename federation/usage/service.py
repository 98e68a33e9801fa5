"""Recording and removing uses. Every write goes through here so that the statistics'
rollups change in the same transaction as the uses they count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import BadUserInput
from federation.usage.models import Use, UseKind, UseSource


@dataclass(frozen=True, slots=True)
class UseRecord:
    site_id: int
    day: date
    kind: UseKind
    units: int
    subject: str
    home_site_id: int | None
    source: UseSource
    external_id: str | None = None


def person_subject(person_id: object) -> str:
    return f"person:{person_id}"


def membership_subject(membership_id: int) -> str:
    return f"membership:{membership_id}"


async def record_use(session: AsyncSession, record: UseRecord) -> Use:
    """Add one use (within the caller's transaction)."""
    if record.units <= 0:
        raise BadUserInput("a use counts at least one unit", argument="units")
    use = Use(
        site_id=record.site_id,
        day=record.day,
        kind=record.kind,
        units=record.units,
        subject=record.subject,
        home_site_id=record.home_site_id,
        source=record.source,
        external_id=record.external_id,
    )
    session.add(use)
    await session.flush()
    return use


async def remove_use(session: AsyncSession, use: Use) -> None:
    """Remove one use (within the caller's transaction)."""
    await session.delete(use)
    await session.flush()


async def find_synced_use(session: AsyncSession, site_id: int, external_id: str) -> Use | None:
    query = select(Use).where(Use.site_id == site_id, Use.external_id == external_id)
    return await session.scalar(query)
