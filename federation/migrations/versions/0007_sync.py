"""Sync: runs per batch, the ledger of synced records, mirrored bookings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "created >= 0 AND updated >= 0 AND deleted >= 0 AND unchanged >= 0 AND rejected >= 0",
            name=op.f("ck_sync_runs_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_sync_runs_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
        sa.UniqueConstraint("site_id", "batch_id", name=op.f("uq_sync_runs_site_id_batch_id")),
    )
    op.create_index(op.f("ix_sync_runs_site_id_id"), "sync_runs", ["site_id", "id"])
    op.create_table(
        "sync_records",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_sync_records_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "type", "external_id", name=op.f("pk_sync_records")),
    )
    op.create_table(
        "sync_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("membership", sa.String(length=128), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sync_bookings_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_sync_bookings_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_bookings")),
        sa.UniqueConstraint(
            "site_id", "external_id", name=op.f("uq_sync_bookings_site_id_external_id")
        ),
    )
    op.create_index(
        op.f("ix_sync_bookings_site_id_starts_at"), "sync_bookings", ["site_id", "starts_at"]
    )


def downgrade() -> None:
    op.drop_table("sync_bookings")
    op.drop_table("sync_records")
    op.drop_table("sync_runs")
