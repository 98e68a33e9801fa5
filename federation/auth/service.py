"""Auth use cases: accounts, sign-in with throttling, OAuth clients, codes, refresh-token
families, consents, and the person's own data (profile, export, erasure).

Functions take the caller's session and never commit: the CLI, the GraphQL mutations and
the OAuth endpoints each open one transaction around what they call here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Role
from federation.auth.models import (
    Account,
    AccountRole,
    AuthorizationCode,
    Consent,
    GrantKind,
    LoginAttempt,
    ManagedSite,
    OAuthClient,
    RefreshToken,
    RevokedAccessToken,
    TokenFamily,
    jsonable,
)
from federation.auth.tokens import (
    AUTHORIZATION_CODE_TTL,
    REFRESH_TOKEN_TTL,
    SCOPE_NAMES,
    Subject,
    scope_set,
    scope_string,
    unknown_scopes,
)
from federation.calendar import service as calendar
from federation.directory import service as directory
from federation.directory.models import Person, Site, Visibility
from federation.errors import BadUserInput, Conflict, NotFound, Refused, Unauthenticated
from federation.kit.clock import utcnow
from federation.passes import service as passes

# OWASP's argon2id parameters (19 MiB, 2 passes): tens of milliseconds per guess on a
# server, so a sign-in stays quick while an offline attack on a stolen table stays slow.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

# Throttling: failed sign-ins counted over a sliding window, per account and per IP.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 30

CLIENT_ID_PREFIX = "tl_"
# A hash nobody's password matches, so that an unknown address costs as much as a known one.
_NO_ACCOUNT_HASH = PASSWORDS.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    """SHA-256 hex: how client secrets, codes and refresh tokens are stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def email_key(email: str) -> str:
    return email.strip().lower()


# --- passwords and accounts ---------------------------------------------------------------


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", argument="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput("that password is too long", argument="password")


def hash_password(password: str) -> str:
    check_password(password)
    return PASSWORDS.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_email(email: str) -> str:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise BadUserInput(f"{email!r} is not an email address", argument="email")
    return email


@dataclass(slots=True)
class NewAccount:
    email: str
    display_name: str
    password: str
    role: Role
    site_slugs: Sequence[str] = ()
    # Link the account to an existing directory profile instead of creating one.
    person_id: uuid.UUID | None = None


async def create_account(session: AsyncSession, new: NewAccount) -> Account:
    """An account with its role; managers manage every space given, others live at it."""
    email = _check_email(new.email)
    if await session.scalar(select(Account.id).where(Account.email_key == email_key(email))):
        raise Conflict(f"an account already exists for {email}", argument="email")
    slugs = list(dict.fromkeys(new.site_slugs))
    site_ids = await directory.require_site_ids(session, slugs)
    if new.role is Role.MANAGER and not slugs:
        raise BadUserInput("a manager manages at least one space: give --site", argument="site")
    if new.role is not Role.MANAGER and len(slugs) > 1:
        raise BadUserInput("only a manager can be given several spaces", argument="site")
    home = site_ids[slugs[0]] if slugs else None
    password_hash = await anyio.to_thread.run_sync(hash_password, new.password)
    if new.person_id is None:
        # Privacy by design: the profile is hidden until the person chooses what to show.
        person = await directory.save_person(
            session,
            directory.ProfileData(
                display_name=new.display_name, visibility=Visibility.HIDDEN, home_site_id=home
            ),
        )
        person_id = person.id
    else:
        if await session.get(Person, new.person_id) is None:
            raise NotFound("no such person in the directory", argument="person")
        person_id = new.person_id
    account = Account(
        person_id=person_id, email=email, email_key=email_key(email), password_hash=password_hash
    )
    session.add(account)
    await session.flush()
    session.add(AccountRole(account_id=account.id, role=new.role))
    if new.role is Role.MANAGER:
        session.add_all(ManagedSite(account_id=account.id, site_id=site_ids[s]) for s in slugs)
    await session.flush()
    return account


async def account_of_person(session: AsyncSession, person_id: uuid.UUID) -> Account | None:
    return await session.scalar(select(Account).where(Account.person_id == person_id))


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account with what a token or `me` needs: roles, managed spaces, home space."""

    account: Account
    subject: Subject
    managed_slugs: tuple[str, ...]


async def describe_account(session: AsyncSession, account_id: uuid.UUID) -> AccountView | None:
    account = await session.get(Account, account_id)
    if account is None:
        return None
    roles = frozenset(
        await session.scalars(select(AccountRole.role).where(AccountRole.account_id == account_id))
    )
    managed = (
        await session.execute(
            select(Site.id, Site.slug)
            .join(ManagedSite, ManagedSite.site_id == Site.id)
            .where(ManagedSite.account_id == account_id)
            .order_by(Site.slug)
        )
    ).all()
    home = await session.scalar(select(Person.home_site_id).where(Person.id == account.person_id))
    subject = Subject(
        person_id=account.person_id,
        roles=roles,
        managed_site_ids=frozenset(site_id for site_id, _ in managed),
        home_site_id=home,
    )
    return AccountView(account, subject, tuple(slug for _, slug in managed))


# --- sign-in ------------------------------------------------------------------------------


class SignInRefused(Refused):
    """Wrong address or password, said the same way whichever it was."""

    def __init__(self) -> None:
        super().__init__("SIGN_IN_REFUSED", "Adresse e-mail ou mot de passe incorrect.")


class SignInThrottled(Refused):
    http_status = 429

    def __init__(self) -> None:
        super().__init__(
            "TOO_MANY_ATTEMPTS", "Trop de tentatives. Réessayez dans quelques minutes."
        )


def _ip_key(ip: str | None) -> str:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "ip:" + digest(ip or "unknown")
    # One IPv6 host usually owns a whole /64: count the network, not the address.
    if isinstance(address, ipaddress.IPv6Address) and not address.ipv4_mapped:
        network = ipaddress.ip_network(f"{address}/64", strict=False)
        return "ip:" + digest(str(network))
    return "ip:" + digest(str(address))


def _account_key(email: str) -> str:
    return "account:" + digest(email_key(email))


async def sign_in(
    session: AsyncSession, email: str, password: str, *, ip: str | None, now: datetime | None = None
) -> Account:
    """The account whose password this is; SignInRefused or SignInThrottled otherwise.

    Failures are counted per address typed (whether or not it has an account) and per IP;
    the answer and its cost are the same for an unknown address and a wrong password.
    """
    now = now or utcnow()
    keys = (_account_key(email), _ip_key(ip))
    since = now - THROTTLE_WINDOW
    counts = dict(
        (
            await session.execute(
                select(LoginAttempt.key, func.count())
                .where(LoginAttempt.key.in_(keys), LoginAttempt.attempted_at > since)
                .group_by(LoginAttempt.key)
            )
        ).all()
    )
    if (
        counts.get(keys[0], 0) >= MAX_FAILURES_PER_ACCOUNT
        or counts.get(keys[1], 0) >= MAX_FAILURES_PER_IP
    ):
        raise SignInThrottled
    account = await session.scalar(select(Account).where(Account.email_key == email_key(email)))
    stored = account.password_hash if account is not None else _NO_ACCOUNT_HASH
    ok = await anyio.to_thread.run_sync(password_matches, stored, password[:MAX_PASSWORD_LENGTH])
    if account is None or not ok:
        session.add_all(LoginAttempt(key=key, attempted_at=now) for key in keys)
        await session.flush()
        raise SignInRefused
    if PASSWORDS.check_needs_rehash(account.password_hash):
        account.password_hash = await anyio.to_thread.run_sync(PASSWORDS.hash, password)
    account.last_login_at = now
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= since))
    return account


async def record_failed_sign_in(session: AsyncSession, email: str, *, ip: str | None) -> None:
    """Count a failure the page itself detected (e.g. an empty field)."""
    session.add_all(LoginAttempt(key=key) for key in (_account_key(email), _ip_key(ip)))
    await session.flush()


# --- OAuth clients ------------------------------------------------------------------------


LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def check_redirect_uri(uri: str, *, allow_insecure_http: bool) -> str:
    """An exact redirect URI a client may register (RFC 9700 §2.1, RFC 8252 §7)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or parts.fragment or "*" in uri or uri != uri.strip():
        raise BadUserInput(f"{uri!r} is not an absolute redirect URI", argument="redirectUri")
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"}:
        if not parts.hostname:
            raise BadUserInput(f"{uri!r} names no host", argument="redirectUri")
        if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not allow_insecure_http:
            raise BadUserInput(
                f"{uri!r}: plain http is only for loopback addresses (or with "
                "FEDERATION_ALLOW_INSECURE_HTTP=1 in tests)",
                argument="redirectUri",
            )
        return uri
    if "." not in scheme or scheme in {"javascript", "data", "file", "vbscript"}:
        # RFC 8252 §7.1: a native app's private scheme is a reversed domain name.
        raise BadUserInput(
            f"{uri!r}: use https, a loopback http address, or a reversed-domain app scheme",
            argument="redirectUri",
        )
    return uri


@dataclass(slots=True)
class NewClient:
    name: str
    grant: GrantKind
    scope: str
    site_slug: str | None = None
    redirect_uris: Sequence[str] = ()
    public: bool = False
    client_id: str | None = None  # chosen by the hub unless given


async def create_client(
    session: AsyncSession, new: NewClient, *, allow_insecure_http: bool
) -> tuple[OAuthClient, str | None]:
    """The client and its secret (None for a public one). Only a digest of the secret is kept."""
    if not new.name.strip() or len(new.name) > 120:
        raise BadUserInput("a client needs a name of at most 120 characters", argument="name")
    if unknown := unknown_scopes(new.scope):
        raise BadUserInput(
            f"unknown scope {unknown[0]!r}; scopes are: {', '.join(SCOPE_NAMES)}", argument="scope"
        )
    scope = scope_string(scope_set(new.scope))
    if not scope:
        raise BadUserInput("a client needs at least one scope", argument="scope")
    uris = [
        check_redirect_uri(u, allow_insecure_http=allow_insecure_http) for u in new.redirect_uris
    ]
    if new.grant is GrantKind.CLIENT_CREDENTIALS:
        if new.public:
            raise BadUserInput(
                "a client-credentials client is confidential: it cannot be public",
                argument="public",
            )
        if uris:
            raise BadUserInput(
                "a client-credentials client has no redirect URI", argument="redirectUri"
            )
    elif not uris:
        raise BadUserInput(
            "an authorization-code client needs at least one --redirect-uri",
            argument="redirectUri",
        )
    site_id = None
    if new.site_slug:
        site_id = (await directory.require_site_ids(session, [new.site_slug]))[new.site_slug]
    client_id = new.client_id or CLIENT_ID_PREFIX + secrets.token_urlsafe(16)
    if await session.get(OAuthClient, client_id) is not None:
        raise Conflict(f"a client {client_id!r} already exists", argument="clientId")
    secret = None if new.public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=client_id,
        secret_hash=digest(secret) if secret is not None else None,
        name=new.name.strip(),
        site_id=site_id,
        grant_kind=new.grant,
        redirect_uris=list(dict.fromkeys(uris)),
        scope=scope,
    )
    session.add(client)
    await session.flush()
    return client, secret


@dataclass(frozen=True, slots=True)
class ClientListing:
    client: OAuthClient
    site_slug: str | None


async def list_clients(session: AsyncSession) -> list[ClientListing]:
    rows = await session.execute(
        select(OAuthClient, Site.slug)
        .outerjoin(Site, Site.id == OAuthClient.site_id)
        .order_by(OAuthClient.created_at, OAuthClient.client_id)
    )
    return [ClientListing(client, slug) for client, slug in rows.tuples()]


async def revoke_client(
    session: AsyncSession, client_id: str, *, now: datetime | None = None
) -> tuple[OAuthClient, bool]:
    """Revoke a client and every refresh token it holds; says whether it was live until now."""
    now = now or utcnow()
    client = await session.get(OAuthClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r}", argument="clientId")
    if client.revoked_at is not None:
        return client, False
    client.revoked_at = now
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.client_id == client_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client_id))
    await session.flush()
    return client, True


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """A live client, detached from the session (Authlib reads it from a worker thread)."""

    client_id: str
    secret_hash: str | None
    name: str
    site_id: int | None
    site_name: str | None
    grant_kind: GrantKind
    redirect_uris: tuple[str, ...]
    scope: str


async def find_client(session: AsyncSession, client_id: str) -> ClientInfo | None:
    """The client if it exists and is not revoked."""
    if not client_id or len(client_id) > 64:
        return None
    row = (
        await session.execute(
            select(OAuthClient, Site.name)
            .outerjoin(Site, Site.id == OAuthClient.site_id)
            .where(OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    client, site_name = row
    return ClientInfo(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        name=client.name,
        site_id=client.site_id,
        site_name=site_name,
        grant_kind=client.grant_kind,
        redirect_uris=tuple(client.redirect_uris),
        scope=client.scope,
    )


# --- authorization codes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeGrant:
    code_hash: str
    client_id: str
    account_id: uuid.UUID
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime


async def save_code(
    session: AsyncSession, code: str, grant: CodeGrant, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    # Codes are short-lived; sweeping the expired ones (and grants whose last refresh token
    # has expired) here, at each sign-in, keeps the tables small without a scheduler.
    await session.execute(delete(AuthorizationCode).where(AuthorizationCode.expires_at <= now))
    await prune_expired(session, now=now)
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=grant.client_id,
            account_id=grant.account_id,
            redirect_uri=grant.redirect_uri,
            scope=grant.scope,
            code_challenge=grant.code_challenge,
            code_challenge_method=grant.code_challenge_method,
            auth_time=grant.auth_time,
            expires_at=now + AUTHORIZATION_CODE_TTL,
        )
    )
    await session.flush()


async def take_code(
    session: AsyncSession, code: str, client_id: str, *, now: datetime | None = None
) -> CodeGrant | None:
    """Consume a code, atomically: of two concurrent exchanges only one gets it.

    A code presented again after its exchange revokes the tokens it produced
    (RFC 6749 §4.1.2); an expired code is consumed and refused.
    """
    now = now or utcnow()
    code_hash = digest(code)
    taken = (
        await session.execute(
            delete(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == code_hash,
                AuthorizationCode.client_id == client_id,
            )
            .returning(
                AuthorizationCode.account_id,
                AuthorizationCode.redirect_uri,
                AuthorizationCode.scope,
                AuthorizationCode.code_challenge,
                AuthorizationCode.code_challenge_method,
                AuthorizationCode.auth_time,
                AuthorizationCode.expires_at,
            )
        )
    ).first()
    if taken is None:
        await session.execute(
            update(TokenFamily)
            .where(TokenFamily.code_hash == code_hash, TokenFamily.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return None
    account_id, redirect_uri, scope, challenge, method, auth_time, expires_at = taken
    if _aware(expires_at) <= now:
        return None
    return CodeGrant(
        code_hash=code_hash,
        client_id=client_id,
        account_id=account_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method=method,
        auth_time=_aware(auth_time),
    )


def _aware(value: datetime) -> datetime:
    # Values from RETURNING may come back naive from SQLite: they are UTC, as stored.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- refresh-token families ---------------------------------------------------------------


async def start_family(
    session: AsyncSession,
    *,
    family_id: uuid.UUID,
    client_id: str,
    account_id: uuid.UUID,
    scope: str,
    code_hash: str | None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    session.add(
        TokenFamily(
            id=family_id,
            client_id=client_id,
            account_id=account_id,
            scope=scope,
            code_hash=code_hash,
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    await session.flush()


async def add_refresh_token(
    session: AsyncSession,
    family_id: uuid.UUID,
    token: str,
    scope: str,
    *,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    session.add(
        RefreshToken(
            token_hash=digest(token),
            family_id=family_id,
            scope=scope,
            issued_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id)
        .values(expires_at=now + REFRESH_TOKEN_TTL)
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    family_id: uuid.UUID
    client_id: str
    account_id: uuid.UUID
    scope: str
    issued_at: datetime
    expires_at: datetime


async def use_refresh_token(
    session: AsyncSession, token: str, client_id: str, *, now: datetime | None = None
) -> RefreshGrant | None:
    """Exchange a refresh token: marks it used, atomically, and returns its grant.

    A token already used (a replay, or a thief racing the client) revokes its whole
    family; an expired or revoked one is simply refused.
    """
    now = now or utcnow()
    token_hash = digest(token)
    live_family = select(TokenFamily.id).where(
        TokenFamily.client_id == client_id, TokenFamily.revoked_at.is_(None)
    )
    used = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now,
            RefreshToken.family_id.in_(live_family),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = (
        await session.execute(
            select(RefreshToken, TokenFamily)
            .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
            .where(RefreshToken.token_hash == token_hash)
        )
    ).first()
    if row is None:
        return None
    refresh, family = row
    if family.client_id != client_id:
        return None  # another client's token: not theirs to use, nor to burn
    if used.rowcount != 1:  # type: ignore[attr-defined]
        if refresh.used_at is not None and family.revoked_at is None:
            await revoke_family(session, family.id, now=now)
        return None
    return RefreshGrant(
        family_id=family.id,
        client_id=family.client_id,
        account_id=family.account_id,
        scope=refresh.scope,
        issued_at=refresh.issued_at,
        expires_at=refresh.expires_at,
    )


async def revoke_family(
    session: AsyncSession, family_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


@dataclass(frozen=True, slots=True)
class RefreshTokenState:
    family_id: uuid.UUID
    client_id: str
    person_id: uuid.UUID
    scope: str
    issued_at: datetime
    expires_at: datetime
    active: bool


async def refresh_token_state(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> RefreshTokenState | None:
    """What a refresh token is, for introspection and revocation (no side effect)."""
    now = now or utcnow()
    row = (
        await session.execute(
            select(RefreshToken, TokenFamily, Account.person_id)
            .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
            .join(Account, Account.id == TokenFamily.account_id)
            .join(OAuthClient, OAuthClient.client_id == TokenFamily.client_id)
            .where(RefreshToken.token_hash == digest(token))
            .add_columns(OAuthClient.revoked_at)
        )
    ).first()
    if row is None:
        return None
    refresh, family, person_id, client_revoked_at = row
    active = (
        refresh.used_at is None
        and family.revoked_at is None
        and client_revoked_at is None
        and refresh.expires_at > now
    )
    return RefreshTokenState(
        family_id=family.id,
        client_id=family.client_id,
        person_id=person_id,
        scope=refresh.scope,
        issued_at=refresh.issued_at,
        expires_at=refresh.expires_at,
        active=active,
    )


async def access_token_revoked(
    session: AsyncSession, *, jti: str, client_id: str, family_id: uuid.UUID | None
) -> bool:
    """Whether a (well-signed, unexpired) access token was revoked: itself, its family or
    its client. Only introspection asks; the hub's own API trusts the signature."""
    if await session.get(RevokedAccessToken, jti) is not None:
        return True
    client_revoked = await session.scalar(
        select(OAuthClient.revoked_at).where(OAuthClient.client_id == client_id)
    )
    if client_revoked is not None:
        return True
    if family_id is not None:
        family = await session.get(TokenFamily, family_id)
        return family is None or family.revoked_at is not None
    return False


async def revoke_access_token(
    session: AsyncSession, jti: str, expires_at: datetime, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    await session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= now))
    if await session.get(RevokedAccessToken, jti) is None:
        session.add(RevokedAccessToken(jti=jti, expires_at=expires_at))
        await session.flush()


async def client_site_id(session: AsyncSession, client_id: str) -> int | None:
    return await session.scalar(
        select(OAuthClient.site_id).where(OAuthClient.client_id == client_id)
    )


async def prune_expired(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Forget families whose last refresh token has expired (their tokens go with them)."""
    now = now or utcnow()
    await session.execute(delete(TokenFamily).where(TokenFamily.expires_at <= now))


# --- consents -----------------------------------------------------------------------------


async def consented(
    session: AsyncSession, account_id: uuid.UUID, client_id: str, scope: str
) -> bool:
    """Whether the person already allowed this client every scope asked."""
    given = await session.scalar(
        select(Consent.scope).where(
            Consent.account_id == account_id, Consent.client_id == client_id
        )
    )
    return given is not None and scope_set(scope) <= scope_set(given)


async def record_consent(
    session: AsyncSession, account_id: uuid.UUID, client_id: str, scope: str
) -> None:
    consent = await session.get(Consent, (account_id, client_id))
    if consent is None:
        session.add(
            Consent(
                account_id=account_id, client_id=client_id, scope=scope_string(scope_set(scope))
            )
        )
    else:
        consent.scope = scope_string(scope_set(consent.scope) | scope_set(scope))
        consent.granted_at = utcnow()
    await session.flush()


# --- the person's own data ----------------------------------------------------------------


@dataclass(slots=True)
class ProfileChanges:
    """What updateMyProfile may change; None leaves a field as it is."""

    display_name: str | None = None
    profession: str | None = None
    bio: str | None = None
    skills: Sequence[str] | None = None
    visibility: Visibility | None = None


async def update_my_profile(
    session: AsyncSession, person_id: uuid.UUID, changes: ProfileChanges
) -> Person:
    """Change what the person shows; fields left out keep their value."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("your profile no longer exists", argument="person")
    skills = await directory.skills_of(session, person_id)
    data = directory.ProfileData(
        display_name=person.display_name if changes.display_name is None else changes.display_name,
        profession=person.profession if changes.profession is None else changes.profession,
        bio=person.bio if changes.bio is None else changes.bio,
        skills=skills if changes.skills is None else list(changes.skills),
        visibility=person.visibility if changes.visibility is None else changes.visibility,
        home_site_id=person.home_site_id,
    )
    return await directory.save_person(session, data, person_id=person_id)


async def export_person_data(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any]:
    """The person's account: address, roles, managed spaces, consents and live authorizations."""
    account = await account_of_person(session, person_id)
    if account is None:
        return {}
    view = await describe_account(session, account.id)
    assert view is not None
    consents = await session.scalars(
        select(Consent).where(Consent.account_id == account.id).order_by(Consent.client_id)
    )
    families = await session.scalars(
        select(TokenFamily)
        .where(TokenFamily.account_id == account.id)
        .order_by(TokenFamily.created_at)
    )
    owned = await session.scalars(
        select(OAuthClient).where(OAuthClient.owner_account_id == account.id)
    )
    failed = await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == _account_key(account.email))
    )
    return {
        "account": {
            **jsonable(account, "email", "created_at", "last_login_at"),
            "roles": sorted(role.value for role in view.subject.roles),
            "managed_sites": list(view.managed_slugs),
        },
        "consents": [jsonable(c, "client_id", "scope", "granted_at") for c in consents],
        "authorizations": [
            jsonable(f, "client_id", "scope", "created_at", "expires_at", "revoked_at")
            for f in families
        ],
        "clients_owned": [jsonable(c, "client_id", "name", "created_at") for c in owned],
        "recent_failed_sign_ins": failed or 0,
    }


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Erase the account: password, roles, consents, codes and every token family."""
    account = await account_of_person(session, person_id)
    if account is None:
        return
    await session.execute(
        delete(LoginAttempt).where(LoginAttempt.key == _account_key(account.email))
    )
    # Codes, families, tokens, consents, roles and managed spaces cascade with the account.
    await session.execute(delete(Account).where(Account.id == account.id))


ExportData = Callable[[AsyncSession, uuid.UUID], Awaitable[dict[str, Any]]]
ForgetPerson = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PersonalData:
    """A domain that holds data about people: how to export it and how to erase it."""

    domain: str
    export: ExportData
    forget: ForgetPerson


# Every domain holding personal data, one line each. Erasure runs in this order, in one
# transaction, so the directory (whose person row the others point to) goes last.
PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData("auth", export_person_data, forget_person),
    PersonalData("passes", passes.export_person_data, passes.forget_person),
    PersonalData("calendar", calendar.export_person_data, calendar.forget_person),
    PersonalData("directory", directory.export_person_data, directory.forget_person),
)


async def export_my_data(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    domains: Sequence[PersonalData] = PERSONAL_DATA,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the hub holds about the person, domain by domain."""
    return {
        "person_id": str(person_id),
        "exported_at": (now or utcnow()).isoformat(),
        "data": {entry.domain: await entry.export(session, person_id) for entry in domains},
    }


async def delete_my_account(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    confirm_email: str,
    domains: Sequence[PersonalData] = PERSONAL_DATA,
) -> None:
    """Erase the person from every domain; only anonymous aggregates remain."""
    account = await account_of_person(session, person_id)
    if account is None:
        raise NotFound("there is no account to delete", argument="account")
    if email_key(confirm_email) != account.email_key:
        raise BadUserInput(
            "to delete your account, confirm with the address you sign in with",
            argument="confirmEmail",
        )
    for entry in domains:
        await entry.forget(session, person_id)


# --- helpers for the other layers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A person who signed in on the hub's pages, as Authlib's `user`."""

    account_id: uuid.UUID
    subject: Subject
    auth_time: datetime = field(default_factory=utcnow)

    def get_user_id(self) -> str:
        return str(self.subject.person_id)


async def signed_in(
    session: AsyncSession, account_id: uuid.UUID, *, auth_time: datetime | None = None
) -> SignedIn | None:
    view = await describe_account(session, account_id)
    if view is None:
        return None
    return SignedIn(account_id, view.subject, auth_time or utcnow())


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def me(session: AsyncSession, person_id: uuid.UUID) -> tuple[AccountView, Person]:
    """The signed-in person's account and profile; UNAUTHENTICATED if they are gone."""
    account = await account_of_person(session, person_id)
    person = await session.get(Person, person_id)
    view = await describe_account(session, account.id) if account is not None else None
    if view is None or person is None:
        raise Unauthenticated("this account no longer exists")
    return view, person
