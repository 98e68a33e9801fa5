"""Signing keys. The private half never leaves the hub; the public half is published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    # JWKs as JSON. The database holds the private key: protect it like any secret store.
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Once past, the key neither signs nor verifies and leaves the published key set.
    retires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
