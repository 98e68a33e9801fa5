"""Alembic migrations: the only way the hub's tables come to exist or change."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData


def alembic_config(database_url: str, *, target_metadata: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "federation:migrations")
    config.attributes["database_url"] = database_url
    if target_metadata is not None:
        config.attributes["target_metadata"] = target_metadata
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default). Safe to run every start."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
