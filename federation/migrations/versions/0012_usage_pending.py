"""A queue of uses whose rollup rows are not written yet

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23

Check-ins and sync batches append the uses they add or take away here instead of writing
the rollups in their own transaction; `usage.service.catch_up` applies the queue in
batches. Empty when created: every existing use is already in the rollups.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "OPEN_SPACE",
                "OFFICE",
                "MEETING_ROOM",
                name="use_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("home_site_id", sa.Integer(), nullable=True),
        sa.Column("sign", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("sign IN (-1, 1)", name=op.f("ck_usage_pending_sign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_pending")),
    )


def downgrade() -> None:
    # Uses still queued are in `uses` but not yet in the rollups: after going back, run
    # `federation stats rebuild` (the README says so).
    op.drop_table("usage_pending")
