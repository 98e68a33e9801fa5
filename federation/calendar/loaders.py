"""Batched calendar reads for GraphQL: one statement for every key a request asks for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.calendar.models import Registration


async def registrations_by_person_occurrence(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[Registration | None]:
    """(person id, occurrence id) -> that person's registration there, if any."""
    people = sorted({person for person, _ in keys})
    occurrences = sorted({occurrence for _, occurrence in keys})
    rows = await session.scalars(
        select(Registration).where(
            Registration.person_id.in_(people), Registration.occurrence_id.in_(occurrences)
        )
    )
    found = {(r.person_id, r.occurrence_id): r for r in rows}
    return [found.get(key) for key in keys]
