"""Pooled event calendar: events, overrides, occurrences, registrations, private feed tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "HUB",
                "SYNCED",
                name="event_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
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
                name="event_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("rdates", sa.JSON(), nullable=False),
        sa.Column("location_site_id", sa.Integer(), nullable=True),
        sa.Column("location_address", sa.String(length=300), nullable=True),
        sa.Column(
            "audience",
            sa.Enum(
                "PUBLIC",
                "NETWORK",
                "MEMBERS",
                name="event_audience",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "attendance_mode",
            sa.Enum(
                "OFFLINE",
                "ONLINE",
                "MIXED",
                name="attendance_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("price", sa.String(length=200), nullable=True),
        sa.Column(
            "registration_mode",
            sa.Enum(
                "NONE",
                "HUB",
                "EXTERNAL",
                name="registration_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("registration_links", sa.JSON(), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "CONFIRMED",
                "CANCELLED",
                "POSTPONED",
                "FULL",
                name="event_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("materialised_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("ical", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(source = 'SYNCED') = (external_id IS NOT NULL)",
            name=op.f("ck_events_synced_have_external_id"),
        ),
        sa.CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max",
            name=op.f("ck_events_age_range_ordered"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_events_capacity_not_negative")
        ),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_events_sequence_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_site_id"],
            ["sites.id"],
            name=op.f("fk_events_location_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_events_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("site_id", "external_id", name=op.f("uq_events_site_id_external_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_events_uid")),
    )
    op.create_index(
        op.f("ix_events_materialised_until"), "events", ["materialised_until"], unique=False
    )
    op.create_index(op.f("ix_events_site_id"), "events", ["site_id"], unique=False)
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_calendar_feed_tokens_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_calendar_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_tokens_token_hash")),
    )
    op.create_table(
        "event_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("recurrence_id", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CONFIRMED",
                "CANCELLED",
                "POSTPONED",
                "FULL",
                name="event_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "confirmed >= 0 AND (capacity IS NULL OR confirmed <= capacity)",
            name=op.f("ck_event_occurrences_confirmed_within_capacity"),
        ),
        sa.CheckConstraint(
            "ends_at >= starts_at", name=op.f("ck_event_occurrences_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_occurrences_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_occurrences")),
        sa.UniqueConstraint(
            "event_id", "recurrence_id", name=op.f("uq_event_occurrences_event_id_recurrence_id")
        ),
    )
    op.create_index(
        op.f("ix_event_occurrences_starts_at_id"),
        "event_occurrences",
        ["starts_at", "id"],
        unique=False,
    )
    op.create_table(
        "event_overrides",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("recurrence_id", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CONFIRMED",
                "CANCELLED",
                "POSTPONED",
                "FULL",
                name="event_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "ends_at >= starts_at", name=op.f("ck_event_overrides_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_overrides_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "recurrence_id", name=op.f("pk_event_overrides")),
    )
    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "CONFIRMED",
                "WAITLISTED",
                "CANCELLED",
                name="registration_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["event_occurrences.id"],
            name=op.f("fk_event_registrations_occurrence_id_event_occurrences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_event_registrations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint(
            "occurrence_id",
            "person_id",
            name=op.f("uq_event_registrations_occurrence_id_person_id"),
        ),
    )
    op.create_index(
        op.f("ix_event_registrations_occurrence_id_status_created_at_id"),
        "event_registrations",
        ["occurrence_id", "status", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_event_registrations_person_id"), "event_registrations", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_registrations_person_id"), table_name="event_registrations")
    op.drop_index(
        op.f("ix_event_registrations_occurrence_id_status_created_at_id"),
        table_name="event_registrations",
    )
    op.drop_table("event_registrations")
    op.drop_table("event_overrides")
    op.drop_index(op.f("ix_event_occurrences_starts_at_id"), table_name="event_occurrences")
    op.drop_table("event_occurrences")
    op.drop_table("calendar_feed_tokens")
    op.drop_index(op.f("ix_events_site_id"), table_name="events")
    op.drop_index(op.f("ix_events_materialised_until"), table_name="events")
    op.drop_table("events")
