"""Directory: spaces, their plans and amenities, people and their skills.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "legal_form",
            _enum(
                "legal_form",
                "ASSOCIATION",
                "COMPANY",
                "LOCAL_AUTHORITY",
                "SCIC",
                "SCOP",
                "PUBLIC_INSTITUTION",
                "OTHER",
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("surface_m2", sa.Integer(), nullable=True),
        sa.Column("desks", sa.Integer(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("website", sa.String(300), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("accepts_network_passes", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.Date(), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("city_key", sa.String(120), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("desks >= 0", name=op.f("ck_sites_desks_not_negative")),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
            name=op.f("ck_sites_coordinates_on_earth"),
        ),
        sa.CheckConstraint(
            "slug = lower(slug) AND length(slug) BETWEEN 2 AND 64",
            name=op.f("ck_sites_slug_is_lowercase"),
        ),
        sa.CheckConstraint(
            "surface_m2 IS NULL OR surface_m2 > 0", name=op.f("ck_sites_surface_positive")
        ),
        sa.UniqueConstraint("slug", name=op.f("uq_sites_slug")),
    )
    op.create_index(op.f("ix_sites_city_key"), "sites", ["city_key"])
    op.create_index(op.f("ix_sites_lat_lon"), "sites", ["lat", "lon"])
    op.create_index(op.f("ix_sites_name_key_id"), "sites", ["name_key", "id"])
    op.create_index(op.f("ix_sites_region"), "sites", ["region"])

    op.create_table(
        "site_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "site_id",
            sa.Integer(),
            sa.ForeignKey("sites.id", ondelete="CASCADE", name=op.f("fk_site_plans_site_id_sites")),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column(
            "unit", _enum("plan_unit", "HOUR", "HALF_DAY", "DAY", "MONTH", "YEAR"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_site_plans_price_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_site_plans_quantity_positive")),
        sa.CheckConstraint(
            "vat_rate >= 0 AND vat_rate < 100", name=op.f("ck_site_plans_vat_rate_percent")
        ),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_site_plans_site_id_name")),
    )

    op.create_table(
        "site_amenities",
        sa.Column(
            "site_id",
            sa.Integer(),
            sa.ForeignKey(
                "sites.id", ondelete="CASCADE", name=op.f("fk_site_amenities_site_id_sites")
            ),
            primary_key=True,
        ),
        sa.Column(
            "amenity",
            _enum(
                "amenity",
                "OPEN_SPACE",
                "PRIVATE_OFFICE",
                "MEETING_ROOM",
                "EVENT_SPACE",
                "PHONE_BOOTH",
                "KITCHEN",
                "GARDEN",
                "FABLAB",
                "VR_HEADSET",
                "PRINTER",
                "PRODUCE_PICKUP",
                "BIKE_PARKING",
                "STEP_FREE_ACCESS",
                "CHILDCARE",
            ),
            primary_key=True,
        ),
    )
    op.create_index(
        op.f("ix_site_amenities_amenity_site_id"), "site_amenities", ["amenity", "site_id"]
    )

    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("profession", sa.String(120), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column(
            "home_site_id",
            sa.Integer(),
            sa.ForeignKey(
                "sites.id", ondelete="SET NULL", name=op.f("fk_people_home_site_id_sites")
            ),
            nullable=True,
        ),
        sa.Column(
            "visibility", _enum("visibility", "PUBLIC", "NETWORK", "SITE", "HIDDEN"), nullable=False
        ),
        sa.Column("name_key", sa.String(120), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_timestamps(),
    )
    op.create_index(op.f("ix_people_home_site_id"), "people", ["home_site_id"])
    op.create_index(
        op.f("ix_people_visibility_name_key_id"), "people", ["visibility", "name_key", "id"]
    )

    op.create_table(
        "person_skills",
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey(
                "people.id", ondelete="CASCADE", name=op.f("fk_person_skills_person_id_people")
            ),
            primary_key=True,
        ),
        sa.Column("skill_key", sa.String(80), primary_key=True),
        sa.Column("skill", sa.String(80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index(
        op.f("ix_person_skills_skill_key_person_id"), "person_skills", ["skill_key", "person_id"]
    )


def downgrade() -> None:
    op.drop_table("person_skills")
    op.drop_table("people")
    op.drop_table("site_amenities")
    op.drop_table("site_plans")
    op.drop_table("sites")
