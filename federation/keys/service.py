"""Key use cases (generate, rotate, list) and the KeyRing each process signs and verifies with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import Database
from federation.keys.models import SigningKey
from federation.kit.clock import utcnow

ALGORITHM = "ES256"  # widely supported by kiosks' JOSE libraries, and short signatures for QR codes
# After a rotation the old key keeps verifying this long: longer than any token or pass it signed.
RETIRE_AFTER = timedelta(days=400)
REFRESH_EVERY_SECONDS = 300.0
MIN_SECONDS_BETWEEN_LOOKUPS = 10.0


class InvalidToken(Exception):
    """A token that is malformed, unsigned, signed by no key of ours, or tampered with."""


def _new_key() -> SigningKey:
    kid = f"{utcnow():%Y%m%d}-{ECKey.generate_key('P-256').thumbprint()[:12]}"
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return SigningKey(
        kid=kid,
        alg=ALGORITHM,
        private_jwk=dict(key.as_dict(private=True)),
        public_jwk=dict(key.as_dict(private=False)),
    )


async def live_keys(session: AsyncSession, *, now: datetime | None = None) -> Sequence[SigningKey]:
    """Keys that still sign or verify, newest first."""
    now = now or utcnow()
    query = (
        select(SigningKey)
        .where(or_(SigningKey.retires_at.is_(None), SigningKey.retires_at > now))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
    )
    return (await session.scalars(query)).all()


async def ensure_signing_key(session: AsyncSession) -> SigningKey:
    """The newest live key, generated first if the hub has none (first start)."""
    keys = await live_keys(session)
    if keys:
        return keys[0]
    key = _new_key()
    session.add(key)
    await session.flush()
    return key


async def rotate_signing_key(session: AsyncSession) -> SigningKey:
    """A new key signs from now on; the previous ones verify until they retire."""
    now = utcnow()
    for old in await live_keys(session, now=now):
        if old.retires_at is None:
            old.retires_at = now + RETIRE_AFTER
    key = _new_key()
    key.created_at = now + timedelta(microseconds=1)  # strictly newest, even within a clock tick
    session.add(key)
    await session.flush()
    return key


@dataclass(frozen=True, slots=True)
class _Loaded:
    signing: ECKey
    verifying: KeySet
    public: list[dict[str, Any]]
    at: float


class KeyRing:
    """The process's view of the hub's keys: loaded once, refreshed every few minutes or
    when a token names a key it does not know, so verifying never waits on the database."""

    def __init__(self, db: Database, *, refresh_every: float = REFRESH_EVERY_SECONDS) -> None:
        self._db = db
        self._refresh_every = refresh_every
        self._loaded: _Loaded | None = None
        self._lock = asyncio.Lock()

    async def _current(self, *, force: bool = False) -> _Loaded:
        loaded = await self._load(force=force, create=True)
        assert loaded is not None
        return loaded

    async def _load(self, *, force: bool, create: bool) -> _Loaded | None:
        loaded = self._loaded
        if loaded is not None and not force and time.monotonic() - loaded.at < self._refresh_every:
            return loaded
        async with self._lock:
            if self._loaded is not None and self._loaded is not loaded:
                return self._loaded  # another task refreshed meanwhile
            # Read first and write only on a first start, and never just to verify: a
            # refresh may happen while the caller holds SQLite's write lock (a check-in
            # verifying a pass), and a second writer would wait for that lock forever.
            async with self._db.reading() as session:
                keys = await live_keys(session)
            if not keys:
                if not create:
                    return None  # no key yet: nothing this hub signed can exist
                async with self._db.transaction() as session:
                    await ensure_signing_key(session)
                    keys = await live_keys(session)
            self._loaded = _Loaded(
                signing=ECKey.import_key(keys[0].private_jwk),
                verifying=KeySet([ECKey.import_key(k.public_jwk) for k in keys]),
                public=[dict(k.public_jwk) for k in keys],
                at=time.monotonic(),
            )
            return self._loaded

    async def sign(self, claims: Mapping[str, Any], *, typ: str) -> str:
        """A compact JWS of `claims`, signed by the newest key, its kid in the header."""
        return _sign(await self._current(), claims, typ)

    async def snapshot(self) -> KeySnapshot:
        """The keys as loaded now, to sign and verify synchronously without the database
        (for code that cannot await, such as Authlib's, running in a worker thread)."""
        return KeySnapshot(await self._current())

    async def verify(self, token: str, *, typ: str) -> dict[str, Any]:
        """The claims of a token this hub signed with `typ`; InvalidToken otherwise.

        Only the signature, algorithm and type are checked here; callers validate the
        claims that matter to them (expiry, audience, ...).
        """
        loaded = await self._load(force=False, create=False)
        if loaded is None:
            raise InvalidToken("signed by a key this hub does not know")
        try:
            decoded = _decode(token, loaded.verifying)
        except _UnknownKey:
            # Maybe another process rotated the keys; look again, but at most every few
            # seconds, so tokens with made-up kids cannot make us hammer the database.
            if time.monotonic() - loaded.at < MIN_SECONDS_BETWEEN_LOOKUPS:
                raise InvalidToken("signed by a key this hub does not know") from None
            try:
                fresh = await self._load(force=True, create=False)
                if fresh is None:
                    raise _UnknownKey
                decoded = _decode(token, fresh.verifying)
            except _UnknownKey:
                raise InvalidToken("signed by a key this hub does not know") from None
        return _claims_of_type(decoded, typ)

    async def jwks(self) -> dict[str, Any]:
        """The public key set, as /oauth/jwks.json publishes it."""
        return {"keys": list((await self._current()).public)}


@dataclass(frozen=True, slots=True)
class KeySnapshot:
    """Keys frozen at one moment: no refresh, no I/O."""

    _loaded: _Loaded

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str:
        return _sign(self._loaded, claims, typ)

    def verify(self, token: str, *, typ: str) -> dict[str, Any]:
        """Like KeyRing.verify, except that an unknown kid is simply an InvalidToken."""
        try:
            return _claims_of_type(_decode(token, self._loaded.verifying), typ)
        except _UnknownKey:
            raise InvalidToken("signed by a key this hub does not know") from None


def _sign(loaded: _Loaded, claims: Mapping[str, Any], typ: str) -> str:
    header = {"alg": ALGORITHM, "typ": typ, "kid": loaded.signing.kid}
    return jwt.encode(header, dict(claims), loaded.signing, algorithms=[ALGORITHM])


def _claims_of_type(decoded: jwt.Token, typ: str) -> dict[str, Any]:
    if str(decoded.header.get("typ", "")).lower() != typ.lower():
        raise InvalidToken(f"expected a {typ} token")
    return dict(decoded.claims)


class _UnknownKey(Exception):
    pass


def _decode(token: str, keys: KeySet) -> jwt.Token:
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
        raise InvalidToken("not a compact JWS")
    try:
        return jwt.decode(token, keys, algorithms=[ALGORITHM])
    except InvalidKeyIdError:
        raise _UnknownKey from None
    except (JoseError, ValueError) as error:
        raise InvalidToken(str(error) or type(error).__name__) from None
