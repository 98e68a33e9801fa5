"""Alembic environment: runs migrations on a synchronous connection of the hub's database."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import DateTime, create_engine, pool
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

config = context.config


def sync_url(url: str) -> str:
    # Migrations run synchronously; psycopg 3 speaks both ways, SQLite needs its sync driver.
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    # Columns typed with the hub's TypeDecorators are plain SQL types in a migration, so a
    # migration never imports code that may change after it was written.
    if kind == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl
        if isinstance(impl, DateTime):
            return f"sa.DateTime(timezone={impl.timezone})"
        return f"sa.{impl!r}"
    return False


def run() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=config.attributes.get("target_metadata"),
            # SQLite can only ALTER a table by copying it; batch mode does that for us.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
