"""A stock OAuth client against the hub running for real: Authlib's own httpx client, a
uvicorn server on a free loopback port, endpoints found through the metadata document,
and tokens checked with the published JWKS by joserfc alone."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from federation.access import Role
from federation.app import create_app
from federation.auth.models import GrantKind
from federation.db import Database
from federation.settings import Settings
from tests.factories import make_site
from tests.federation.auth.support import csrf_of, make_account, make_client

ME = "{ me { id email roles managedSites { slug } } }"


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The hub in a thread, on a port the OS picked; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = replace(
        Settings(database_url=database_url), base_url=base_url, allow_insecure_http=True
    )
    config = uvicorn.Config(
        create_app(settings), log_level="warning", lifespan="on", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "the hub did not start"
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
async def live(db: Database) -> AsyncIterator[str]:
    with serving(db.url) as base_url:
        yield base_url


async def discover(base_url: str) -> dict[str, Any]:
    async with AsyncOAuth2Client() as http:
        answer = await http.request(
            "GET", f"{base_url}/.well-known/oauth-authorization-server", withhold_token=True
        )
    metadata = AuthorizationServerMetadata(answer.json())
    metadata.validate()
    assert metadata["issuer"] == base_url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "implicit" not in str(metadata["grant_types_supported"])
    return dict(metadata)


async def verify_independently(base_url: str, token: str) -> dict[str, Any]:
    """What a space's kiosk would do: fetch the JWKS once, verify with joserfc alone."""
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{base_url}/oauth/jwks.json")).json()
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base_url},
        aud={"essential": True, "value": base_url},
        exp={"essential": True},
        sub={"essential": True},
        client_id={"essential": True},
    ).validate(decoded.claims)
    return dict(decoded.claims)


async def test_a_space_gets_a_token_with_authlibs_client_credentials_flow(
    db: Database, live: str
) -> None:
    await make_site(db, "casaco")
    made = await make_client(
        db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write checkin:write"
    )
    metadata = await discover(live)
    async with AsyncOAuth2Client(made.client_id, made.secret, scope="sync:write") as client:
        token = await client.fetch_token(
            metadata["token_endpoint"], grant_type="client_credentials"
        )
    assert token["scope"] == "sync:write"
    assert token["expires_in"] == 900
    claims = await verify_independently(live, token["access_token"])
    assert claims["sub"] == made.client_id
    assert claims["scope"] == "sync:write"


async def test_a_person_signs_in_through_authlibs_authorization_code_flow_with_pkce(
    db: Database, live: str
) -> None:
    await make_site(db, "casaco")
    account = await make_account(db, role=Role.MANAGER, sites=["casaco"])
    redirect_uri = "http://127.0.0.1:8765/callback"
    made = await make_client(db, public=True, redirect_uris=[redirect_uri])
    metadata = await discover(live)
    client = AsyncOAuth2Client(
        made.client_id,
        scope="profile passes",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    async with client:
        verifier = secrets.token_urlsafe(48)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        callback = await browser_signs_in_and_allows(url, account.email, account.password)
        assert callback.startswith(redirect_uri)
        token = await client.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        assert token["scope"] == "profile passes"
        assert "refresh_token" in token
        claims = await verify_independently(live, token["access_token"])
        assert claims["sub"] == str(account.person_id)
        assert claims["roles"] == ["manager"]
        # The token opens the hub's API: Authlib's client sends it as a bearer token.
        answer = await client.post(f"{live}/graphql", json={"query": ME})
        assert answer.json()["data"]["me"]["managedSites"] == [{"slug": "casaco"}]
        refreshed = await client.refresh_token(metadata["token_endpoint"])
        assert refreshed["refresh_token"] != token["refresh_token"]


async def browser_signs_in_and_allows(url: str, email: str, password: str) -> str:
    """A person's browser: the sign-in page, then consent; returns the callback URL."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        consent = await browser.post(
            url,
            data={
                "csrf_token": csrf_of(page),
                "action": "login",
                "email": email,
                "password": password,
            },
        )
        assert consent.status_code == 200, consent.text
        allowed = await browser.post(url, data={"csrf_token": csrf_of(consent), "action": "allow"})
        assert allowed.status_code == 302, allowed.text
        return allowed.headers["location"]
