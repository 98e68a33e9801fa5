"""Helpers for the auth tests: accounts, clients, and a person going through the pages."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from federation.access import Role
from federation.auth import service
from federation.auth.models import GrantKind
from federation.db import Database

PASSWORD = "correct horse battery"
REDIRECT_URI = "https://app.example.org/callback"

_numbers = iter(range(1, 1_000_000))


@dataclass(frozen=True)
class MadeAccount:
    id: uuid.UUID
    person_id: uuid.UUID
    email: str
    password: str


async def make_account(
    db: Database,
    email: str | None = None,
    *,
    role: Role = Role.COWORKER,
    sites: Sequence[str] = (),
    password: str = PASSWORD,
    name: str = "Camille Martin",
) -> MadeAccount:
    email = email or f"person{next(_numbers)}@example.org"
    async with db.transaction() as session:
        account = await service.create_account(
            session,
            service.NewAccount(
                email=email, display_name=name, password=password, role=role, site_slugs=sites
            ),
        )
    return MadeAccount(account.id, account.person_id, email, password)


@dataclass(frozen=True)
class MadeClient:
    client_id: str
    secret: str | None
    redirect_uri: str | None


async def make_client(
    db: Database,
    *,
    grant: GrantKind = GrantKind.AUTHORIZATION_CODE,
    scope: str = "profile passes events",
    site: str | None = None,
    redirect_uris: Sequence[str] = (REDIRECT_URI,),
    public: bool = False,
    client_id: str | None = None,
    name: str = "Appli du réseau",
) -> MadeClient:
    uris = list(redirect_uris) if grant is GrantKind.AUTHORIZATION_CODE else []
    async with db.transaction() as session:
        client, secret = await service.create_client(
            session,
            service.NewClient(
                name=name,
                grant=grant,
                scope=scope,
                site_slug=site,
                redirect_uris=uris,
                public=public,
                client_id=client_id,
            ),
            allow_insecure_http=True,
        )
    return MadeClient(client.client_id, secret, uris[0] if uris else None)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(
    client: MadeClient, challenge: str | None, *, scope: str | None = "profile", **extra: str
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri or "",
        "state": "st-" + secrets.token_hex(4),
        **extra,
    }
    if scope is not None:
        params["scope"] = scope
    if challenge is not None:
        params.setdefault("code_challenge", challenge)
        params.setdefault("code_challenge_method", "S256")
    return params


async def sign_in_and_allow(
    http: httpx.AsyncClient,
    client: MadeClient,
    account: MadeAccount,
    params: dict[str, str],
) -> httpx.Response:
    """Open the authorization page, sign in, allow: the final redirect response."""
    page = await http.get("/oauth/authorize", params=params)
    if page.status_code == 302:
        return page  # already signed in, and this client already allowed
    assert page.status_code == 200, page.text
    consent = await http.post(
        "/oauth/authorize",
        params=params,
        data={
            "csrf_token": csrf_of(page),
            "action": "login",
            "email": account.email,
            "password": account.password,
        },
    )
    if consent.status_code == 302:
        return consent
    assert consent.status_code == 200, consent.text
    return await http.post(
        "/oauth/authorize", params=params, data={"csrf_token": csrf_of(consent), "action": "allow"}
    )


async def get_code(
    http: httpx.AsyncClient, client: MadeClient, account: MadeAccount, *, scope: str = "profile"
) -> tuple[str, str]:
    """(code, verifier) after a person signs in and allows `client`."""
    verifier, challenge = pkce()
    params = authorize_params(client, challenge, scope=scope)
    answer = await sign_in_and_allow(http, client, account, params)
    assert answer.status_code == 302, answer.text
    query = query_of(answer.headers["location"])
    assert query["state"] == params["state"]
    return query["code"], verifier


def client_auth(client: MadeClient) -> dict[str, str]:
    """client_secret_post credentials, or just the id for a public client."""
    if client.secret is None:
        return {"client_id": client.client_id}
    return {"client_id": client.client_id, "client_secret": client.secret}


async def exchange(
    http: httpx.AsyncClient, client: MadeClient, code: str, verifier: str | None, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri or "",
        **client_auth(client),
        **extra,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return await http.post("/oauth/token", data=data)


async def refresh(http: httpx.AsyncClient, client: MadeClient, token: str) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **client_auth(client)},
    )
