"""Events for the calendar scenarios (issue 5): weekly events over the generated spaces, so
that March 2027 holds about 60,000 occurrences at scale 1 (scaled with the number of spaces).

`add_weekly_events` is shared with bench/calendar_month.py (the calendar's own measurement,
on spaces of its own); here it runs on the spaces the generator made. Each event's VEVENTs
are rendered and stored by the calendar's own `render_ical`, as every write through the
hub does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import Database

MONTH_START = datetime(2027, 3, 1, tzinfo=UTC)
MONTH_END = datetime(2027, 4, 1, tzinfo=UTC)
OCCURRENCES_AT_1 = 60_000
SITES_AT_1 = 3_500


async def fill(url: str, occurrences: int | None = None) -> int:
    """Add the month's events unless the database already has events; their count.
    `occurrences` in March 2027: by default 60,000 scaled to the number of spaces."""
    from federation.calendar.models import Event
    from federation.directory.models import Site

    db = Database(url)
    try:
        async with db.transaction() as session:
            existing = await session.scalar(select(func.count()).select_from(Event)) or 0
            if existing:
                return int(existing)
            site_ids = list(await session.scalars(select(Site.id).order_by(Site.id)))
            if occurrences is None:
                occurrences = max(40, OCCURRENCES_AT_1 * len(site_ids) // SITES_AT_1)
            count = await add_weekly_events(session, site_ids, occurrences)
        if not db.is_sqlite:
            # What autovacuum does to freshly loaded rows: planner statistics, and the
            # visibility map that lets a month be counted from the index alone.
            async with db.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE events, event_occurrences"))
        return count
    finally:
        await db.dispose()


async def add_weekly_events(session: AsyncSession, site_ids: list[int], occurrences: int) -> int:
    """Weekly events over `site_ids` giving `occurrences` in March 2027, with their
    occurrences and rendered VEVENTs, as the calendar service stores them; their count."""
    from federation.calendar import service
    from federation.calendar.models import Category, Event, Occurrence

    now = datetime.now(UTC)
    categories = list(Category)
    rows = []
    for n in range(occurrences // 4):  # weekly: four a month
        start = MONTH_START + timedelta(hours=8 + n % 11, days=n % 7)
        rows.append(
            {
                "uid": f"{uuid.uuid4()}@bench",
                "site_id": site_ids[n % len(site_ids)],
                "source": "HUB",
                "title": f"Atelier {n}",
                "description": "Un atelier du réseau.",
                "category": categories[n % len(categories)],
                "starts_at": start,
                "ends_at": start + timedelta(hours=2),
                "timezone": "Europe/Paris",
                "all_day": False,
                "rrule": "FREQ=WEEKLY;COUNT=4",
                "exdates": [],
                "rdates": [],
                "audience": "PUBLIC",
                "attendance_mode": "OFFLINE",
                "registration_mode": "HUB",
                "registration_links": [],
                "accessibility": [],
                "keywords": [],
                "status": "CONFIRMED",
                "sequence": 0,
                "revised_at": now,
                "materialised_until": now + timedelta(days=400),
                "search_text": f"atelier {n}",
                "created_at": now,
                "updated_at": now,
                "capacity": 20,
            }
        )
    for chunk in range(0, len(rows), 5000):
        await session.execute(insert(Event), rows[chunk : chunk + 5000])
    ids = list(
        await session.execute(
            select(Event.id, Event.starts_at, Event.site_id, Event.category).order_by(Event.id)
        )
    )
    occurrence_rows = [
        {
            "event_id": event_id,
            "site_id": site_id,
            "audience": "PUBLIC",
            "category": category,
            "recurrence_id": start + timedelta(weeks=w),
            "starts_at": start + timedelta(weeks=w),
            "ends_at": start + timedelta(weeks=w, hours=2),
            "status": "CONFIRMED",
            "capacity": 20,
            "confirmed": 0,
        }
        for event_id, start, site_id, category in ids
        for w in range(4)
    ]
    for chunk in range(0, len(occurrence_rows), 5000):
        await session.execute(insert(Occurrence), occurrence_rows[chunk : chunk + 5000])
    for event in await session.scalars(select(Event)):
        await service.render_ical(session, event, [])
    return len(rows)


if __name__ == "__main__":
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description="Fill March 2027 with weekly events.")
    parser.add_argument("--db", required=True, help="postgresql://... or sqlite path URL")
    parser.add_argument("--occurrences", type=int, default=None)
    arguments = parser.parse_args()
    from federation.settings import normalise_database_url

    print(asyncio.run(fill(normalise_database_url(arguments.db), arguments.occurrences)), "events")
