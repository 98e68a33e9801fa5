"""Memberships (pseudonymous), uses, and the rollups statistics read instead of raw uses."""

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
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime, register_sqlite_function
from federation.kit.clock import utcnow
from federation.usage.periods import Period
from federation.usage.rollups import stripe

# PostgreSQL has it from migration 0010; SQLite calls the Python one (rebuilds use it).
register_sqlite_function("usage_stripe", 1, stripe)

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
        # A person's uses, for exporting and erasing them.
        Index(None, "subject"),
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


# --- rollups ------------------------------------------------------------------------------
#
# Statistics read these instead of raw uses. A transaction that adds or removes uses queues
# them in `usage_pending`, in the same transaction (usage.service); the queue is applied to
# the rollups in batches, a second later by the server or at once before statistics are
# read. Memberships' rollup is written in the transaction itself. Every table is keyed by a
# calendar period (its kind and first day) first, so "one period, every space" and "these
# periods, one space" are both index ranges. `site_id` 0 is the whole network (hence no
# foreign key); in the visit and subject tables `home_site_id` 0 means "any home".
#
# The counters every check-in of a day adds to (uses, active people, visits) are striped:
# the last column of their key, `shard`, is the stripe of the subject counted
# (usage.rollups.stripe), so concurrent writers mostly lock different rows. Reads sum
# over the stripes.


class PendingUse(Base):
    """A use added (sign 1) or taken away (sign -1) whose rollup rows are not written yet.

    Why a queue: every check-in of a day adds to the same counters, and a sync batch of
    10,000 uses to some 50,000 rollup rows. Written in the use's own transaction, they made
    check-ins queue on row locks and doubled a batch's time. Appending here locks nothing
    shared; `usage.service.catch_up` applies the queue in order, many uses at a time, and
    the rows it applies leave the queue in the same transaction."""

    __tablename__ = "usage_pending"
    __table_args__ = (CheckConstraint("sign IN (-1, 1)", name="sign"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date]
    kind: Mapped[UseKind] = mapped_column(_enum(UseKind, "use_kind"))
    units: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(64))
    home_site_id: Mapped[int | None] = mapped_column(Integer)
    sign: Mapped[int] = mapped_column(SmallInteger)


class UsesByPeriod(Base):
    """Uses (units) per period, space and kind. OPEN_SPACE units are the desk half-days
    that occupancy counts."""

    __tablename__ = "usage_uses_by_period"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[UseKind] = mapped_column(_enum(UseKind, "use_kind"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    uses: Mapped[int]


class ActiveSubject(Base):
    """Who was active in a period, with how many of their use rows, so that removing a use
    knows when someone stops being active. With `home_site_id` set, the row is a visitor
    from that home to `site_id` (for the suppression of the visit matrix)."""

    __tablename__ = "usage_active_subjects"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    home_site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    uses: Mapped[int]


class ActiveCount(Base):
    """How many subjects `usage_active_subjects` holds for one period and scope."""

    __tablename__ = "usage_active_counts"
    __table_args__ = (CheckConstraint("people >= 0", name="people_not_negative"),)

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    home_site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    people: Mapped[int]


class VisitsByPeriod(Base):
    """Cross-site uses (the user's home differs from the host `site_id`) per period:
    per home -> host pair, per host (`home_site_id` 0) and network-wide (both 0)."""

    __tablename__ = "usage_visits_by_period"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    home_site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    uses: Mapped[int]


class NewMembersByPeriod(Base):
    """Memberships starting in a period, per space and network-wide."""

    __tablename__ = "usage_new_members_by_period"
    __table_args__ = (CheckConstraint("members >= 0", name="members_not_negative"),)

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    members: Mapped[int]
