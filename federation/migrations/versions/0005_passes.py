"""Cross-site passes: programmes, products and tiers, passes, check-ins, visit counters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pass_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("funders", sa.JSON(), nullable=False),
        sa.Column("coverage_percent", sa.Integer(), nullable=False),
        sa.Column("budget_cents", sa.Integer(), nullable=False),
        sa.Column("spent_cents", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("eligibility", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "budget_cents >= 0", name=op.f("ck_pass_programmes_budget_not_negative")
        ),
        sa.CheckConstraint(
            "coverage_percent BETWEEN 0 AND 100",
            name=op.f("ck_pass_programmes_coverage_is_percent"),
        ),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_pass_programmes_ends_after_start")
        ),
        sa.CheckConstraint(
            "places IS NULL OR issued <= places", name=op.f("ck_pass_programmes_within_places")
        ),
        sa.CheckConstraint(
            "spent_cents >= 0 AND spent_cents <= budget_cents",
            name=op.f("ck_pass_programmes_within_budget"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_programmes")),
        sa.UniqueConstraint("slug", name=op.f("uq_pass_programmes_slug")),
    )
    op.create_table(
        "pass_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CARNET",
                "MEMBERSHIP",
                "FUNDED",
                name="pass_product_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("issuer_site_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "DAY",
                "HALF_DAY",
                name="pass_credit_unit",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("network_share_bp", sa.Integer(), nullable=False),
        sa.Column("visit_value_cents", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'FUNDED') = (programme_id IS NOT NULL)",
            name=op.f("ck_pass_products_funded_has_programme"),
        ),
        sa.CheckConstraint(
            "kind <> 'MEMBERSHIP' OR visit_value_cents IS NOT NULL",
            name=op.f("ck_pass_products_membership_visit_value"),
        ),
        sa.CheckConstraint("credits > 0", name=op.f("ck_pass_products_credits_positive")),
        sa.CheckConstraint(
            "network_share_bp BETWEEN 0 AND 10000", name=op.f("ck_pass_products_share_is_fraction")
        ),
        sa.CheckConstraint("validity_days > 0", name=op.f("ck_pass_products_validity_positive")),
        sa.CheckConstraint(
            "visit_value_cents IS NULL OR visit_value_cents >= 0",
            name=op.f("ck_pass_products_visit_value_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_site_id"],
            ["sites.id"],
            name=op.f("fk_pass_products_issuer_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["pass_programmes.id"],
            name=op.f("fk_pass_products_programme_id_pass_programmes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_products")),
        sa.UniqueConstraint("name", name=op.f("uq_pass_products_name")),
    )
    op.create_table(
        "pass_programme_sites",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["pass_programmes.id"],
            name=op.f("fk_pass_programme_sites_programme_id_pass_programmes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_pass_programme_sites_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "site_id", name=op.f("pk_pass_programme_sites")),
    )
    op.create_table(
        "pass_price_tiers",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_pass_price_tiers_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["pass_products.id"],
            name=op.f("fk_pass_price_tiers_product_id_pass_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "name", name=op.f("pk_pass_price_tiers")),
    )
    op.create_table(
        "pass_site_limits",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["pass_products.id"],
            name=op.f("fk_pass_site_limits_product_id_pass_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_pass_site_limits_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "product_id", name=op.f("pk_pass_site_limits")),
    )
    op.create_table(
        "passes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=True),
        sa.Column("tier", sa.String(length=40), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("sold_by_site_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("network_share_bp", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("credits > 0", name=op.f("ck_passes_credits_positive")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_passes_price_not_negative")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= credits", name=op.f("ck_passes_remaining_in_credits")
        ),
        sa.CheckConstraint(
            "sold_by_site_id IS NOT NULL OR programme_id IS NOT NULL",
            name=op.f("ck_passes_has_a_payer"),
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_passes_version_positive")),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["people.id"],
            name=op.f("fk_passes_holder_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["pass_products.id"],
            name=op.f("fk_passes_product_id_pass_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["pass_programmes.id"],
            name=op.f("fk_passes_programme_id_pass_programmes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sold_by_site_id"],
            ["sites.id"],
            name=op.f("fk_passes_sold_by_site_id_sites"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passes")),
    )
    op.create_index(op.f("ix_passes_holder_id"), "passes", ["holder_id"], unique=False)
    op.create_index(op.f("ix_passes_product_id"), "passes", ["product_id"], unique=False)
    op.create_table(
        "pass_check_ins",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "ONLINE",
                "OFFLINE",
                name="pass_check_in_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "HALF_DAY",
                "DAY",
                name="pass_check_in_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("debited", sa.Integer(), nullable=False),
        sa.Column("remaining_after", sa.Integer(), nullable=True),
        sa.Column("over_use", sa.Boolean(), nullable=False),
        sa.Column("host_cents", sa.Integer(), nullable=False),
        sa.Column("share_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("debited >= 0", name=op.f("ck_pass_check_ins_debited_not_negative")),
        sa.CheckConstraint(
            "host_cents >= 0 AND share_cents >= 0",
            name=op.f("ck_pass_check_ins_amounts_not_negative"),
        ),
        sa.CheckConstraint("units >= 0", name=op.f("ck_pass_check_ins_units_not_negative")),
        sa.ForeignKeyConstraint(
            ["pass_id"],
            ["passes.id"],
            name=op.f("fk_pass_check_ins_pass_id_passes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_pass_check_ins_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_check_ins")),
        sa.UniqueConstraint(
            "site_id", "idempotency_key", name=op.f("uq_pass_check_ins_site_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_pass_check_ins_at"), "pass_check_ins", ["at"], unique=False)
    op.create_index(
        op.f("ix_pass_check_ins_pass_id_at"), "pass_check_ins", ["pass_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_pass_check_ins_site_id_day"), "pass_check_ins", ["site_id", "day"], unique=False
    )
    op.create_table(
        "pass_visit_counters",
        sa.Column("pass_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_pass_visit_counters_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["pass_id"],
            ["passes.id"],
            name=op.f("fk_pass_visit_counters_pass_id_passes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_pass_visit_counters_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pass_id", "site_id", "month", name=op.f("pk_pass_visit_counters")),
    )


def downgrade() -> None:
    op.drop_table("pass_visit_counters")
    op.drop_index(op.f("ix_pass_check_ins_site_id_day"), table_name="pass_check_ins")
    op.drop_index(op.f("ix_pass_check_ins_pass_id_at"), table_name="pass_check_ins")
    op.drop_index(op.f("ix_pass_check_ins_at"), table_name="pass_check_ins")
    op.drop_table("pass_check_ins")
    op.drop_index(op.f("ix_passes_product_id"), table_name="passes")
    op.drop_index(op.f("ix_passes_holder_id"), table_name="passes")
    op.drop_table("passes")
    op.drop_table("pass_site_limits")
    op.drop_table("pass_price_tiers")
    op.drop_table("pass_programme_sites")
    op.drop_table("pass_products")
    op.drop_table("pass_programmes")
