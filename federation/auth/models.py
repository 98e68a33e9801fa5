"""Auth tables: accounts and their roles, OAuth clients, codes, refresh-token families,
revoked access tokens, consents and login attempts.

Secrets never rest in clear: passwords are argon2id hashes, client secrets, codes and
refresh tokens are SHA-256 digests (they are long random strings, so a slow hash would
add nothing but latency to every token request).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

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
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.access import Role
from federation.db import Base, UtcDateTime
from federation.kit.clock import utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
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


class GrantKind(enum.StrEnum):
    """What a client may ask the token endpoint for. Implicit and password do not exist here."""

    AUTHORIZATION_CODE = "authorization_code"  # people, through a browser (refresh tokens too)
    CLIENT_CREDENTIALS = "client_credentials"  # a space's software acting as itself


class Account(Base):
    """How a person signs in. The profile they show lives in the directory (people)."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased copy: one account per address whatever its case, on both databases.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AccountRole(Base):
    __tablename__ = "account_roles"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "account_role"), primary_key=True)


class ManagedSite(Base):
    """A space a manager manages; a manager may manage several."""

    __tablename__ = "managed_sites"
    __table_args__ = (Index(None, "site_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class OAuthClient(Base):
    __tablename__ = "oauth_clients"
    __table_args__ = (
        # A client acting as itself must prove who it is.
        CheckConstraint(
            "grant_kind <> 'client_credentials' OR secret_hash IS NOT NULL",
            name="client_credentials_are_confidential",
        ),
        Index(None, "site_id"),
    )

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # SHA-256 hex of the secret; NULL for a public client (PKCE only).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    # Set for a space's own software: its tokens act for that space only.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    grant_kind: Mapped[GrantKind] = mapped_column(_enum(GrantKind, "grant_kind"))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(300))
    # The account that registered it, if a person did (None for the CLI).
    owner_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None


class AuthorizationCode(Base):
    """A code waiting to be exchanged: single use (deleted when exchanged), short-lived."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index(None, "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(300))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TokenFamily(Base):
    """One authorization (a person's consent to a client, through one code) and every
    refresh token rotated from it. Reusing a rotated token revokes the whole family."""

    __tablename__ = "oauth_token_families"
    __table_args__ = (
        Index(None, "account_id"),
        Index(None, "client_id"),
        Index(None, "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(300))
    # The code it was born from: presenting that code again revokes the family (RFC 6749 §4.1.2).
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # When its newest refresh token expires; past that the family is pruned.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RefreshToken(Base):
    __tablename__ = "oauth_refresh_tokens"
    __table_args__ = (Index(None, "family_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oauth_token_families.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set, once and atomically, when the token is exchanged for the next one.
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RevokedAccessToken(Base):
    """Access tokens revoked before they expire (RFC 7009). Introspection consults this;
    the hub's own API does not (it verifies with public keys alone, and tokens live at
    most 15 minutes)."""

    __tablename__ = "oauth_revoked_access_tokens"
    __table_args__ = (Index(None, "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Consent(Base):
    """What a person allowed a client to do; the consent page is not shown again for it."""

    __tablename__ = "oauth_consents"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(300))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoginAttempt(Base):
    """A failed sign-in, counted per account key and per IP for throttling. Keys are
    digests, so the table never holds an address someone typed."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "key", "attempted_at"), Index(None, "attempted_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def jsonable(row: Base, *columns: str) -> dict[str, Any]:
    """Selected columns of a row as JSON-able values (for exportMyData)."""
    out: dict[str, Any] = {}
    for name in columns:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, uuid.UUID | enum.Enum):
            value = str(value.value if isinstance(value, enum.Enum) else value)
        out[name] = value
    return out
