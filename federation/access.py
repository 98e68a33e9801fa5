"""Who is asking, and pure permission checks on it (no I/O).

A Viewer is built once per request from a verified bearer token (or is anonymous) and
carries everything a permission check needs, so no rule has to ask the database who
someone is.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from starlette.requests import Request

from federation.errors import Forbidden, Unauthenticated


class Role(enum.StrEnum):
    COWORKER = "coworker"
    MANAGER = "manager"
    COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Viewer:
    # The signed-in person, if any.
    person_id: uuid.UUID | None = None
    home_site_id: int | None = None
    roles: frozenset[Role] = frozenset()
    managed_site_ids: frozenset[int] = frozenset()
    # What the token allows. None means a first-party session with every scope its roles allow.
    scopes: frozenset[str] | None = None
    # A space's software (client credentials) acts for exactly one space.
    client_id: str | None = None
    client_site_id: int | None = None

    @property
    def is_person(self) -> bool:
        return self.person_id is not None

    @property
    def is_anonymous(self) -> bool:
        return self.person_id is None and self.client_id is None

    @property
    def is_coordinator(self) -> bool:
        return Role.COORDINATOR in self.roles

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def manages(self, site_id: int) -> bool:
        return Role.MANAGER in self.roles and site_id in self.managed_site_ids

    def acts_for(self, site_id: int) -> bool:
        """A space's client, or a manager of that space."""
        return self.client_site_id == site_id or self.manages(site_id)

    def shares_space_with(self, home_site_id: int | None) -> bool:
        """'Own space' visibility: same home space, or a manager of that space."""
        if home_site_id is None:
            return False
        return self.home_site_id == home_site_id or home_site_id in self.managed_site_ids

    def require_person(self) -> uuid.UUID:
        if self.person_id is None:
            if self.client_id is not None:
                raise Forbidden("only a signed-in person can do this, not a client acting alone")
            raise Unauthenticated("sign in first")
        return self.person_id

    def require_scope(self, scope: str) -> None:
        if self.is_anonymous:
            raise Unauthenticated("sign in first")
        if not self.has_scope(scope):
            raise Forbidden(f"this token lacks the `{scope}` scope", scope=scope)


ANONYMOUS = Viewer()


async def viewer_of(request: Request) -> Viewer:
    """Who is asking, for plain HTTP endpoints: what the app's authenticator makes of the
    request (a verified bearer token, or anonymous)."""
    viewer: Viewer = await request.app.state.authenticate(request)
    return viewer
