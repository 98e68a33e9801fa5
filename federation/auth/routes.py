"""The OAuth 2.0 endpoints and the sign-in and consent pages.

Each endpoint awaits the request body, opens the request's one transaction, and runs
Authlib (oauth.HubServer) in a worker thread; see oauth.py for how its callbacks reach
the database. Pages are server-rendered (French first, English beside it), protected
against CSRF by a double-submit cookie plus an Origin check, and never framed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from authlib.oauth2.rfc6749 import InsecureTransportError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from federation.auth import service
from federation.auth.oauth import Answer, Client, HubIssuer, HubRequest, HubServer
from federation.auth.tokens import (
    SCOPES,
    SESSION_TOKEN_TYPE,
    SESSION_TTL,
    BadClaims,
    scope_set,
    session_account,
    session_claims,
)
from federation.db import Database
from federation.keys.service import InvalidToken, KeyRing, KeySnapshot
from federation.settings import Settings

log = logging.getLogger("federation.auth")

SESSION_COOKIE = "tl_session"
CSRF_COOKIE = "tl_csrf"
MAX_FORM_BYTES = 16_384

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True, slots=True)
class Text:
    fr: str
    en: str


def _hub(request: Request) -> tuple[Settings, Database, KeyRing]:
    state = request.app.state
    return state.settings, state.db, state.keys


def _authlib_uri(request: Request) -> str:
    # Authlib refuses plain http itself, except on loopback; the hub decides instead,
    # with FEDERATION_ALLOW_INSECURE_HTTP (see _insecure), so it sees an https URI.
    return str(request.url.replace(scheme="https"))


def _insecure(request: Request, settings: Settings) -> bool:
    return request.url.scheme != "https" and not settings.allow_insecure_http


def _response(answer: Answer) -> Response:
    headers = dict(answer.headers)
    if isinstance(answer.body, dict):
        return Response(json.dumps(answer.body), answer.status, headers=headers)
    return Response(answer.body or b"", answer.status, headers=headers)


def _error(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return _response(Answer(status, body, headers))


async def _form_pairs(request: Request) -> list[tuple[str, str]] | None:
    """The urlencoded body's parameters, or None if it is not one."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    form = await request.form(max_files=0, max_fields=64)
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


# --- token, revocation, introspection -----------------------------------------------------


async def _token_style(
    request: Request, call: Callable[[HubServer, HubRequest], Answer]
) -> Response:
    settings, db, keys = _hub(request)
    if _insecure(request, settings):
        return _error(InsecureTransportError())
    pairs = await _form_pairs(request)
    if pairs is None:
        return _error(
            InvalidRequestError("Send the parameters as application/x-www-form-urlencoded.")
        )
    names = [key for key, _ in pairs]
    if repeated := sorted({key for key in names if names.count(key) > 1}):
        # RFC 6749 §3.2: parameters must not be repeated.
        return _error(InvalidRequestError(f"Repeated parameter: {repeated[0]}."))
    snapshot = await keys.snapshot()
    async with db.transaction() as session:
        server = HubServer(session, settings, snapshot)
        oauth_request = HubRequest("POST", _authlib_uri(request), request.headers, pairs)
        answer = await anyio.to_thread.run_sync(call, server, oauth_request)
    return _response(answer)


async def token(request: Request) -> Response:
    return await _token_style(request, HubServer.token)


async def revoke(request: Request) -> Response:
    return await _token_style(request, HubServer.revoke)


async def introspect(request: Request) -> Response:
    return await _token_style(request, HubServer.introspect)


# --- discovery ----------------------------------------------------------------------------


def server_metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 metadata of the hub as an authorization server."""
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "jwks_uri": f"{base_url}/oauth/jwks.json",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "scopes_supported": [scope.name for scope in SCOPES],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["fr", "en"],
        "service_documentation": f"{base_url}/graphql",
    }


async def metadata(request: Request) -> Response:
    settings, _, _ = _hub(request)
    document = AuthorizationServerMetadata(server_metadata(settings.base_url))
    return JSONResponse(dict(document), headers={"Cache-Control": "public, max-age=3600"})


async def jwks(request: Request) -> Response:
    _, _, keys = _hub(request)
    # Short cache: after a rotation, verifiers see the new key within minutes.
    return JSONResponse(await keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


# --- the authorization endpoint: sign-in and consent pages --------------------------------

NOT_YOU = Text("Ce lien de connexion n'est pas valide.", "This sign-in link is not valid.")
EXPIRED_FORM = Text(
    "Le formulaire a expiré. Rechargez la page et réessayez.",
    "The form expired. Reload the page and try again.",
)
HTTPS_ONLY = Text("Cette page n'est servie qu'en HTTPS.", "This page is served over HTTPS only.")
BAD_SIGN_IN = Text("Adresse e-mail ou mot de passe incorrect.", "Wrong email or password.")
THROTTLED = Text(
    "Trop de tentatives. Réessayez dans quelques minutes.",
    "Too many attempts. Try again in a few minutes.",
)


@dataclass(slots=True)
class Page:
    """What one authorization request renders, with the cookies it sets."""

    request: Request
    settings: Settings
    csrf: str
    nonce: str
    redirect_uri: str | None = None

    def render(self, name: str, status: int = 200, **context: Any) -> Response:
        response = templates.TemplateResponse(
            self.request,
            name,
            {"nonce": self.nonce, "csrf_token": self.csrf, **context},
            status_code=status,
        )
        self.secure(response)
        return response

    def error(self, message: Text, status: int = 400, detail: str | None = None) -> Response:
        title = Text("Connexion impossible", "Cannot sign in")
        return self.render("error.html", status, title=title, message=message, detail=detail)

    def secure(self, response: Response) -> None:
        form_targets = "'self'"
        if self.redirect_uri:
            # Browsers apply form-action to the redirect that follows a form, too.
            form_targets += " " + _csp_source(self.redirect_uri)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{self.nonce}'; form-action {form_targets}; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            CSRF_COOKIE,
            self.csrf,
            path="/oauth",
            httponly=True,
            secure=self.request.url.scheme == "https",
            samesite="strict",
        )


def _csp_source(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in {"http", "https"}:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


async def _signed_in_account(
    request: Request, settings: Settings, keys: KeyRing
) -> tuple[uuid.UUID, int] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        claims = await keys.verify(cookie, typ=SESSION_TOKEN_TYPE)
        return session_account(claims, issuer=settings.base_url, now=int(time.time()))
    except (InvalidToken, BadClaims):
        return None


def _csrf_ok(request: Request, settings: Settings, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not service.constant_time_equal(cookie, submitted):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    ours = {f"{request.url.scheme}://{request.url.netloc}", settings.base_url}
    return origin in ours


async def authorize(request: Request) -> Response:
    """GET: the sign-in or consent page (or straight back if already allowed).
    POST: sign in, allow, deny or switch account. OAuth parameters always come from the
    query string, which the pages' forms post back to."""
    settings, db, keys = _hub(request)
    page = Page(
        request,
        settings,
        csrf=request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(12),
    )
    if _insecure(request, settings):
        return page.error(HTTPS_ONLY)
    form: dict[str, str] = {}
    if request.method == "POST":
        pairs = await _form_pairs(request)
        form = dict(pairs or [])
        if pairs is None or not _csrf_ok(request, settings, form.get("csrf_token")):
            return page.error(EXPIRED_FORM, 403)
    snapshot = await keys.snapshot()
    session_info = await _signed_in_account(request, settings, keys)
    async with db.transaction() as session:
        flow = _Flow(page, session, settings, snapshot, request)
        return await flow.run(form, session_info)


class _Flow:
    """One authorization request, from validation to the page or redirect it ends in."""

    def __init__(
        self,
        page: Page,
        session: AsyncSession,
        settings: Settings,
        keys: KeySnapshot,
        request: Request,
    ) -> None:
        self.page = page
        self.session = session
        self.settings = settings
        self.keys = keys
        self.request = request
        self.server = HubServer(session, settings, keys)
        self.oauth_request = HubRequest(
            request.method,
            _authlib_uri(request),
            request.headers,
            list(request.query_params.multi_items()),
        )
        self.action = str(URL(path="/oauth/authorize", query=request.url.query))

    async def run(
        self, form: dict[str, str], session_info: tuple[uuid.UUID, int] | None
    ) -> Response:
        user = None
        if session_info is not None:
            user = await service.signed_in(
                self.session, session_info[0], auth_time=_utc(session_info[1])
            )
        try:
            grant = await anyio.to_thread.run_sync(self._validate, user)
        except OAuth2Error as error:
            return self._refuse(error)
        client: Client = grant.client
        self.page.redirect_uri = grant.redirect_uri
        scope: str = grant.request.scope
        action = form.get("action")
        prompt = set(self.oauth_request.payload.data.get("prompt", "").split())

        if action == "switch":
            response = self._login(client)
            response.delete_cookie(SESSION_COOKIE, path="/oauth")
            return response
        if action == "login":
            return await self._sign_in(form, client, grant, scope)
        if user is None or "login" in prompt:
            return self._login(client)
        if action == "deny":
            return await self._decide(grant, None)
        if action == "allow":
            await service.record_consent(self.session, user.account_id, client.client_id, scope)
            return await self._decide(grant, user)
        if "consent" not in prompt and await service.consented(
            self.session, user.account_id, client.client_id, scope
        ):
            return await self._decide(grant, user)
        return await self._consent(client, scope, user)

    def _validate(self, user: service.SignedIn | None) -> Any:
        return self.server.get_consent_grant(self.oauth_request, end_user=user)

    def _refuse(self, error: OAuth2Error) -> Response:
        if error.redirect_uri:
            # The redirect URI was checked against the client: send the error back there.
            answer = self.server.handle_error_response(self.oauth_request, error)
            HubIssuer(self.settings.base_url).add_issuer_parameter(self.server, answer)
            return _response(answer)
        detail = f"{error.error}: {error.get_error_description()}"
        return self.page.error(NOT_YOU, 400, detail=detail)

    async def _decide(self, grant: Any, user: service.SignedIn | None) -> Response:
        def respond() -> Answer:
            answer: Answer = self.server.create_authorization_response(
                self.oauth_request, grant_user=user, grant=grant
            )
            return answer

        answer = await anyio.to_thread.run_sync(respond)
        response = _response(answer)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _login(
        self, client: Client, *, message: Text | None = None, email: str = "", status: int = 200
    ) -> Response:
        title = Text("Se connecter", "Sign in")
        return self.page.render(
            "login.html",
            status,
            title=title,
            client=client.info,
            message=message,
            email=email,
            action=self.action,
        )

    async def _consent(self, client: Client, scope: str, user: service.SignedIn) -> Response:
        account = await service.describe_account(self.session, user.account_id)
        assert account is not None
        wanted = scope_set(scope)
        return self.page.render(
            "consent.html",
            title=Text("Autoriser l'accès", "Allow access"),
            client=client.info,
            scopes=[info for info in SCOPES if info.name in wanted],
            email=account.account.email,
            action=self.action,
        )

    async def _sign_in(
        self, form: dict[str, str], client: Client, grant: Any, scope: str
    ) -> Response:
        email, password = form.get("email", "").strip(), form.get("password", "")
        ip = self.request.client.host if self.request.client else None
        try:
            if not email or not password:
                await service.record_failed_sign_in(self.session, email, ip=ip)
                raise service.SignInRefused
            account = await service.sign_in(self.session, email, password, ip=ip)
        except service.SignInThrottled:
            return self._login(client, message=THROTTLED, email=email, status=429)
        except service.SignInRefused:
            return self._login(client, message=BAD_SIGN_IN, email=email, status=401)
        user = await service.signed_in(self.session, account.id)
        assert user is not None
        if "consent" not in set(
            self.oauth_request.payload.data.get("prompt", "").split()
        ) and await service.consented(self.session, account.id, client.client_id, scope):
            response = await self._decide(grant, user)
        else:
            response = await self._consent(client, scope, user)
        self._remember(response, account.id)
        return response

    def _remember(self, response: Response, account_id: uuid.UUID) -> None:
        claims = session_claims(
            issuer=self.settings.base_url, account_id=account_id, now=int(time.time())
        )
        response.set_cookie(
            SESSION_COOKIE,
            self.keys.sign(claims, typ=SESSION_TOKEN_TYPE),
            max_age=int(SESSION_TTL.total_seconds()),
            path="/oauth",
            httponly=True,
            secure=self.request.url.scheme == "https",
            samesite="lax",
        )


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


routes: Sequence[Route] = (
    Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/oauth/introspect", introspect, methods=["POST"]),
    Route("/oauth/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
)
