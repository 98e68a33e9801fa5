"""`federation calendar extend` as an operator runs it: a real process on a real file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from federation.calendar.models import Occurrence
from federation.db import Database
from federation.migrations import upgrade
from tests.factories import make_site
from tests.federation.calendar.support import make_event, soon


def federation(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "federation", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=120,
        check=False,
    )


def test_extend_materialises_open_ended_series_further_ahead(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)

    async def last_start(prepare: bool) -> object:
        db = Database(url)
        try:
            if prepare:
                site = await make_site(db, "casaco")
                await make_event(db, site, rrule="FREQ=WEEKLY", starts_at=soon(1))
            async with db.reading() as session:
                return await session.scalar(select(func.max(Occurrence.starts_at)))
        finally:
            await db.dispose()

    before = asyncio.run(last_start(True))
    done = federation("calendar", "extend", "--days", "800", url=url)
    assert done.returncode == 0, done.stderr
    assert "1 events" in done.stdout
    after = asyncio.run(last_start(False))
    assert isinstance(before, type(after))
    assert after > before  # type: ignore[operator]
    refused = federation("calendar", "extend", "--days", "0", url=url)
    assert refused.returncode == 2
