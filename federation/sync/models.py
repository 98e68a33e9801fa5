"""What sync keeps: one run per batch (its answer, for replays), a ledger of every record a
space has synced (for "newer wins" and snapshots), and the bookings it mirrors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow


class SyncRun(Base):
    """One batch as the hub answered it. The answer is kept whole: a replayed batch id gets
    it back byte for byte, and managers read the rejections from it."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        # A batch id is applied once per space, even under concurrent replays.
        UniqueConstraint("site_id", "batch_id"),
        Index(None, "site_id", "id"),
        CheckConstraint(
            "created >= 0 AND updated >= 0 AND deleted >= 0 AND unchanged >= 0 AND rejected >= 0",
            name="counts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    batch_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)


class SyncRecord(Base):
    """The last version of each record a space synced: its `updatedAt` (an older one never
    overwrites it) and a digest of its data (an identical one changes nothing). An explicit
    delete leaves a tombstone so that a late, older upsert cannot bring the record back."""

    __tablename__ = "sync_records"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    digest: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Booking(Base):
    """A meeting-room booking as the space synced it."""

    __tablename__ = "sync_bookings"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index(None, "site_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    room: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    membership: Mapped[str | None] = mapped_column(String(128))
