"""`federation stats rebuild` as an operator runs it: a real process on a real file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import delete

from federation.db import Database
from federation.migrations import upgrade
from federation.usage.models import ActiveCount, UsesByPeriod
from tests.federation.stats.helpers import make_space, record_all, use
from tests.federation.usage.factories import rollup_rows


def federation(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "federation", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=120,
        check=False,
    )


def test_rebuild_restores_lost_rollups_from_the_raw_uses(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)

    async def prepare() -> dict[str, list[tuple[object, ...]]]:
        db = Database(url)
        a, b = await make_space(db), await make_space(db)
        await record_all(
            db,
            [
                use(a, date(2025, 3, 3), "p1", units=2),
                use(b, date(2025, 12, 31), "p1", home=a),
                use(b, date(2026, 1, 2), "p2"),
            ],
        )
        expected = await rollup_rows(db)
        async with db.transaction() as session:
            await session.execute(delete(UsesByPeriod))
            await session.execute(delete(ActiveCount))
        await db.dispose()
        return expected

    async def rows() -> dict[str, list[tuple[object, ...]]]:
        db = Database(url)
        try:
            return await rollup_rows(db)
        finally:
            await db.dispose()

    expected = asyncio.run(prepare())
    ranged = federation("stats", "rebuild", "--from", "2025-12-01", "--to", "2026-01-31", url=url)
    assert ranged.returncode == 0, ranged.stderr
    assert "statistics rebuilt from 2025-12-01 to 2026-01-31 (2 uses" in ranged.stdout
    partly = asyncio.run(rows())
    assert partly != expected  # March 2025 was outside the range
    everything = federation("stats", "rebuild", url=url)
    assert everything.returncode == 0, everything.stderr
    assert asyncio.run(rows()) == expected


def test_rebuild_refuses_a_range_that_ends_before_it_starts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = federation("stats", "rebuild", "--from", "2025-03-02", "--to", "2025-03-01", url=url)
    assert result.returncode == 1
    assert result.stderr.strip() == "federation: `from` must not be after `to`"
