"""The permission classes other domains put on their fields: coded errors, scopes, spaces."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry

from federation.access import Role, Viewer
from federation.errors import FederationError
from federation.graphql.permissions import (
    Authenticated,
    Coordinator,
    ManagesSite,
    SignedIn,
    allow,
    site_attr,
)

HERE, ELSEWHERE = 1, 2


async def site_of_slug(source: Any, info: Any, args: dict[str, Any]) -> int | None:
    return {"here": HERE, "elsewhere": ELSEWHERE}.get(args["site"])


@strawberry.type
class SpaceFigures:
    site_id: strawberry.Private[int]

    @strawberry.field(extensions=[allow(ManagesSite(site_attr(), scope="stats:read"))])
    def revenue(self) -> int:
        return 42


@strawberry.type
class Query:
    @strawberry.field(extensions=[allow(SignedIn(scope="profile"))])
    def mine(self) -> str:
        return "ok"

    @strawberry.field(extensions=[allow(Coordinator(scope="stats:read"))])
    def network(self) -> str:
        return "ok"

    @strawberry.field(extensions=[allow(Authenticated(scope="sync:write"))])
    def sync(self) -> str:
        return "ok"

    @strawberry.field(extensions=[allow(ManagesSite(site_of_slug, space_clients=True))])
    def space(self, site: str) -> str:
        return "ok"

    @strawberry.field
    def figures(self, site: int) -> SpaceFigures:
        return SpaceFigures(site_id=site)


schema = strawberry.Schema(query=Query)


@dataclass
class FakeContext:
    viewer: Viewer


PERSON = uuid.uuid4()
VIEWERS = {
    "anonymous": Viewer(),
    "coworker": Viewer(person_id=PERSON, roles=frozenset({Role.COWORKER})),
    "manager": Viewer(
        person_id=PERSON, roles=frozenset({Role.MANAGER}), managed_site_ids=frozenset({HERE})
    ),
    "coordinator": Viewer(person_id=PERSON, roles=frozenset({Role.COORDINATOR})),
    "kiosk": Viewer(client_id="tl_k", client_site_id=HERE, scopes=frozenset({"sync:write"})),
    "no-scope": Viewer(
        person_id=PERSON, roles=frozenset({Role.COORDINATOR}), scopes=frozenset({"events"})
    ),
}

CASES = {
    "{ mine }": dict(
        anonymous="UNAUTHENTICATED",
        coworker="OK",
        manager="OK",
        coordinator="OK",
        kiosk="FORBIDDEN",
        **{"no-scope": "FORBIDDEN"},
    ),
    "{ network }": dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="FORBIDDEN",
        coordinator="OK",
        kiosk="FORBIDDEN",
        **{"no-scope": "FORBIDDEN"},
    ),
    "{ sync }": dict(
        anonymous="UNAUTHENTICATED",
        coworker="OK",
        manager="OK",
        coordinator="OK",
        kiosk="OK",
        **{"no-scope": "FORBIDDEN"},
    ),
    '{ space(site: "here") }': dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="OK",
        coordinator="OK",
        kiosk="OK",
        **{"no-scope": "OK"},
    ),
    '{ space(site: "elsewhere") }': dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="FORBIDDEN",
        coordinator="OK",
        kiosk="FORBIDDEN",
        **{"no-scope": "OK"},
    ),
    '{ space(site: "nowhere") }': dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="FORBIDDEN",
        coordinator="FORBIDDEN",
        kiosk="FORBIDDEN",
        **{"no-scope": "FORBIDDEN"},
    ),
    "{ figures(site: 1) { revenue } }": dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="OK",
        coordinator="OK",
        kiosk="FORBIDDEN",
        **{"no-scope": "FORBIDDEN"},
    ),
    "{ figures(site: 2) { revenue } }": dict(
        anonymous="UNAUTHENTICATED",
        coworker="FORBIDDEN",
        manager="FORBIDDEN",
        coordinator="OK",
        kiosk="FORBIDDEN",
        **{"no-scope": "FORBIDDEN"},
    ),
}


@pytest.mark.parametrize("query", CASES)
async def test_rules_raise_the_hubs_coded_errors(query: str) -> None:
    got = {}
    for name, viewer in VIEWERS.items():
        result = await schema.execute(query, context_value=FakeContext(viewer))
        if result.errors:
            original = result.errors[0].original_error
            assert isinstance(original, FederationError), result.errors
            got[name] = original.code
        else:
            got[name] = "OK"
    assert got == CASES[query]
