"""Pass tables: products and their price tiers, funded programmes, where products are
accepted, people's passes, check-ins (the redemptions the settlement is made of) and the
monthly visit counters of memberships.

Money is integer cents excluding VAT. The network share is in basis points (500 = 5 %).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class ProductKind(enum.StrEnum):
    CARNET = "CARNET"  # N credits, valid for a period
    MEMBERSHIP = "MEMBERSHIP"  # a home membership including N visit days a month per host
    FUNDED = "FUNDED"  # paid by a programme


class CreditUnit(enum.StrEnum):
    DAY = "DAY"
    HALF_DAY = "HALF_DAY"


class CheckInKind(enum.StrEnum):
    HALF_DAY = "HALF_DAY"
    DAY = "DAY"


class CheckInSource(enum.StrEnum):
    ONLINE = "ONLINE"  # through checkIn, at the desk or a kiosk
    OFFLINE = "OFFLINE"  # recorded by a kiosk offline, reconciled later


class Programme(Base):
    """A funded programme: who pays, how much of a pass, up to what budget, for whom."""

    __tablename__ = "pass_programmes"
    __table_args__ = (
        CheckConstraint("coverage_percent BETWEEN 0 AND 100", name="coverage_is_percent"),
        CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        # The budget cap and places hold under concurrent issuing: enforced here.
        CheckConstraint("spent_cents >= 0 AND spent_cents <= budget_cents", name="within_budget"),
        CheckConstraint("places IS NULL OR issued <= places", name="within_places"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    funders: Mapped[list[str]] = mapped_column(JSON, default=list)
    coverage_percent: Mapped[int] = mapped_column(default=100)
    budget_cents: Mapped[int]
    spent_cents: Mapped[int] = mapped_column(default=0)
    places: Mapped[int | None]
    issued: Mapped[int] = mapped_column(default=0)
    eligibility: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProgrammeSite(Base):
    """A space taking part in a programme: its funded passes work there."""

    __tablename__ = "pass_programme_sites"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("pass_programmes.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class Product(Base):
    """What can be sold (or funded): a carnet, a membership with visits, a funded pass."""

    __tablename__ = "pass_products"
    __table_args__ = (
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("network_share_bp BETWEEN 0 AND 10000", name="share_is_fraction"),
        CheckConstraint(
            "(kind = 'FUNDED') = (programme_id IS NOT NULL)", name="funded_has_programme"
        ),
        CheckConstraint(
            "kind <> 'MEMBERSHIP' OR visit_value_cents IS NOT NULL", name="membership_visit_value"
        ),
        CheckConstraint(
            "visit_value_cents IS NULL OR visit_value_cents >= 0", name="visit_value_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[ProductKind] = mapped_column(_enum(ProductKind, "pass_product_kind"))
    # The selling space; null for a network-wide product (funded passes).
    issuer_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("pass_programmes.id", ondelete="RESTRICT")
    )
    # CARNET/FUNDED: credits of the pass. MEMBERSHIP: visit days a month at each other space.
    credits: Mapped[int]
    unit: Mapped[CreditUnit] = mapped_column(_enum(CreditUnit, "pass_credit_unit"))
    validity_days: Mapped[int]
    network_share_bp: Mapped[int] = mapped_column(default=500)
    # MEMBERSHIP: what a host earns for one visit day (the monthly price pays the home).
    visit_value_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PriceTier(Base):
    """A solidarity tier: what a person pays depends on their means."""

    __tablename__ = "pass_price_tiers"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="price_not_negative"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("pass_products.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    price_cents: Mapped[int]


class SiteProductLimit(Base):
    """A space that limits network passes to certain products lists them here; a space with
    no row accepts every product (unless it declines network passes altogether)."""

    __tablename__ = "pass_site_limits"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("pass_products.id", ondelete="CASCADE"), primary_key=True
    )


class Pass(Base):
    """A person's pass. `remaining` only ever goes down through one conditional UPDATE."""

    __tablename__ = "passes"
    __table_args__ = (
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= credits", name="remaining_in_credits"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint(
            "sold_by_site_id IS NOT NULL OR programme_id IS NOT NULL", name="has_a_payer"
        ),
        Index(None, "holder_id"),
        Index(None, "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[int] = mapped_column(ForeignKey("pass_products.id", ondelete="RESTRICT"))
    # Null once the person erased their account: the ledger stays, anonymous.
    holder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    tier: Mapped[str] = mapped_column(String(40))
    price_cents: Mapped[int]
    credits: Mapped[int]
    remaining: Mapped[int]
    # Who is paid for the pass, hence who pays hosts: the selling space, or the programme.
    sold_by_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("pass_programmes.id", ondelete="RESTRICT")
    )
    network_share_bp: Mapped[int]
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # In every QR token: revoking or reissuing bumps it, so older codes stop working.
    version: Mapped[int] = mapped_column(default=1)
    # Who issued it (a manager or coordinator's person id), for the record only: no foreign
    # key, so a staff account without a public profile can issue too.
    issued_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CheckIn(Base):
    """One check-in attempt at a host space, successful or refused, online or reconciled.

    A successful one is a redemption: the amounts the host earns and the network keeps are
    fixed here, at the price the pass was sold for, so the settlement only adds them up.
    """

    __tablename__ = "pass_check_ins"
    __table_args__ = (
        # A retried check-in finds the first answer; a replayed offline visit too.
        UniqueConstraint("site_id", "idempotency_key"),
        CheckConstraint("units >= 0", name="units_not_negative"),
        CheckConstraint("debited >= 0", name="debited_not_negative"),
        CheckConstraint("host_cents >= 0 AND share_cents >= 0", name="amounts_not_negative"),
        Index(None, "pass_id", "at"),
        Index(None, "site_id", "day"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    pass_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("passes.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    source: Mapped[CheckInSource] = mapped_column(_enum(CheckInSource, "pass_check_in_source"))
    kind: Mapped[CheckInKind] = mapped_column(_enum(CheckInKind, "pass_check_in_kind"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date]  # the network's calendar day (Paris) of `at`
    ok: Mapped[bool] = mapped_column(default=False)
    code: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(300), default="")
    units: Mapped[int] = mapped_column(default=0)  # credits this visit is worth
    debited: Mapped[int] = mapped_column(default=0)  # credits actually taken
    remaining_after: Mapped[int | None]
    # An offline visit beyond the credits: kept, flagged, and paid nothing.
    over_use: Mapped[bool] = mapped_column(default=False)
    host_cents: Mapped[int] = mapped_column(default=0)
    share_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VisitCounter(Base):
    """Visit days a membership pass used at one host in one month: the quota is enforced by
    a conditional UPDATE of this row."""

    __tablename__ = "pass_visit_counters"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    pass_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("passes.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(default=0)
