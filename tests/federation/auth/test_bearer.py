"""Bearer tokens on the hub's API: public keys only, claims checked, any bad token is a 401."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation.access import Role, viewer_of
from federation.app import create_app
from federation.auth.bearer import BearerAuthenticator, InvalidBearer
from federation.auth.tokens import Subject, access_token_claims, session_claims
from federation.db import Database
from federation.keys.service import KeyRing
from tests.factories import make_site
from tests.federation.auth.support import make_account
from tests.support import settings_for

ISSUER = "http://127.0.0.1:8000"
ME = "{ me { id email roles managedSites { slug } profile { displayName } } }"


@asynccontextmanager
async def real_hub(db: Database) -> AsyncIterator[tuple[httpx.AsyncClient, KeyRing]]:
    """The app with its own authenticator (no in-process viewer), plus a probe route."""
    app = create_app(settings_for(db), database=db)

    async def whoami(request: Request) -> Response:
        viewer = await viewer_of(request)
        return JSONResponse({"person": str(viewer.person_id), "client": viewer.client_id})

    app.router.routes.append(Route("/probe", whoami))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http, app.state.keys


def person_claims(person_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    claims = access_token_claims(
        issuer=ISSUER,
        client_id="tl_app",
        scope="profile",
        now=int(time.time()),
        subject=Subject(person_id, frozenset({Role.MANAGER}), frozenset({1}), 1),
    )
    claims.update(overrides)
    return claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_valid_token_is_the_viewer_and_no_token_is_anonymous(db: Database) -> None:
    await make_site(db, "casaco")
    account = await make_account(db, role=Role.MANAGER, sites=["casaco"])
    async with real_hub(db) as (http, keys):
        token = await keys.sign(person_claims(account.person_id), typ="at+jwt")
        answer = await http.post(
            "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
        me = answer.json()["data"]["me"]
        assert me["id"] == str(account.person_id)
        assert me["managedSites"] == [{"slug": "casaco"}]
        anonymous = await http.post("/graphql", json={"query": ME})
        assert anonymous.status_code == 200
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        probe = await http.get("/probe", headers={"authorization": f"Bearer {token}"})
        assert probe.json() == {"person": str(account.person_id), "client": "tl_app"}


BAD_TOKENS: dict[str, Callable[[str, KeyRing], Any]] = {
    "malformed": lambda good, keys: "not.a.token",
    "garbage": lambda good, keys: "x" * 40,
    "tampered": lambda good, keys: good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BB"),
    "alg-none": lambda good, keys: (
        f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(person_claims(uuid.uuid4()))}."
    ),
    "hmac": lambda good, keys: jwt.encode(
        {"alg": "HS256", "typ": "at+jwt"},
        person_claims(uuid.uuid4()),
        __import__("joserfc.jwk", fromlist=["OctKey"]).OctKey.import_key("s" * 32),
    ),
    "wrong-signature": lambda good, keys: jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": good_kid(good)},
        person_claims(uuid.uuid4()),
        ECKey.generate_key("P-256"),
    ),
    "unknown-kid": lambda good, keys: jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": "elsewhere"},
        person_claims(uuid.uuid4()),
        ECKey.generate_key("P-256", parameters={"kid": "elsewhere"}),
    ),
}

SIGNED_BAD_CLAIMS: dict[str, dict[str, Any]] = {
    "expired": {"iat": int(time.time()) - 2000, "exp": int(time.time()) - 1100},
    "wrong-audience": {"aud": "https://elsewhere.example.org"},
    "wrong-issuer": {"iss": "https://elsewhere.example.org"},
    "lives-too-long": {"exp": int(time.time()) + 3600},
    "issued-in-the-future": {"iat": int(time.time()) + 600, "exp": int(time.time()) + 1200},
    "no-jti": {"jti": None},
    "bad-subject": {"sub": "not-a-uuid"},
    "bad-roles": {"roles": ["pope"]},
}


def good_kid(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


async def assert_refused(http: httpx.AsyncClient, header: str) -> None:
    answer = await http.post("/graphql", json={"query": ME}, headers={"authorization": header})
    assert answer.status_code == 401, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert answer.headers["www-authenticate"].startswith('Bearer realm="federation", error=')
    probe = await http.get("/probe", headers={"authorization": header})
    assert probe.status_code == 401
    assert probe.json()["error"] == "UNAUTHENTICATED"
    assert "invalid" in probe.headers["www-authenticate"]


@pytest.mark.parametrize("forge", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_token_we_did_not_sign_is_a_401(db: Database, forge: Any) -> None:
    async with real_hub(db) as (http, keys):
        good = await keys.sign(person_claims(uuid.uuid4()), typ="at+jwt")
        await assert_refused(http, f"Bearer {forge(good, keys)}")


@pytest.mark.parametrize("change", SIGNED_BAD_CLAIMS.values(), ids=SIGNED_BAD_CLAIMS.keys())
async def test_a_well_signed_token_with_bad_claims_is_a_401(
    db: Database, change: dict[str, Any]
) -> None:
    async with real_hub(db) as (http, keys):
        claims = {k: v for k, v in person_claims(uuid.uuid4(), **change).items() if v is not None}
        await assert_refused(http, f"Bearer {await keys.sign(claims, typ='at+jwt')}")


async def test_another_kind_of_token_or_scheme_is_a_401(db: Database) -> None:
    async with real_hub(db) as (http, keys):
        session = await keys.sign(
            session_claims(issuer=ISSUER, account_id=uuid.uuid4(), now=int(time.time())),
            typ="session+jwt",
        )
        await assert_refused(http, f"Bearer {session}")
        await assert_refused(http, "Basic dXNlcjpwYXNz")
        await assert_refused(http, "Bearer ")


async def test_verified_tokens_are_cached_until_they_expire(db: Database) -> None:
    now = [time.time()]
    keys = KeyRing(db)
    authenticator = BearerAuthenticator(keys, ISSUER, clock=lambda: now[0], cache_size=2)
    person = uuid.uuid4()
    token = await keys.sign(person_claims(person), typ="at+jwt")
    calls = 0
    verify = keys.verify

    async def counting(token: str, *, typ: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return await verify(token, typ=typ)

    keys.verify = counting  # type: ignore[method-assign]
    first = await authenticator.viewer(token)
    second = await authenticator.viewer(token)
    assert first == second
    assert first.person_id == person
    assert calls == 1
    now[0] += 900 + 31  # past its expiry and the clock leeway: verified again, refused
    with pytest.raises(InvalidBearer):
        await authenticator.viewer(token)
    assert calls == 2
    # The cache is bounded.
    for _ in range(3):
        await authenticator.viewer(
            await keys.sign(
                person_claims(uuid.uuid4(), iat=int(now[0]), exp=int(now[0]) + 900), typ="at+jwt"
            )
        )
    assert len(authenticator._cache) == 2
