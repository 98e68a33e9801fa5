"""Access-token claims and the Viewer they stand for: pure rules, no database."""

from __future__ import annotations

import uuid

import pytest

from federation.access import Role, Viewer
from federation.auth.tokens import (
    BadClaims,
    Subject,
    access_token_claims,
    check_access_claims,
    scope_string,
    viewer_from_claims,
)

ISSUER = "https://hub.example.org"
NOW = 1_800_000_000


def test_a_person_token_maps_to_a_viewer_with_roles_spaces_and_scopes() -> None:
    person = uuid.uuid4()
    claims = access_token_claims(
        issuer=ISSUER,
        client_id="tl_app",
        scope="profile passes",
        now=NOW,
        subject=Subject(person, frozenset({Role.MANAGER, Role.COWORKER}), frozenset({3, 7}), 3),
        jti="j1",
    )
    assert claims == {
        "iss": ISSUER,
        "aud": ISSUER,
        "iat": NOW,
        "exp": NOW + 900,
        "jti": "j1",
        "client_id": "tl_app",
        "scope": "profile passes",
        "sub": str(person),
        "roles": ["coworker", "manager"],
        "managed_sites": [3, 7],
        "home_site": 3,
    }
    check_access_claims(claims, issuer=ISSUER, now=NOW + 10)
    assert viewer_from_claims(claims) == Viewer(
        person_id=person,
        home_site_id=3,
        roles=frozenset({Role.MANAGER, Role.COWORKER}),
        managed_site_ids=frozenset({3, 7}),
        scopes=frozenset({"profile", "passes"}),
        client_id="tl_app",
    )


def test_a_client_token_acts_for_its_space_and_is_nobody() -> None:
    claims = access_token_claims(
        issuer=ISSUER, client_id="tl_kiosk", scope="checkin:write", now=NOW, client_site_id=5
    )
    assert claims["sub"] == "tl_kiosk"
    viewer = viewer_from_claims(claims)
    assert viewer.person_id is None
    assert viewer.client_site_id == 5
    assert viewer.acts_for(5)
    assert not viewer.acts_for(6)
    assert viewer.scopes == frozenset({"checkin:write"})


@pytest.mark.parametrize(
    ("change", "now"),
    [
        ({"iss": "https://evil.example.org"}, NOW),
        ({"aud": "https://evil.example.org"}, NOW),
        ({}, NOW + 900 + 31),
        ({"exp": NOW + 3600}, NOW),
        ({"iat": NOW + 120}, NOW),
        ({"client_id": None}, NOW),
        ({"scope": ["profile"]}, NOW),
    ],
    ids=["issuer", "audience", "expired", "too-long", "future", "no-client", "scope-list"],
)
def test_claims_that_do_not_make_a_live_token_of_this_hub_are_refused(
    change: dict[str, object], now: int
) -> None:
    claims = access_token_claims(issuer=ISSUER, client_id="tl_app", scope="profile", now=NOW)
    claims = {k: v for k, v in {**claims, **change}.items() if v is not None}
    with pytest.raises(BadClaims):
        check_access_claims(claims, issuer=ISSUER, now=now)


def test_scopes_are_written_in_one_stable_order() -> None:
    assert scope_string({"admin", "profile", "events"}) == "profile events admin"
