"""Memberships (pseudonymous) and uses."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UseKind(enum.StrEnum):
    OPEN_SPACE = "OPEN_SPACE"  # a half-day at a desk of the open space
    OFFICE = "OFFICE"  # a private office rental
    MEETING_ROOM = "MEETING_ROOM"  # a meeting-room rental


class UseSource(enum.StrEnum):
    CHECK_IN = "CHECK_IN"  # a network pass checked in through the hub
    SYNC = "SYNC"  # a space's own records, synced by its adapter
    KIOSK = "KIOSK"  # a visit a kiosk recorded offline and synced later


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Membership(Base):
    """A space's member as the space syncs it: an opaque id, a plan and dates. No names."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        Index(None, "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    plan: Mapped[str] = mapped_column(String(120), default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    # Set only when the person links their own account to this membership.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    # The space's own last-modified time: an older one never overwrites a newer one.
    source_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Use(Base):
    """One use (DESIGN §8): a half-day in the open space, an office or a meeting-room
    rental. A full day in the open space is one row with units = 2."""

    __tablename__ = "uses"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        UniqueConstraint("site_id", "external_id"),
        Index(None, "site_id", "day"),
        Index(None, "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[UseKind] = mapped_column(_enum(UseKind, "use_kind"))
    units: Mapped[int]
    # Who, pseudonymously, for distinct counts: "person:<uuid>", "membership:<id>", "pass:<uuid>".
    subject: Mapped[str] = mapped_column(String(64))
    # The user's home space when known: a use where it differs from site_id is a cross-site visit.
    home_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    source: Mapped[UseSource] = mapped_column(_enum(UseSource, "use_source"))
    # The space's own id for a synced use; null for check-ins through the hub.
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
