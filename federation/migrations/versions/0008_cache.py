"""Data versions for the public-read cache, bumped by triggers on the public tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

Every write to a table that anonymous GraphQL queries read bumps that table's row in
`data_versions`, in the writing transaction, on both databases, whichever code wrote.

PostgreSQL: a deferred constraint trigger bumps at commit, once per table and transaction
(a transaction-local setting remembers it). At commit every other lock the transaction
needs is already held, and every writer locks the `*` row before any table's row, so
the bumps neither deadlock with each other nor with the data rows. TRUNCATE has its own
statement trigger. SQLite: writers are serialised by the database lock; a row trigger
upserts the counter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# What anonymous queries read: the directory (spaces, their amenities and plans, people and
# their skills) and the calendar (events, occurrences, overrides, registrations' counts).
PUBLIC_TABLES = (
    "sites",
    "site_amenities",
    "site_plans",
    "people",
    "person_skills",
    "events",
    "event_occurrences",
    "event_overrides",
    "event_registrations",
)

_PG_FUNCTION = """
CREATE FUNCTION data_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'TRUNCATE'
       AND current_setting('federation_dv.' || TG_TABLE_NAME, true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO data_versions (name, version) VALUES ('*', 1)
        ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1;
    INSERT INTO data_versions (name, version) VALUES (TG_TABLE_NAME, 1)
        ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1;
    PERFORM set_config('federation_dv.' || TG_TABLE_NAME, 'on', true);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(
        sa.table("data_versions", sa.column("name"), sa.column("version")),
        [{"name": name, "version": 0} for name in ("*", *PUBLIC_TABLES)],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in PUBLIC_TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER data_versions_bump AFTER INSERT OR UPDATE OR DELETE"
                f" ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                f" EXECUTE FUNCTION data_versions_bump()"
            )
            op.execute(
                f"CREATE TRIGGER data_versions_truncate AFTER TRUNCATE ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION data_versions_bump()"
            )
        return
    for table in PUBLIC_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            # Table names are this file's constants, never input.
            trigger = f"data_versions_{table}_{event.lower()}"
            bump = (
                f"INSERT INTO data_versions (name, version) VALUES ('{table}', 1)"  # noqa: S608
                " ON CONFLICT (name) DO UPDATE SET version = version + 1"
            )
            op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN {bump}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in PUBLIC_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS data_versions_bump ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS data_versions_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS data_versions_bump()")
    else:
        for table in PUBLIC_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS data_versions_{table}_{event}")
    op.drop_table("data_versions")
