"""Directory tables: spaces (sites), their plans and amenities, people and their skills."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Numeric,
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


class LegalForm(enum.StrEnum):
    ASSOCIATION = "ASSOCIATION"
    COMPANY = "COMPANY"
    LOCAL_AUTHORITY = "LOCAL_AUTHORITY"
    SCIC = "SCIC"
    SCOP = "SCOP"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    OTHER = "OTHER"


class Amenity(enum.StrEnum):
    OPEN_SPACE = "OPEN_SPACE"
    PRIVATE_OFFICE = "PRIVATE_OFFICE"
    MEETING_ROOM = "MEETING_ROOM"
    EVENT_SPACE = "EVENT_SPACE"
    PHONE_BOOTH = "PHONE_BOOTH"
    KITCHEN = "KITCHEN"
    GARDEN = "GARDEN"
    FABLAB = "FABLAB"
    VR_HEADSET = "VR_HEADSET"
    PRINTER = "PRINTER"
    PRODUCE_PICKUP = "PRODUCE_PICKUP"
    BIKE_PARKING = "BIKE_PARKING"
    STEP_FREE_ACCESS = "STEP_FREE_ACCESS"
    CHILDCARE = "CHILDCARE"


class PlanUnit(enum.StrEnum):
    HOUR = "HOUR"
    HALF_DAY = "HALF_DAY"
    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"


class Visibility(enum.StrEnum):
    PUBLIC = "PUBLIC"  # anyone, signed in or not
    NETWORK = "NETWORK"  # any signed-in person of the network
    SITE = "SITE"  # people of the same home space
    HIDDEN = "HIDDEN"  # nobody but the person


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint("desks >= 0", name="desks_not_negative"),
        CheckConstraint("surface_m2 IS NULL OR surface_m2 > 0", name="surface_positive"),
        CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates_on_earth"
        ),
        CheckConstraint(
            "slug = lower(slug) AND length(slug) BETWEEN 2 AND 64", name="slug_is_lowercase"
        ),
        Index(None, "name_key", "id"),
        Index(None, "city_key"),
        Index(None, "region"),
        Index(None, "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[LegalForm] = mapped_column(_enum(LegalForm, "legal_form"))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float]
    lon: Mapped[float]
    surface_m2: Mapped[int | None]
    desks: Mapped[int] = mapped_column(default=0)
    # schema.org OpeningHoursSpecification, flattened:
    # [{"day": "MO", "opens": "09:00", "closes": "19:00"}, ...]
    opening_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    accepts_network_passes: Mapped[bool] = mapped_column(default=True)
    # When a manager last set the flag above through the hub: a synced profile whose
    # `updatedAt` is older leaves the flag as the manager set it (newer wins, as in sync).
    network_passes_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    joined_at: Mapped[date]
    # Folded copies for accent- and case-insensitive search on both databases.
    name_key: Mapped[str] = mapped_column(String(200))
    city_key: Mapped[str] = mapped_column(String(120))
    search_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Plan(Base):
    """A line of a space's own price list. Money is integer cents excluding VAT."""

    __tablename__ = "site_plans"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("vat_rate >= 0 AND vat_rate < 100", name="vat_rate_percent"),
        UniqueConstraint("site_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    price_cents: Mapped[int]
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent, e.g. 20.00
    unit: Mapped[PlanUnit] = mapped_column(_enum(PlanUnit, "plan_unit"))
    # "150 € HT for 10 days" is quantity 10 of unit DAY.
    quantity: Mapped[int] = mapped_column(default=1)


class SiteAmenity(Base):
    __tablename__ = "site_amenities"
    __table_args__ = (Index(None, "amenity", "site_id"),)

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    amenity: Mapped[Amenity] = mapped_column(_enum(Amenity, "amenity"), primary_key=True)


class Person(Base):
    """A person's public profile: names and skills are here only because the person chose so."""

    __tablename__ = "people"
    __table_args__ = (
        Index(None, "visibility", "name_key", "id"),
        Index(None, "home_site_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    display_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(120), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    home_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    visibility: Mapped[Visibility] = mapped_column(
        _enum(Visibility, "visibility"), default=Visibility.NETWORK
    )
    name_key: Mapped[str] = mapped_column(String(120))
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class PersonSkill(Base):
    __tablename__ = "person_skills"
    __table_args__ = (Index(None, "skill_key", "person_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    skill_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    skill: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
