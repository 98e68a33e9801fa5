"""Signing keys; memberships and uses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("private_jwk", sa.JSON(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "uses",
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
        sa.Column(
            "source",
            sa.Enum(
                "CHECK_IN",
                "SYNC",
                "KIOSK",
                name="use_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_uses_units_positive")),
        sa.ForeignKeyConstraint(
            ["home_site_id"],
            ["sites.id"],
            name=op.f("fk_uses_home_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_uses_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uses")),
        sa.UniqueConstraint("site_id", "external_id", name=op.f("uq_uses_site_id_external_id")),
    )
    op.create_index(op.f("ix_uses_day"), "uses", ["day"])
    op.create_index(op.f("ix_uses_site_id_day"), "uses", ["site_id", "day"])

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("plan", sa.String(length=120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_memberships_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_memberships_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_memberships_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "site_id", "external_id", name=op.f("uq_memberships_site_id_external_id")
        ),
    )
    op.create_index(op.f("ix_memberships_starts_on"), "memberships", ["starts_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_memberships_starts_on"), table_name="memberships")

    op.drop_table("memberships")
    op.drop_index(op.f("ix_uses_site_id_day"), table_name="uses")
    op.drop_index(op.f("ix_uses_day"), table_name="uses")

    op.drop_table("uses")
    op.drop_table("signing_keys")
