"""Calendar: occurrences carry what lists filter on (space, audience, category)

A month of the network's events, its first page and its total, is then one range scan of
`ix_event_occurrences_month` without a join to `events`. Existing rows are filled from
their event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

AUDIENCES = ("PUBLIC", "NETWORK", "MEMBERS")
CATEGORIES = (
    "WORKSHOP",
    "CO_DEVELOPMENT",
    "AFTERWORK",
    "TRAINING",
    "INFO_SESSION",
    "OPEN_DAY",
    "WEEKEND",
    "MARKET",
    "MEETING",
    "OTHER",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # Added nullable, filled from the events, then made NOT NULL with their CHECKs.
    with op.batch_alter_table("event_occurrences") as batch:
        batch.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("audience", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("category", sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # one join rather than three lookups a row
        # The fill fires 0008's deferred data-version triggers; left pending until commit,
        # they would forbid the ALTER TABLE below. Fired at each statement's end instead.
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
        op.execute(
            "UPDATE event_occurrences o"
            " SET site_id = e.site_id, audience = e.audience, category = e.category"
            " FROM events e WHERE e.id = o.event_id"
        )
    else:
        op.execute(
            "UPDATE event_occurrences SET"
            " site_id = (SELECT e.site_id FROM events e WHERE e.id = event_occurrences.event_id),"
            " audience = (SELECT e.audience FROM events e WHERE e.id = event_occurrences.event_id),"
            " category = (SELECT e.category FROM events e WHERE e.id = event_occurrences.event_id)"
        )
    with op.batch_alter_table("event_occurrences") as batch:
        batch.alter_column("audience", existing_type=sa.String(length=32), nullable=False)
        batch.alter_column("category", existing_type=sa.String(length=32), nullable=False)
        batch.create_check_constraint(
            op.f("ck_event_occurrences_event_audience"), _in("audience", AUDIENCES)
        )
        batch.create_check_constraint(
            op.f("ck_event_occurrences_event_category"), _in("category", CATEGORIES)
        )
        batch.create_foreign_key(
            op.f("fk_event_occurrences_site_id_sites"),
            "sites",
            ["site_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_index(op.f("ix_event_occurrences_starts_at_id"))
        batch.create_index(
            op.f("ix_event_occurrences_month"),
            ["starts_at", "id", "audience", "category", "site_id"],
        )
        batch.create_index(
            op.f("ix_event_occurrences_site_id_starts_at_id"), ["site_id", "starts_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("event_occurrences") as batch:
        batch.drop_index(op.f("ix_event_occurrences_site_id_starts_at_id"))
        batch.drop_index(op.f("ix_event_occurrences_month"))
        batch.create_index(op.f("ix_event_occurrences_starts_at_id"), ["starts_at", "id"])
        batch.drop_constraint(op.f("fk_event_occurrences_site_id_sites"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_event_occurrences_event_category"), type_="check")
        batch.drop_constraint(op.f("ck_event_occurrences_event_audience"), type_="check")
        batch.drop_column("category")
        batch.drop_column("audience")
        batch.drop_column("site_id")
