"""The authorization server's rules, each allowed and refused, in-process on both databases."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from federation.auth.models import AuthorizationCode, GrantKind
from federation.db import Database
from federation.kit.clock import utcnow
from tests.factories import make_site
from tests.federation.auth.support import (
    REDIRECT_URI,
    MadeClient,
    authorize_params,
    client_auth,
    exchange,
    get_code,
    make_account,
    make_client,
    pkce,
    query_of,
    refresh,
    sign_in_and_allow,
)
from tests.support import Hub


def claims_of(token: str, jwks: dict[str, object]) -> dict[str, object]:
    return dict(jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"]).claims)


async def person_tokens(hub: Hub, client: MadeClient, scope: str = "profile") -> dict[str, str]:
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account, scope=scope)
    answer = await exchange(hub.http, client, code, verifier)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


async def client_credentials(
    http: httpx.AsyncClient, client: MadeClient, **data: str
) -> httpx.Response:
    assert client.secret is not None
    return await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **data},
        auth=(client.client_id, client.secret),
    )


# --- access tokens ------------------------------------------------------------------------


async def test_access_tokens_live_fifteen_minutes_and_carry_rfc_9068_claims(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write checkin:write"
    )
    answer = await client_credentials(hub.http, client)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["expires_in"] == 900
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body  # client credentials never get one
    jwks = (await hub.http.get("/oauth/jwks.json")).json()
    decoded = jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    claims = dict(decoded.claims)
    assert int(claims["exp"]) - int(claims["iat"]) == 900  # type: ignore[call-overload]
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} <= claims.keys()
    assert claims["sub"] == claims["client_id"] == client.client_id
    assert claims["scope"] == "sync:write checkin:write"
    assert isinstance(claims["client_site"], int)


async def test_a_person_token_through_a_space_app_does_not_act_for_that_space(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(hub.db, site="casaco")
    tokens = await person_tokens(hub, client)
    claims = claims_of(tokens["access_token"], (await hub.http.get("/oauth/jwks.json")).json())
    assert "client_site" not in claims
    assert claims["roles"] == ["coworker"]
    assert claims["sub"] != client.client_id


# --- PKCE ---------------------------------------------------------------------------------


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
async def test_pkce_s256_is_required_of_every_client(hub: Hub, public: bool) -> None:
    client = await make_client(hub.db, public=public)
    account = await make_account(hub.db)
    verifier, challenge = pkce()
    refused = [
        authorize_params(client, None),  # no challenge at all
        authorize_params(client, challenge, code_challenge_method="plain"),
        {**authorize_params(client, None), "code_challenge": challenge},  # method omitted = plain
    ]
    for params in refused:
        page = await hub.http.get("/oauth/authorize", params=params)
        assert page.status_code == 302, page.text
        error = query_of(page.headers["location"])
        assert error["error"] == "invalid_request"
        assert error["state"] == params["state"]
    code, verifier = await get_code(hub.http, client, account)
    assert (await exchange(hub.http, client, code, verifier)).status_code == 200


async def test_the_code_verifier_must_match_and_be_sent(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    code, _ = await get_code(hub.http, client, account)
    missing = await exchange(hub.http, client, code, None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    code, _ = await get_code(hub.http, client, account)
    wrong = await exchange(hub.http, client, code, pkce()[0])
    assert wrong.json()["error"] == "invalid_grant"


# --- refresh tokens -----------------------------------------------------------------------


async def test_refresh_tokens_rotate_on_every_use(hub: Hub) -> None:
    client = await make_client(hub.db)
    first = await person_tokens(hub, client)
    second = (await refresh(hub.http, client, first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = await refresh(hub.http, client, second["refresh_token"])
    assert third.status_code == 200, third.text
    assert third.json()["scope"] == "profile"


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(hub: Hub) -> None:
    client = await make_client(hub.db)
    first = await person_tokens(hub, client)
    second = (await refresh(hub.http, client, first["refresh_token"])).json()
    replay = await refresh(hub.http, client, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The thief's replay also kills what the legitimate client holds.
    after = await refresh(hub.http, client, second["refresh_token"])
    assert after.json()["error"] == "invalid_grant"
    introspected = await hub.http.post(
        "/oauth/introspect", data={"token": second["access_token"]}, auth=_basic(client)
    )
    assert introspected.json() == {"active": False}


async def test_two_concurrent_refreshes_with_one_token_give_at_most_one_new_token(
    hub: Hub,
) -> None:
    client = await make_client(hub.db)
    tokens = await person_tokens(hub, client)
    answers = await asyncio.gather(
        *(refresh(hub.http, client, tokens["refresh_token"]) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 400, 400]


async def test_a_refresh_token_is_bound_to_its_client(hub: Hub) -> None:
    client = await make_client(hub.db)
    other = await make_client(hub.db)
    tokens = await person_tokens(hub, client)
    stolen = await refresh(hub.http, other, tokens["refresh_token"])
    assert stolen.json()["error"] == "invalid_grant"
    # ...and a failed attempt by another client does not burn it.
    assert (await refresh(hub.http, client, tokens["refresh_token"])).status_code == 200


async def test_a_refresh_may_narrow_the_scope_but_never_widen_it(hub: Hub) -> None:
    client = await make_client(hub.db)
    tokens = await person_tokens(hub, client, scope="profile passes")
    wider = await hub.http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "profile passes events",
            **client_auth(client),
        },
    )
    assert wider.json()["error"] == "invalid_scope"
    narrower = await hub.http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "passes",
            **client_auth(client),
        },
    )
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["scope"] == "passes"


# --- revocation and introspection ---------------------------------------------------------


def _basic(client: MadeClient) -> tuple[str, str]:
    assert client.secret is not None
    return client.client_id, client.secret


async def test_after_revoking_a_refresh_token_introspection_says_inactive(hub: Hub) -> None:
    client = await make_client(hub.db)
    tokens = await person_tokens(hub, client)
    before = await hub.http.post(
        "/oauth/introspect", data={"token": tokens["refresh_token"]}, auth=_basic(client)
    )
    assert before.json()["active"] is True
    revoked = await hub.http.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=_basic(client),
    )
    assert revoked.status_code == 200
    for token in (tokens["refresh_token"], tokens["access_token"]):
        after = await hub.http.post("/oauth/introspect", data={"token": token}, auth=_basic(client))
        assert after.json() == {"active": False}
    assert (await refresh(hub.http, client, tokens["refresh_token"])).status_code == 400


async def test_after_revoking_an_access_token_introspection_says_inactive(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    token = (await client_credentials(hub.http, client)).json()["access_token"]
    active = await hub.http.post("/oauth/introspect", data={"token": token}, auth=_basic(client))
    body = active.json()
    assert body["active"] is True
    assert body["client_id"] == client.client_id
    assert body["scope"] == "sync:write"
    assert body["token_type"] == "Bearer"
    assert (
        await hub.http.post("/oauth/revoke", data={"token": token}, auth=_basic(client))
    ).status_code == 200
    inactive = await hub.http.post("/oauth/introspect", data={"token": token}, auth=_basic(client))
    assert inactive.json() == {"active": False}


async def test_a_space_resource_server_introspects_its_space_tokens_and_no_others(
    hub: Hub,
) -> None:
    await make_site(hub.db, "casaco")
    await make_site(hub.db, "la-grappe")
    kiosk = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="checkin:write"
    )
    casaco_api = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    grappe_api = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="la-grappe", scope="sync:write"
    )
    token = (await client_credentials(hub.http, kiosk)).json()["access_token"]
    same_space = await hub.http.post(
        "/oauth/introspect", data={"token": token}, auth=_basic(casaco_api)
    )
    assert same_space.json()["active"] is True
    other_space = await hub.http.post(
        "/oauth/introspect", data={"token": token}, auth=_basic(grappe_api)
    )
    assert other_space.json() == {"active": False}


async def test_public_clients_cannot_introspect_but_can_revoke_their_tokens(hub: Hub) -> None:
    client = await make_client(hub.db, public=True)
    tokens = await person_tokens(hub, client)
    introspect = await hub.http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], **client_auth(client)}
    )
    assert introspect.status_code == 401
    assert introspect.json()["error"] == "invalid_client"
    revoke = await hub.http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], **client_auth(client)}
    )
    assert revoke.status_code == 200
    assert (await refresh(hub.http, client, tokens["refresh_token"])).status_code == 400


async def test_a_client_cannot_revoke_another_clients_token(hub: Hub) -> None:
    client = await make_client(hub.db)
    other = await make_client(hub.db)
    tokens = await person_tokens(hub, client)
    answer = await hub.http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"]}, auth=_basic(other)
    )
    assert answer.status_code == 400
    assert (await refresh(hub.http, client, tokens["refresh_token"])).status_code == 200


# --- scopes -------------------------------------------------------------------------------


async def test_a_disallowed_scope_is_invalid_scope_never_a_smaller_token(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    for scope in ("admin", "sync:write admin", "not-a-scope"):
        answer = await client_credentials(hub.http, client, scope=scope)
        assert answer.status_code == 400, scope
        assert answer.json()["error"] == "invalid_scope"
    allowed = await client_credentials(hub.http, client, scope="sync:write")
    assert allowed.json()["scope"] == "sync:write"
    default = await client_credentials(hub.http, client)
    assert default.json()["scope"] == "sync:write"  # omitted: the client's registered scope


async def test_an_authorization_request_for_a_disallowed_scope_is_sent_back_invalid_scope(
    hub: Hub,
) -> None:
    client = await make_client(hub.db, scope="profile")
    _, challenge = pkce()
    params = authorize_params(client, challenge, scope="profile admin")
    page = await hub.http.get("/oauth/authorize", params=params)
    assert page.status_code == 302
    assert query_of(page.headers["location"])["error"] == "invalid_scope"


# --- authorization codes ------------------------------------------------------------------


async def test_a_code_works_once_and_its_replay_revokes_what_it_gave(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    first = await exchange(hub.http, client, code, verifier)
    assert first.status_code == 200
    again = await exchange(hub.http, client, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert (await refresh(hub.http, client, first.json()["refresh_token"])).status_code == 400


async def test_two_concurrent_exchanges_of_one_code_give_one_token(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    answers = await asyncio.gather(*(exchange(hub.http, client, code, verifier) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400]


async def test_codes_expire_within_sixty_seconds(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    async with hub.db.reading() as session:
        expires = await session.scalar(
            AuthorizationCode.__table__.select().with_only_columns(AuthorizationCode.expires_at)
        )
    assert expires is not None
    assert timedelta(0) < expires - utcnow() <= timedelta(seconds=60)
    async with hub.db.transaction() as session:
        await session.execute(
            update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    late = await exchange(hub.http, client, code, verifier)
    assert late.json()["error"] == "invalid_grant"


async def test_a_code_is_bound_to_its_client(hub: Hub) -> None:
    client = await make_client(hub.db)
    other = await make_client(hub.db)
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    stolen = await exchange(hub.http, other, code, verifier, redirect_uri=REDIRECT_URI)
    assert stolen.json()["error"] == "invalid_grant"


# --- redirect URIs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        REDIRECT_URI + "/",
        REDIRECT_URI + "?next=/admin",
        REDIRECT_URI.upper(),
        "https://app.example.org/callback/../evil",
        "https://evil.example.org/callback",
        "",
    ],
)
async def test_redirect_uris_match_exactly_or_nobody_is_redirected(hub: Hub, uri: str) -> None:
    client = await make_client(hub.db)
    _, challenge = pkce()
    params = {**authorize_params(client, challenge), "redirect_uri": uri}
    if not uri:
        del params["redirect_uri"]
    page = await hub.http.get("/oauth/authorize", params=params)
    assert page.status_code == 400
    assert "location" not in page.headers


async def test_the_exact_redirect_uri_is_accepted_and_required_again_at_the_token_endpoint(
    hub: Hub,
) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    wrong = await exchange(hub.http, client, code, verifier, redirect_uri=REDIRECT_URI + "/x")
    assert wrong.json()["error"] == "invalid_grant"


# --- grants that do not exist -------------------------------------------------------------


async def test_there_is_no_implicit_grant(hub: Hub) -> None:
    client = await make_client(hub.db)
    _, challenge = pkce()
    params = authorize_params(client, challenge, response_type="token")
    params["response_type"] = "token"
    page = await hub.http.get("/oauth/authorize", params=params)
    assert page.status_code == 302
    assert query_of(page.headers["location"])["error"] == "unsupported_response_type"


async def test_there_is_no_password_grant(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    answer = await hub.http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": account.email,
            "password": account.password,
            **client_auth(client),
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


async def test_a_client_uses_only_its_own_grant(hub: Hub) -> None:
    client = await make_client(hub.db)  # authorization code
    answer = await hub.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=_basic(client)
    )
    assert answer.json()["error"] == "unauthorized_client"


# --- transport ----------------------------------------------------------------------------


async def test_plain_http_is_refused_unless_the_setting_allows_it(db: Database) -> None:
    await make_site(db, "casaco")
    client = await make_client(
        db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    async with Hub.running(db, allow_insecure_http=False) as hub:
        plain = await client_credentials(hub.http, client)
        assert plain.status_code == 400
        assert plain.json()["error"] == "insecure_transport"
        page = await hub.http.get("/oauth/authorize", params={"client_id": client.client_id})
        assert page.status_code == 400
        secure = httpx.AsyncClient(transport=hub.http._transport, base_url="https://hub.test")
        async with secure:
            assert (await client_credentials(secure, client)).status_code == 200
    async with Hub.running(db, allow_insecure_http=True) as hub:
        assert (await client_credentials(hub.http, client)).status_code == 200


async def test_registered_redirect_uris_use_https_or_loopback(db: Database) -> None:
    from federation.auth import service
    from federation.errors import BadUserInput

    for uri in (
        "https://app.example.org/cb",
        "http://127.0.0.1:8765/cb",
        "http://[::1]/cb",
        "org.tiers-lieux.app:/callback",
    ):
        assert service.check_redirect_uri(uri, allow_insecure_http=False) == uri
    for uri in (
        "http://app.example.org/cb",
        "https://app.example.org/cb#frag",
        "javascript:x",
        "https://*.example.org/cb",
        "/relative",
    ):
        with pytest.raises(BadUserInput):
            service.check_redirect_uri(uri, allow_insecure_http=False)
    assert service.check_redirect_uri("http://app.test/cb", allow_insecure_http=True)


# --- token endpoint errors (RFC 6749 §5.2) ------------------------------------------------


async def test_a_client_that_fails_to_authenticate_gets_invalid_client_401(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    attempts = [
        {"auth": (client.client_id, "wrong-secret")},
        {"auth": ("tl_nobody", "whatever")},
        {"data_extra": {"client_id": client.client_id, "client_secret": "wrong"}},
        {"data_extra": {"client_id": "tl_nobody", "client_secret": "x"}},
        {},
    ]
    for attempt in attempts:
        data = {"grant_type": "client_credentials", **attempt.get("data_extra", {})}
        answer = await hub.http.post("/oauth/token", data=data, auth=attempt.get("auth"))
        assert answer.status_code == 401, (attempt, answer.text)
        assert answer.json()["error"] == "invalid_client"
    basic = await hub.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, "no")
    )
    assert basic.headers["www-authenticate"].startswith("Basic")


async def test_a_revoked_client_can_no_longer_authenticate(hub: Hub) -> None:
    from federation.auth import service

    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site="casaco", scope="sync:write"
    )
    async with hub.db.transaction() as session:
        await service.revoke_client(session, client.client_id)
    answer = await client_credentials(hub.http, client)
    assert answer.json()["error"] == "invalid_client"


async def test_bad_token_requests_get_rfc_6749_errors_never_a_500(hub: Hub) -> None:
    client = await make_client(hub.db)
    cases = [
        (
            {
                "grant_type": "authorization_code",
                "code": "nope",
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pkce()[0],
            },
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
        ({}, "unsupported_grant_type"),
    ]
    for data, error in cases:
        answer = await hub.http.post("/oauth/token", data={**data, **client_auth(client)})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == error
        assert answer.headers["cache-control"] == "no-store"
    as_json = await hub.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert as_json.json()["error"] == "invalid_request"
    repeated = await hub.http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=password",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert repeated.json()["error"] == "invalid_request"


@pytest.mark.parametrize("encoded", [True, False], ids=["rfc-6749-encoded", "raw"])
async def test_a_client_id_with_a_colon_does_not_break_basic_auth(hub: Hub, encoded: bool) -> None:
    await make_site(hub.db, "casaco")
    client = await make_client(
        hub.db,
        grant=GrantKind.CLIENT_CREDENTIALS,
        site="casaco",
        scope="sync:write",
        client_id="casaco:kiosk:1",
    )
    assert client.secret is not None
    user = quote(client.client_id, safe="") if encoded else client.client_id
    credentials = base64.b64encode(f"{user}:{client.secret}".encode()).decode()
    answer = await hub.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": f"Basic {credentials}"},
    )
    assert answer.status_code == 200, answer.text
    wrong = base64.b64encode(f"{user}:not-the-secret".encode()).decode()
    refused = await hub.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": f"Basic {wrong}"},
    )
    assert refused.status_code == 401


# --- consent ------------------------------------------------------------------------------


async def test_a_consent_given_once_is_not_asked_again_for_the_same_scopes(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    await get_code(hub.http, client, account)
    _, challenge = pkce()
    params = authorize_params(client, challenge)
    again = await hub.http.get("/oauth/authorize", params=params)
    assert again.status_code == 302  # signed in and already allowed: straight back
    assert "code" in query_of(again.headers["location"])
    wider = await hub.http.get(
        "/oauth/authorize", params=authorize_params(client, challenge, scope="profile events")
    )
    assert wider.status_code == 200  # a new scope: asked again
    assert "Vous inscrire aux événements" in wider.text


async def test_denying_sends_access_denied_back_with_state_and_issuer(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    _, challenge = pkce()
    params = authorize_params(client, challenge)
    page = await hub.http.get("/oauth/authorize", params=params)
    from tests.federation.auth.support import csrf_of

    consent = await hub.http.post(
        "/oauth/authorize",
        params=params,
        data={
            "csrf_token": csrf_of(page),
            "action": "login",
            "email": account.email,
            "password": account.password,
        },
    )
    denied = await hub.http.post(
        "/oauth/authorize", params=params, data={"csrf_token": csrf_of(consent), "action": "deny"}
    )
    assert denied.status_code == 302
    query = query_of(denied.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert query["iss"] == "http://127.0.0.1:8000"


async def test_the_authorization_response_names_the_issuer(hub: Hub) -> None:
    client = await make_client(hub.db)
    account = await make_account(hub.db)
    _, challenge = pkce()
    answer = await sign_in_and_allow(hub.http, client, account, authorize_params(client, challenge))
    assert query_of(answer.headers["location"])["iss"] == "http://127.0.0.1:8000"
