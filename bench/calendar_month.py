"""A month of the national calendar: the first page of the network's events and the full
month's feed (issue 5's targets: p95 < 50 ms; the feed streamed in < 1 s).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python -m bench.calendar_month [--occurrences 60000] [--runs 50]

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select, text

from bench.events import add_weekly_events
from federation.access import ANONYMOUS
from federation.app import create_app
from federation.calendar import service
from federation.calendar.models import Event
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
        await add_weekly_events(session, site_ids, occurrences)
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
