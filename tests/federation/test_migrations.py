"""Migrations are the only way tables exist: from empty to head, and they match the models."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

import federation
from federation.db import metadata
from federation.migrations import alembic_config, head_revision, upgrade
from tests.conftest import _libpq, _postgres_server


def import_every_domains_tables() -> None:
    for module in pkgutil.iter_modules(federation.__path__):
        if module.ispkg and (Path(federation.__path__[0]) / module.name / "models.py").exists():
            importlib.import_module(f"federation.{module.name}.models")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server, reason = _postgres_server()
    if server is None:
        pytest.skip(f"PostgreSQL run skipped: PostgreSQL at {reason}")
    name = f"federation_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(server)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sync_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url.replace("sqlite+aiosqlite", "sqlite"))


def test_migrations_build_every_table_from_an_empty_database_and_match_the_models(
    empty_database: str,
) -> None:
    upgrade(empty_database)
    import_every_domains_tables()
    engine = sync_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        drift = compare_metadata(context, metadata)
    engine.dispose()
    assert drift == [], "models and migrations differ: write a migration for this change"


def test_migrations_go_down_to_nothing_and_up_again(empty_database: str) -> None:
    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    engine = sync_engine(empty_database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_database)
    engine = sync_engine(empty_database)
    assert "sites" in inspect(engine).get_table_names()
    engine.dispose()


def test_migrating_twice_changes_nothing(empty_database: str) -> None:
    upgrade(empty_database)
    upgrade(empty_database)
    engine = sync_engine(empty_database)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    engine.dispose()
