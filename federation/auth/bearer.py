"""Bearer tokens into Viewers, for every request: public keys only, no database.

Verifying an ES256 signature costs a few hundred microseconds; a client sends the same
access token with every request for up to 15 minutes. Tokens already verified are kept
(bounded LRU) with their Viewer until they expire, keyed by the whole token string, so a
token that differs by one byte is verified from scratch.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import Request

from federation.access import ANONYMOUS, Viewer
from federation.auth.tokens import (
    ACCESS_TOKEN_TYPE,
    BadClaims,
    check_access_claims,
    viewer_from_claims,
)
from federation.errors import Unauthenticated
from federation.keys.service import InvalidToken, KeyRing

REALM = "federation"
CACHE_SIZE = 20_000


class InvalidBearer(Unauthenticated):
    """A bearer token the hub does not accept (RFC 6750 `invalid_token`)."""

    def __init__(self, message: str, *, error: str = "invalid_token") -> None:
        super().__init__(message)
        self.challenge = f'Bearer realm="{REALM}", error="{error}"'


def challenge_of(error: Unauthenticated) -> str:
    """The WWW-Authenticate value for a 401 (RFC 6750 §3)."""
    return getattr(error, "challenge", f'Bearer realm="{REALM}"')


class BearerAuthenticator:
    """The app's authenticator: `Authorization: Bearer <JWT>` or anonymous."""

    def __init__(
        self,
        keys: KeyRing,
        issuer: str,
        *,
        cache_size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._cache: OrderedDict[str, tuple[Viewer, int]] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock

    async def __call__(self, request: Request) -> Viewer:
        header = request.headers.get("authorization")
        if header is None:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidBearer(
                "send the access token as `Authorization: Bearer <token>`", error="invalid_request"
            )
        return await self.viewer(token)

    async def viewer(self, token: str) -> Viewer:
        """The Viewer of a valid access token; InvalidBearer otherwise."""
        now = int(self._clock())
        cached = self._cache.get(token)
        if cached is not None:
            if cached[1] > now:
                self._cache.move_to_end(token)
                return cached[0]
            del self._cache[token]
        try:
            claims = await self._keys.verify(token, typ=ACCESS_TOKEN_TYPE)
            check_access_claims(claims, issuer=self._issuer, now=now)
            viewer = viewer_from_claims(claims)
        except (InvalidToken, BadClaims) as error:
            raise InvalidBearer(f"invalid access token: {error}") from None
        self._cache[token] = (viewer, int(claims["exp"]))
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return viewer
