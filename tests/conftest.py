"""Every database test runs on SQLite and, when it is reachable, on PostgreSQL.

FEDERATION_TEST_POSTGRES_URL set: PostgreSQL runs are required (CI sets it); an
unreachable server fails the run. Unset: the local default server is tried, and the
PostgreSQL runs are skipped, and counted in the summary, if it does not answer.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from federation.db import Database
from federation.migrations import upgrade
from federation.settings import normalise_database_url
from tests.support import Hub

POSTGRES_ENV = "FEDERATION_TEST_POSTGRES_URL"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

_server: tuple[str | None, str] | None = None


def _postgres_server() -> tuple[str | None, str]:
    """(URL of a reachable server, or None and why not), probed once per run."""
    global _server
    if _server is None:
        url = os.environ.get(POSTGRES_ENV) or LOCAL_POSTGRES
        try:
            with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _server = (url, "")
        except psycopg.Error as error:
            where = make_url(url).render_as_string(hide_password=True)
            _server = (None, f"{where} unreachable: {str(error).strip().splitlines()[0]}")
    return _server


def pytest_sessionstart(session: pytest.Session) -> None:
    server, reason = _postgres_server()
    if server is None and os.environ.get(POSTGRES_ENV):
        pytest.exit(f"{POSTGRES_ENV} is set, so PostgreSQL is required, but {reason}", returncode=3)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets its own copy (cheaper than migrating again)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the test server, migrated once, dropped at the end."""
    server, _ = _postgres_server()
    if server is None:
        yield None
        return
    name = f"federation_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = normalise_database_url(
        make_url(server).set(database=name).render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    if url is None:
        pytest.skip(f"PostgreSQL run skipped: PostgreSQL at {_postgres_server()[1]}")
    yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if not database.is_sqlite:
        # One database for the session; each test starts from empty tables.
        async with database.engine.begin() as conn:
            names = await conn.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'alembic_version'"
                )
            )
            tables = ", ".join(f'"{name}"' for name in names)
            if tables:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def hub(db: Database) -> AsyncIterator[Hub]:
    async with Hub.running(db) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "PostgreSQL run skipped" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep("=", "PostgreSQL", yellow=True)
        terminalreporter.write_line(
            f"{len(skipped)} PostgreSQL runs of database tests were SKIPPED: "
            f"PostgreSQL at {_postgres_server()[1]}"
        )
        terminalreporter.write_line(f"Set {POSTGRES_ENV} (as .ci/run does) to require them.")
