"""Access tokens as RFC 9068 JWTs: which claims they carry, how they are checked, and
the Viewer they stand for. Pure: no I/O, no clock of its own (callers pass `now`).

Claims beyond RFC 9068's (`iss sub aud exp iat jti client_id scope`):

- `roles`: the person's roles (coworker, manager, coordinator);
- `managed_sites`: ids of the spaces a manager manages;
- `home_site`: the person's home space id (or absent);
- `client_site`: for a space's own software (client credentials), the space it acts for.

A token with `sub == client_id` stands for a client acting as itself; any other `sub` is
the id of a person.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from federation.access import Role, Viewer

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a JWT type, not a secret)
SESSION_TOKEN_TYPE = "session+jwt"  # noqa: S105
ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
AUTHORIZATION_CODE_TTL = timedelta(seconds=60)
SESSION_TTL = timedelta(hours=8)
# Clocks of different hub processes disagree a little; never by minutes.
LEEWAY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    name: str
    fr: str
    en: str


SCOPES: tuple[ScopeInfo, ...] = (
    ScopeInfo(
        "profile",
        "Voir et modifier votre profil, exporter ou effacer vos données",
        "See and edit your profile, export or erase your data",
    ),
    ScopeInfo(
        "passes",
        "Voir vos pass et les utiliser pour vous enregistrer",
        "See your passes and use them to check in",
    ),
    ScopeInfo(
        "events",
        "Vous inscrire aux événements et voir votre agenda privé",
        "Register for events and see your private calendar",
    ),
    ScopeInfo(
        "stats:read",
        "Lire les statistiques et les décomptes entre espaces",
        "Read statistics and settlements between spaces",
    ),
    ScopeInfo(
        "sync:write",
        "Synchroniser les données d'un espace",
        "Sync a space's data",
    ),
    ScopeInfo(
        "checkin:write",
        "Enregistrer des passages à l'accueil d'un espace",
        "Record check-ins at a space's front desk",
    ),
    ScopeInfo(
        "admin",
        "Administrer le réseau (coordination)",
        "Administer the network (coordinators)",
    ),
)
SCOPE_NAMES: tuple[str, ...] = tuple(s.name for s in SCOPES)


def scope_set(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def scope_string(scopes: Iterable[str]) -> str:
    """Scopes in a stable order (the order of SCOPES), space-separated."""
    wanted = set(scopes)
    return " ".join(name for name in SCOPE_NAMES if name in wanted)


def unknown_scopes(scope: str | None) -> list[str]:
    return sorted(scope_set(scope) - set(SCOPE_NAMES))


def new_jti() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a person-token is about, as the hub knows them when it issues the token."""

    person_id: uuid.UUID
    roles: frozenset[Role]
    managed_site_ids: frozenset[int]
    home_site_id: int | None


def access_token_claims(
    *,
    issuer: str,
    client_id: str,
    scope: str,
    now: int,
    subject: Subject | None = None,
    client_site_id: int | None = None,
    jti: str | None = None,
    ttl: timedelta = ACCESS_TOKEN_TTL,
) -> dict[str, Any]:
    """The claims of an access token for a person (subject) or for a client acting as itself."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": issuer,  # the hub's API is the resource server
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": jti or new_jti(),
        "client_id": client_id,
        "scope": scope,
    }
    if subject is not None:
        claims["sub"] = str(subject.person_id)
        claims["roles"] = sorted(role.value for role in subject.roles)
        claims["managed_sites"] = sorted(subject.managed_site_ids)
        if subject.home_site_id is not None:
            claims["home_site"] = subject.home_site_id
    else:
        # RFC 9068 §2.2: without a resource owner, `sub` names the client.
        claims["sub"] = client_id
        if client_site_id is not None:
            claims["client_site"] = client_site_id
    return claims


class BadClaims(Exception):
    """The token is well signed but its claims do not make it valid here."""


def _registry(issuer: str, now: int) -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": issuer},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
        client_id={"essential": True},
    )


def check_access_claims(claims: Mapping[str, Any], *, issuer: str, now: int) -> None:
    """Raise BadClaims unless the claims are those of a live access token of this hub."""
    try:
        _registry(issuer, now).validate(dict(claims))
    except JoseError as error:
        raise BadClaims(error.description or error.error) from None
    except (TypeError, ValueError) as error:
        raise BadClaims(str(error)) from None
    if claims["exp"] - claims["iat"] > ACCESS_TOKEN_TTL.total_seconds():
        raise BadClaims("lives longer than an access token may")
    if not isinstance(claims.get("scope", ""), str):
        raise BadClaims("scope is not a string")


def viewer_from_claims(claims: Mapping[str, Any]) -> Viewer:
    """The Viewer a checked access token stands for. BadClaims if its hub claims are malformed."""
    try:
        scopes = scope_set(claims.get("scope"))
        client_id = str(claims["client_id"])
        if claims["sub"] == client_id:
            site = claims.get("client_site")
            return Viewer(
                scopes=scopes,
                client_id=client_id,
                client_site_id=int(site) if site is not None else None,
            )
        home = claims.get("home_site")
        return Viewer(
            person_id=uuid.UUID(str(claims["sub"])),
            home_site_id=int(home) if home is not None else None,
            roles=frozenset(Role(role) for role in claims.get("roles", ())),
            managed_site_ids=frozenset(int(site) for site in claims.get("managed_sites", ())),
            scopes=scopes,
            client_id=client_id,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BadClaims(f"malformed hub claims: {error}") from None


def session_claims(*, issuer: str, account_id: uuid.UUID, now: int) -> dict[str, Any]:
    """The claims of the hub pages' sign-in cookie."""
    return {
        "iss": issuer,
        "aud": f"{issuer}/oauth",
        "sub": str(account_id),
        "iat": now,
        "auth_time": now,
        "exp": now + int(SESSION_TTL.total_seconds()),
    }


def session_account(claims: Mapping[str, Any], *, issuer: str, now: int) -> tuple[uuid.UUID, int]:
    """(account id, auth time) of a live sign-in cookie; BadClaims otherwise."""
    registry = JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": f"{issuer}/oauth"},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(dict(claims))
        return uuid.UUID(str(claims["sub"])), int(claims.get("auth_time", now))
    except JoseError as error:
        raise BadClaims(error.description or error.error) from None
    except (KeyError, TypeError, ValueError) as error:
        raise BadClaims(str(error)) from None
