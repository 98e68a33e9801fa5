"""The sign-in and consent pages: CSRF, framing, throttling, and saying nothing about who exists."""

from __future__ import annotations

import contextlib
import re

import httpx

from federation.auth import service
from tests.federation.auth.support import (
    MadeAccount,
    MadeClient,
    authorize_params,
    csrf_of,
    make_account,
    make_client,
    pkce,
)
from tests.support import Hub


async def open_page(hub: Hub, client: MadeClient) -> tuple[dict[str, str], httpx.Response]:
    params = authorize_params(client, pkce()[1])
    page = await hub.http.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    return params, page


async def try_sign_in(
    hub: Hub, params: dict[str, str], csrf: str, email: str, password: str, **headers: str
) -> httpx.Response:
    return await hub.http.post(
        "/oauth/authorize",
        params=params,
        data={"csrf_token": csrf, "action": "login", "email": email, "password": password},
        headers=headers,
    )


async def test_the_sign_in_page_is_french_first_with_english_and_cannot_be_framed(
    hub: Hub,
) -> None:
    client = await make_client(hub.db, name="Kiosque Casaco")
    _, page = await open_page(hub, client)
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text
    assert 'lang="en">Sign in to continue to Kiosque Casaco' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


async def test_page_text_is_escaped(hub: Hub) -> None:
    client = await make_client(hub.db, name="<script>alert(1)</script>")
    _, page = await open_page(hub, client)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    params, page = await open_page(hub, client)
    csrf = csrf_of(page)
    for token, headers in [
        ("", {}),
        ("forged", {}),
        (csrf, {"origin": "https://evil.example.org"}),
    ]:
        answer = await try_sign_in(hub, params, token, account.email, account.password, **headers)
        assert answer.status_code == 403
        assert "Le formulaire a expiré" in answer.text
    fresh = httpx.AsyncClient(transport=hub.http._transport, base_url="http://hub.test")
    async with fresh:  # a browser that never loaded the page has no CSRF cookie
        answer = await fresh.post(
            "/oauth/authorize",
            params=params,
            data={
                "csrf_token": csrf,
                "action": "login",
                "email": account.email,
                "password": account.password,
            },
        )
        assert answer.status_code == 403
    ok = await try_sign_in(
        hub, params, csrf, account.email, account.password, origin="http://hub.test"
    )
    assert ok.status_code == 200
    assert "Autoriser" in ok.text


async def test_a_wrong_password_and_an_unknown_address_read_the_same(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    params, page = await open_page(hub, client)
    wrong = await try_sign_in(hub, params, csrf_of(page), account.email, "not the password")
    unknown = await try_sign_in(hub, params, csrf_of(page), "nobody@example.org", "whatever12")
    assert wrong.status_code == unknown.status_code == 401
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong.text
    assert message in unknown.text

    def shown(page: httpx.Response, email: str) -> str:
        return re.sub(r'nonce="[^"]+"', "", page.text.replace(email, "X"))

    assert shown(wrong, account.email) == shown(unknown, "nobody@example.org")


async def test_sign_in_is_throttled_per_account_whatever_the_password(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    other = await make_account(hub.db)
    params, page = await open_page(hub, client)
    csrf = csrf_of(page)
    for _ in range(service.MAX_FAILURES_PER_ACCOUNT):
        answer = await try_sign_in(hub, params, csrf, account.email, "wrong password")
        assert answer.status_code == 401
    locked = await try_sign_in(hub, params, csrf, account.email, account.password)
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.text
    # The same for an address with no account: throttling reveals nothing either.
    for _ in range(service.MAX_FAILURES_PER_ACCOUNT):
        await try_sign_in(hub, params, csrf, "ghost@example.org", "wrong password")
    assert (await try_sign_in(hub, params, csrf, "ghost@example.org", "x" * 12)).status_code == 429
    # Another account from the same place still signs in.
    assert (await try_sign_in(hub, params, csrf, other.email, other.password)).status_code == 200


async def test_sign_in_is_throttled_per_ip_across_addresses(hub: Hub) -> None:
    client = await make_client(hub.db)
    account: MadeAccount = await make_account(hub.db)
    params, page = await open_page(hub, client)
    csrf = csrf_of(page)
    async with hub.db.transaction() as session:
        for i in range(service.MAX_FAILURES_PER_IP):
            await service.record_failed_sign_in(session, f"guess{i}@example.org", ip="127.0.0.1")
    blocked = await try_sign_in(hub, params, csrf, account.email, account.password)
    assert blocked.status_code == 429


async def test_throttling_forgets_failures_after_the_window(hub: Hub) -> None:
    from datetime import timedelta

    from federation.kit.clock import utcnow

    account = await make_account(hub.db)
    long_ago = utcnow() - service.THROTTLE_WINDOW - timedelta(minutes=1)
    async with hub.db.transaction() as session:
        for _ in range(service.MAX_FAILURES_PER_ACCOUNT):
            with contextlib.suppress(service.SignInRefused):
                await service.sign_in(
                    session, account.email, "wrong pass", ip="10.0.0.1", now=long_ago
                )
    async with hub.db.transaction() as session:
        signed = await service.sign_in(session, account.email, account.password, ip="10.0.0.1")
    assert signed.id == account.id


async def test_an_unknown_client_or_redirect_uri_shows_an_error_page_and_redirects_nowhere(
    hub: Hub,
) -> None:
    client = await make_client(hub.db)
    for params in [
        {**authorize_params(client, pkce()[1]), "client_id": "tl_nobody"},
        {**authorize_params(client, pkce()[1]), "redirect_uri": "https://evil.example.org/cb"},
        {},
    ]:
        page = await hub.http.get("/oauth/authorize", params=params)
        assert page.status_code == 400
        assert "location" not in page.headers
        assert "Ce lien de connexion" in page.text


async def test_switching_account_signs_out_of_the_pages(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    params, page = await open_page(hub, client)
    consent = await try_sign_in(hub, params, csrf_of(page), account.email, account.password)
    switched = await hub.http.post(
        "/oauth/authorize", params=params, data={"csrf_token": csrf_of(consent), "action": "switch"}
    )
    assert switched.status_code == 200
    assert 'name="password"' in switched.text
    again = await hub.http.get("/oauth/authorize", params=params)
    assert 'name="password"' in again.text  # the session cookie is gone
