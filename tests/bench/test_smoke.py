"""The benchmark suite stays alive: a tiny dataset in SQLite, every scenario run once.

Asserts that the generator loads and that every scenario runs against real servers with no
errors (and, for check-ins, never over-spends a pass), never how fast anything is.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench import scenarios
from bench.generate import generate
from bench.run import run
from tests.federation.test_migrations import empty_database as empty_database


def test_the_generator_is_deterministic_and_every_scenario_runs_without_errors(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    first = generate(url, 0.001, seed=7, log=lambda *_: None)
    assert first.sites >= 4
    assert first.people >= 40
    assert first.uses > 1_000

    output = tmp_path / "results.json"
    record = run(
        url,
        concurrency=[2],
        duration=1.0,
        workers=1,
        peer=False,
        output=output,
        quiet=True,
        sync_records=1_000,
    )

    assert json.loads(output.read_text())["results"] == json.loads(json.dumps(record["results"]))
    ran = {row["scenario"] for row in record["results"]}
    assert ran == {s.name for s in scenarios.ALL if s.name not in record["skipped"]}
    for row in record["results"]:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
    assert not [note for note in record["notes"] if "OVER-SPENT" in note]
    if "checkin_hot" in ran:
        assert [note for note in record["notes"] if "zero over-spend" in note]


def test_generating_twice_gives_the_same_dataset(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    path = tmp_path / "bench.db"

    def fingerprint() -> list[tuple[object, ...]]:
        with sqlite3.connect(path) as connection:
            return [
                *connection.execute("SELECT slug, legal_form, lat, lon FROM sites ORDER BY id"),
                *connection.execute("SELECT id, display_name FROM people ORDER BY id"),
                connection.execute(
                    "SELECT count(*), sum(units), sum(site_id * julianday(day)) FROM uses"
                ).fetchone(),
                *connection.execute(
                    "SELECT period, starts_on, site_id, kind, shard, uses FROM usage_uses_by_period"
                    " ORDER BY 1, 2, 3, 4, 5"
                ),
            ]

    generate(url, 0.0001, seed=11, log=lambda *_: None)
    first = fingerprint()
    generate(url, 0.0001, seed=11, log=lambda *_: None)
    assert fingerprint() == first


def test_the_generator_loads_postgresql_through_copy_with_the_hubs_triggers_in_place(
    empty_database: str,
) -> None:
    # PostgreSQL takes the COPY path, with its own index and trigger handling.
    if empty_database.startswith("sqlite"):
        pytest.skip("SQLite is loaded row by row: the smoke test above covers it")
    loaded = generate(empty_database, 0.001, seed=7, log=lambda *_: None)
    assert loaded.sites >= 4
    assert loaded.uses > 1_000
