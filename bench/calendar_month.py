"""A month of the national calendar: the first page of the network's events and the full
month's feed (issue 5's targets: p95 < 50 ms; the feed streamed in < 1 s).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/calendar_month.py [--occurrences 60000] [--runs 50]

Without DATABASE_URL a throwaway SQLite file is used. The database is migrated, and the
calendar's tables are filled in bulk (weekly events over ~3,500 spaces) unless they
already hold events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select, text

from federation.access import ANONYMOUS
from federation.app import create_app
from federation.calendar import service
from federation.calendar.models import Category, Event, Occurrence
from federation.db import Database
from federation.directory.models import Site
from federation.kit.pagination import PageRequest
from federation.migrations import upgrade
from federation.settings import Settings

MONTH_START = datetime(2027, 3, 1, tzinfo=UTC)
SPACES = 3500


async def fill(db: Database, occurrences: int) -> None:
    async with db.transaction() as session:
        if await session.scalar(select(func.count()).select_from(Event)):
            return
        now = datetime.now(UTC)
        await session.execute(
            insert(Site),
            [
                {
                    "slug": f"bench-{n}",
                    "name": f"Tiers-lieu {n}",
                    "legal_form": "ASSOCIATION",
                    "description": "",
                    "address": f"{n} rue du Bench",
                    "postcode": "75011",
                    "city": "Paris",
                    "region": "Île-de-France",
                    "lat": 48.85,
                    "lon": 2.35,
                    "desks": 10,
                    "opening_hours": [],
                    "accepts_network_passes": True,
                    "joined_at": now.date(),
                    "name_key": f"tiers-lieu {n}",
                    "city_key": "paris",
                    "search_text": f"tiers-lieu {n}",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(SPACES)
            ],
        )
        site_ids = list(await session.scalars(select(Site.id).order_by(Site.id)))
        categories = list(Category)
        events = occurrences // 4  # weekly: four a month
        rows = []
        for n in range(events):
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
        # What the service stores on every write: the event's rendered VEVENTs.
        for event in await session.scalars(select(Event)):
            await service.render_ical(session, event, [])
    if not db.is_sqlite:
        # Fresh bulk data has no planner statistics yet (autovacuum would gather them).
        async with db.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


async def first_page(db: Database, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        begun = time.perf_counter()
        async with db.reading() as session:
            page = await service.list_occurrences(
                session,
                ANONYMOUS,
                start=MONTH_START,
                end=MONTH_START + timedelta(days=31),
                filters=service.EventFilter(),
                page=PageRequest(first=20, after=None),
            )
            await page.count(session)  # totalCount: the costlier half
        timings.append((time.perf_counter() - begun) * 1000)
    return timings


async def feed(db: Database, url: str) -> tuple[float, int]:
    app = create_app(Settings(database_url=url, allow_insecure_http=True), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as http:
        begun = time.perf_counter()
        size = 0
        params = {"from": "2027-03-01", "to": "2027-04-01"}
        async with http.stream("GET", "/calendar.ics", params=params) as response:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
        return time.perf_counter() - begun, size


async def main(occurrences: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{Path(folder) / 'b.db'}"
        upgrade(url)
        db = Database(url)
        try:
            await fill(db, occurrences)
            timings = sorted(await first_page(db, runs))
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            print(
                f"first page of a month: median {statistics.median(timings):.1f} ms, "
                f"p95 {p95:.1f} ms (target < 50 ms)"
            )
            seconds, size = await feed(db, url)
            print(f"full month feed: {size / 1e6:.1f} MB in {seconds:.2f} s (target < 1 s)")
        finally:
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.occurrences, arguments.runs))
