"""Usage rollups for statistics: uses, active people, visits and new members per period

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PERIODS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
KINDS = ("OPEN_SPACE", "OFFICE", "MEETING_ROOM")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _period_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("period", _enum(PERIODS, "period"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "usage_uses_by_period",
        *_period_columns(),
        sa.Column("kind", _enum(KINDS, "use_kind"), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_usage_uses_by_period_uses_not_negative")),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "site_id", "kind", name=op.f("pk_usage_uses_by_period")
        ),
    )
    op.create_table(
        "usage_active_subjects",
        *_period_columns(),
        sa.Column("home_site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_usage_active_subjects_uses_not_negative")),
        sa.PrimaryKeyConstraint(
            "period",
            "starts_on",
            "site_id",
            "home_site_id",
            "subject",
            name=op.f("pk_usage_active_subjects"),
        ),
    )
    op.create_table(
        "usage_active_counts",
        *_period_columns(),
        sa.Column("home_site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint("people >= 0", name=op.f("ck_usage_active_counts_people_not_negative")),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "site_id", "home_site_id", name=op.f("pk_usage_active_counts")
        ),
    )
    op.create_table(
        "usage_visits_by_period",
        *_period_columns(),
        sa.Column("home_site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_usage_visits_by_period_uses_not_negative")),
        sa.PrimaryKeyConstraint(
            "period",
            "starts_on",
            "site_id",
            "home_site_id",
            name=op.f("pk_usage_visits_by_period"),
        ),
    )
    op.create_table(
        "usage_new_members_by_period",
        *_period_columns(),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "members >= 0", name=op.f("ck_usage_new_members_by_period_members_not_negative")
        ),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "site_id", name=op.f("pk_usage_new_members_by_period")
        ),
    )
    op.create_index(op.f("ix_uses_subject"), "uses", ["subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_uses_subject"), table_name="uses")
    op.drop_table("usage_new_members_by_period")
    op.drop_table("usage_visits_by_period")
    op.drop_table("usage_active_counts")
    op.drop_table("usage_active_subjects")
    op.drop_table("usage_uses_by_period")
