"""Calendar tables: events (a space's or the network's), their overridden occurrences, the
occurrences materialised for a rolling horizon, registrations and private feed tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as text with a CHECK constraint: readable in psql, same on SQLite.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Category(enum.StrEnum):
    WORKSHOP = "WORKSHOP"
    CO_DEVELOPMENT = "CO_DEVELOPMENT"
    AFTERWORK = "AFTERWORK"
    TRAINING = "TRAINING"
    INFO_SESSION = "INFO_SESSION"
    OPEN_DAY = "OPEN_DAY"
    WEEKEND = "WEEKEND"
    MARKET = "MARKET"
    MEETING = "MEETING"
    OTHER = "OTHER"


class Audience(enum.StrEnum):
    PUBLIC = "PUBLIC"  # anyone, signed in or not
    NETWORK = "NETWORK"  # any signed-in person or space of the network
    MEMBERS = "MEMBERS"  # people of the organising space (its managers, the coordinators)


class AttendanceMode(enum.StrEnum):
    OFFLINE = "OFFLINE"
    ONLINE = "ONLINE"
    MIXED = "MIXED"


class EventStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    POSTPONED = "POSTPONED"
    FULL = "FULL"


class EventSource(enum.StrEnum):
    HUB = "HUB"  # created in the hub
    SYNCED = "SYNCED"  # mirrored from a space's own tool


class RegistrationMode(enum.StrEnum):
    NONE = "NONE"  # just come
    HUB = "HUB"  # register in the hub, with capacity and a waiting list
    EXTERNAL = "EXTERNAL"  # through the links given


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"
    WAITLISTED = "WAITLISTED"
    CANCELLED = "CANCELLED"


class Event(Base):
    """One event or one recurring series, as its organiser describes it (OpenAgenda's words)."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range_ordered"
        ),
        CheckConstraint(
            "(source = 'SYNCED') = (external_id IS NOT NULL)", name="synced_have_external_id"
        ),
        # A space's tool names its events by external id: one row per id, whatever the retries.
        UniqueConstraint("site_id", "external_id"),
        Index(None, "site_id"),
        Index(None, "materialised_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The iCalendar UID: given once, kept for the life of the event, so clients never duplicate.
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    source: Mapped[EventSource] = mapped_column(_enum(EventSource, "event_source"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(_enum(Category, "event_category"))
    # The first occurrence; the series' times come from the rule in `timezone`.
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    all_day: Mapped[bool] = mapped_column(default=False)
    rrule: Mapped[str | None] = mapped_column(String(500))
    # Aware instants, ISO 8601 in UTC.
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    rdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL")
    )
    location_address: Mapped[str | None] = mapped_column(String(300))
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "event_audience"))
    attendance_mode: Mapped[AttendanceMode] = mapped_column(
        _enum(AttendanceMode, "attendance_mode")
    )
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    price: Mapped[str | None] = mapped_column(String(200))
    registration_mode: Mapped[RegistrationMode] = mapped_column(
        _enum(RegistrationMode, "registration_mode")
    )
    registration_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"))
    url: Mapped[str | None] = mapped_column(String(500))
    # iCalendar SEQUENCE and DTSTAMP: bumped on changes that matter to attendees.
    sequence: Mapped[int] = mapped_column(default=0)
    revised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The space's own last-modified time: older data never overwrites newer.
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    materialised_until: Mapped[datetime] = mapped_column(UtcDateTime)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The event's VEVENTs as published, rendered once per revision: a month of the national
    # feed is then a stream of stored text, not tens of thousands of renderings.
    ical: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class EventOverride(Base):
    """One occurrence of a series moved, renamed or cancelled (iCalendar RECURRENCE-ID)."""

    __tablename__ = "event_overrides"
    __table_args__ = (CheckConstraint("ends_at >= starts_at", name="ends_after_start"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    recurrence_id: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[EventStatus | None] = mapped_column(_enum(EventStatus, "event_status"))


class Occurrence(Base):
    """One dated occurrence: what lists, feeds of registrations and registrations address.

    `confirmed` counts confirmed registrations; the CHECK keeps it within `capacity`, so a
    conditional UPDATE is what admits a person, on both databases, under any concurrency.
    """

    __tablename__ = "event_occurrences"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint(
            "confirmed >= 0 AND (capacity IS NULL OR confirmed <= capacity)",
            name="confirmed_within_capacity",
        ),
        UniqueConstraint("event_id", "recurrence_id"),
        # A month of the network's events, its first page and its total, is one range scan
        # of this index alone: what lists filter on is in it (no join, no heap on PostgreSQL
        # once the table is vacuumed), and (starts_at, id) is the order of the pages.
        Index("ix_event_occurrences_month", "starts_at", "id", "audience", "category", "site_id"),
        # A space's calendar.
        Index(None, "site_id", "starts_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # The start the rule gives this occurrence (its RECURRENCE-ID), even if it was moved.
    recurrence_id: Mapped[datetime] = mapped_column(UtcDateTime)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"))
    capacity: Mapped[int | None]
    confirmed: Mapped[int] = mapped_column(default=0)
    # Copies of the event's fields that lists and feeds filter on, so that a month of the
    # network is read from this table alone. `materialise` writes them on every write path
    # (create, update, cancel, sync, `calendar extend`); the event's own row stays the truth.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "event_audience"))
    category: Mapped[Category] = mapped_column(_enum(Category, "event_category"))


class Registration(Base):
    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_id"),
        # The waiting list in order, and a person's own registrations.
        Index(None, "occurrence_id", "status", "created_at", "id"),
        Index(None, "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("event_occurrences.id", ondelete="CASCADE")
    )
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "registration_status")
    )
    attended: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class FeedToken(Base):
    """The secret of a person's private feed, kept only as a hash; resetting replaces it."""

    __tablename__ = "calendar_feed_tokens"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
