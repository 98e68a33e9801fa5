"""The hub's OAuth 2.0 authorization server: Authlib's core classes, adapted.

Authlib is synchronous. routes.py awaits the form body, opens the request's one
transaction, then runs Authlib in a worker thread (anyio.to_thread). Authlib's callbacks
reach the database by handing the async service functions back to the event loop
(anyio.from_thread.run) on that same session: one transaction per OAuth request, no
second engine, and the session is only ever used from the loop, one call at a time.
Signing and verifying use a KeySnapshot, so no callback needs the key table.

Authlib's defaults are overridden where they are unsafe for us (RFC 9700):
- access tokens live 15 minutes (not 10 days); refresh tokens rotate on every use and a
  reused one revokes its family;
- PKCE with S256 is required of every client, public or confidential;
- a scope the client may not have is `invalid_scope`, never a token with less scope;
- codes live 60 seconds and are consumed by an atomic DELETE;
- redirect URIs match exactly and must be given;
- only the authorization code, refresh token and client credentials grants exist.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, TypeVar

import anyio.from_thread
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from sqlalchemy.ext.asyncio import AsyncSession

from federation.auth import service
from federation.auth.models import GrantKind
from federation.auth.tokens import (
    ACCESS_TOKEN_TTL,
    ACCESS_TOKEN_TYPE,
    SCOPE_NAMES,
    BadClaims,
    access_token_claims,
    check_access_claims,
    scope_set,
    scope_string,
)
from federation.keys.service import InvalidToken, KeySnapshot
from federation.settings import Settings

log = logging.getLogger("federation.auth.oauth")

T = TypeVar("T")

CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post"]
ACCESS_HINT, REFRESH_HINT = "access_token", "refresh_token"
ALL_METHODS = [*CONFIDENTIAL_METHODS, "none"]


# --- requests and answers -----------------------------------------------------------------


class Payload(OAuth2Payload):  # type: ignore[misc]
    """Parameters from one place only: the query for /authorize, the form body elsewhere."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class HubRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        pairs: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = Payload(pairs)

    @property
    def form(self) -> dict[str, str]:
        data: dict[str, str] = self.payload.data
        return data

    @property
    def args(self) -> dict[str, str]:
        data: dict[str, str] = self.payload.data
        return data


@dataclass(slots=True)
class Answer:
    """What Authlib answers, before routes.py makes a Starlette response of it."""

    status: int
    body: Any
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))


# --- what Authlib manipulates -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Client(ClientMixin):  # type: ignore[misc]
    info: service.ClientInfo

    @property
    def client_id(self) -> str:
        return self.info.client_id

    @property
    def is_public(self) -> bool:
        return self.info.secret_hash is None

    def get_client_id(self) -> str:
        return self.info.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # the redirect URI must always be named, and match exactly

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope to grant: all of the client's when none is asked, else exactly what is
        asked if the client may have it all; None (invalid_scope) otherwise."""
        allowed = scope_set(self.info.scope)
        if not scope or not scope.strip():
            return self.info.scope
        asked = scope_set(scope)
        if not asked <= allowed:
            return None
        return scope_string(asked)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.info.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.info.secret_hash is None:
            return False
        return service.constant_time_equal(service.digest(client_secret), self.info.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in CONFIDENTIAL_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.info.grant_kind is GrantKind.AUTHORIZATION_CODE

    def check_grant_type(self, grant_type: str) -> bool:
        if self.info.grant_kind is GrantKind.AUTHORIZATION_CODE:
            return grant_type in {"authorization_code", "refresh_token"}
        return grant_type == "client_credentials"


@dataclass(frozen=True, slots=True)
class CodeRecord:
    grant: service.CodeGrant

    def get_redirect_uri(self) -> str:
        return self.grant.redirect_uri

    def get_scope(self) -> str:
        return self.grant.scope

    @property
    def code_challenge(self) -> str:
        return self.grant.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.grant.code_challenge_method


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    grant: service.RefreshGrant

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.grant.scope


@dataclass(slots=True)
class TokenRecord:
    """An access or refresh token as revocation and introspection see it."""

    kind: str  # "access_token" | "refresh_token"
    client_id: str
    client_site_id: int | None
    scope: str
    sub: str
    iat: int
    exp: int
    revoked: bool
    jti: str | None = None
    family_id: uuid.UUID | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.exp <= int(time.time())

    def is_revoked(self) -> bool:
        return self.revoked


# --- grants -------------------------------------------------------------------------------


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (Authlib's default accepts `plain` and lets a
    confidential client skip PKCE)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Callable[[str, str], bool]]] = {
        "S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]
    }

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    server: HubServer

    def save_authorization_code(self, code: str, request: HubRequest) -> None:
        user: service.SignedIn = request.user
        self.server.call(
            service.save_code,
            code,
            service.CodeGrant(
                code_hash=service.digest(code),
                client_id=request.client.client_id,
                account_id=user.account_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data["code_challenge_method"],
                auth_time=user.auth_time,
            ),
        )

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        grant = self.server.call(service.take_code, code, client.client_id)
        if grant is None:
            return None
        self.server.code_hash = grant.code_hash
        return CodeRecord(grant)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Already gone: query_authorization_code consumed it atomically."""

    def authenticate_user(self, authorization_code: CodeRecord) -> service.SignedIn | None:
        grant = authorization_code.grant
        self.server.family_id = uuid.uuid4()
        return self.server.call(service.signed_in, grant.account_id, auth_time=grant.auth_time)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use returns a new refresh token
    server: HubServer

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        client: Client = self.request.client
        asked = self.request.payload.scope
        if asked:
            # Authlib checks the scope after this method; refuse before the token is spent.
            state = self.server.call(service.refresh_token_state, refresh_token)
            if (
                state is not None
                and state.client_id == client.client_id
                and not scope_set(asked) <= scope_set(state.scope)
            ):
                raise InvalidScopeError()
        grant = self.server.call(service.use_refresh_token, refresh_token, client.client_id)
        if grant is None:
            return None
        self.server.family_id = grant.family_id
        return RefreshRecord(grant)

    def authenticate_user(self, refresh_token: RefreshRecord) -> service.SignedIn | None:
        # Roles and spaces are read again: a change reaches tokens at the next refresh.
        return self.server.call(service.signed_in, refresh_token.grant.account_id)

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        """Already marked used by authenticate_refresh_token, atomically."""


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS


# --- revocation and introspection ---------------------------------------------------------


class _TokenLookup:
    server: HubServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        access_hint = token_type_hint == ACCESS_HINT
        if token_type_hint != REFRESH_HINT and token_string.count(".") == 2:
            found = self.server.access_token_record(token_string)
            if found is not None or access_hint:
                return found
        return self.server.refresh_token_record(token_string)


class Revocation(_TokenLookup, RevocationEndpoint):  # type: ignore[misc]
    # Public clients may revoke their own tokens (RFC 7009 §2.1).
    CLIENT_AUTH_METHODS = ALL_METHODS

    def revoke_token(self, token: TokenRecord, request: HubRequest) -> None:
        if token.kind == "refresh_token":
            # RFC 7009 §2.1: revoking a refresh token revokes its grant's access tokens too.
            assert token.family_id is not None
            self.server.call(service.revoke_family, token.family_id)
        else:
            assert token.jti is not None
            self.server.call(
                service.revoke_access_token, token.jti, datetime.fromtimestamp(token.exp, UTC)
            )


class Introspection(_TokenLookup, IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def check_permission(self, token: TokenRecord, client: Client, request: HubRequest) -> bool:
        """A client introspects its own tokens, or those of any client of its space (a
        space's resource server checking tokens its apps received)."""
        if token.client_id == client.client_id:
            return True
        site = client.info.site_id
        return site is not None and token.client_site_id == site

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        payload: dict[str, Any] = {
            **token.claims,
            "active": True,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "client_id": token.client_id,
            "scope": token.scope,
            "sub": token.sub,
            "iat": token.iat,
            "exp": token.exp,
            "iss": self.server.settings.base_url,
        }
        return payload


def client_secret_basic(
    query_client: Callable[[str], Client | None], request: HubRequest
) -> Client | None:
    """HTTP Basic client authentication that a client_id with a colon does not break.

    RFC 6749 §2.3.1 has clients form-encode the id and secret first, so "a:b" travels as
    "a%3Ab" (Authlib decodes that). Many clients, Authlib's own among them, send it raw;
    "a:b:secret" then splits at the first colon. The hub's secrets never contain a colon,
    so the last colon is the true separator: that reading is tried when the first fails.
    """
    client_id, secret = extract_basic_authorization(request.headers)
    candidates = [(client_id, secret)]
    raw = _basic_credentials(request.headers.get("Authorization", ""))
    if raw is not None and raw.count(":") > 1:
        head, _, tail = raw.rpartition(":")
        candidates.append((head, tail))
    for candidate_id, candidate_secret in candidates:
        if not candidate_id or not candidate_secret:
            continue
        client = query_client(candidate_id)
        if client is not None and client.check_client_secret(candidate_secret):
            return client
    return None  # Authlib then answers invalid_client (401)


def _basic_credentials(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class HubIssuer(IssuerParameter):  # type: ignore[misc]
    """RFC 9207: the `iss` parameter in authorization responses (mix-up defence)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


# --- the server ---------------------------------------------------------------------------


class HubServer(AuthorizationServer):  # type: ignore[misc]
    """One per OAuth request: it carries that request's session and keys."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        keys: KeySnapshot,
        *,
        run: Callable[..., Any] = anyio.from_thread.run,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPE_NAMES))
        self.session = session
        self.settings = settings
        self.keys = keys
        self._run = run
        # Set while a token request runs, read when its tokens are issued and saved.
        self.family_id: uuid.UUID | None = None
        self.code_hash: str | None = None
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=self._access_token,
                refresh_token_generator=self._refresh_token,
                expires_generator=lambda client, grant_type: int(ACCESS_TOKEN_TTL.total_seconds()),
            ),
        )
        self.register_client_auth_method("client_secret_basic", client_secret_basic)
        self.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        HubIssuer(settings.base_url)(self)

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run an async service function on the event loop, with this request's session."""
        result: T = self._run(partial(fn, self.session, *args, **kwargs))
        return result

    # Authlib's hooks -------------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        info = self.call(service.find_client, client_id)
        return Client(info) if info is not None else None

    def save_token(self, token: dict[str, Any], request: HubRequest) -> None:
        refresh = token.get("refresh_token")
        if refresh is None:
            return  # client credentials: the signed access token is the whole record
        user: service.SignedIn = request.user
        assert self.family_id is not None
        if request.payload.grant_type == "authorization_code":
            self.call(
                service.start_family,
                family_id=self.family_id,
                client_id=request.client.client_id,
                account_id=user.account_id,
                scope=token["scope"],
                code_hash=self.code_hash,
            )
        self.call(service.add_refresh_token, self.family_id, refresh, token["scope"])

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        log.debug("authlib signal %s", name)

    def create_oauth2_request(self, request: HubRequest) -> HubRequest:
        return request

    def create_json_request(self, request: Any) -> Any:
        # Authlib asks every server for this hook; only JSON-bodied endpoints (device flow,
        # dynamic registration) call it, and the hub serves none, so no route reaches here.
        raise NotImplementedError("the hub has no JSON OAuth endpoint")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Answer:
        return Answer(status, body, list(headers))

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Answer:
        if isinstance(error, InvalidClientError):
            # RFC 6749 §5.2 as we apply it: a client that failed to authenticate gets 401.
            error.status_code = 401
        answer: Answer = super().handle_error_response(request, error)
        return answer

    def validate_requested_scope(self, scope: str | None) -> None:
        # An explicitly empty scope means "the client's default", like an absent one.
        if scope and scope_to_list(scope):
            super().validate_requested_scope(scope)

    # Tokens ----------------------------------------------------------------------------

    def _access_token(
        self, client: Client, grant_type: str, user: service.SignedIn | None, scope: str
    ) -> str:
        claims = access_token_claims(
            issuer=self.settings.base_url,
            client_id=client.client_id,
            scope=scope,
            now=int(time.time()),
            subject=user.subject if user is not None else None,
            # Only a client acting as itself acts for its space, never a person through it.
            client_site_id=client.info.site_id if user is None else None,
        )
        if user is not None and self.family_id is not None:
            claims["sid"] = str(self.family_id)
        return self.keys.sign(claims, typ=ACCESS_TOKEN_TYPE)

    def _refresh_token(
        self, client: Client, grant_type: str, user: service.SignedIn | None, scope: str
    ) -> str:
        import secrets

        return secrets.token_urlsafe(32)

    def access_token_record(self, token: str) -> TokenRecord | None:
        try:
            claims = self.keys.verify(token, typ=ACCESS_TOKEN_TYPE)
            # Expiry is introspection's to report (active: false), not a reason to not know it.
            check_access_claims(
                claims, issuer=self.settings.base_url, now=int(claims.get("iat", 0))
            )
        except (InvalidToken, BadClaims):
            return None
        family = claims.get("sid")
        try:
            family_id = uuid.UUID(family) if family else None
        except ValueError:
            return None
        revoked = self.call(
            service.access_token_revoked,
            jti=claims["jti"],
            client_id=claims["client_id"],
            family_id=family_id,
        )
        return TokenRecord(
            kind="access_token",
            client_id=claims["client_id"],
            client_site_id=self.call(service.client_site_id, claims["client_id"]),
            scope=claims.get("scope", ""),
            sub=claims["sub"],
            iat=claims["iat"],
            exp=claims["exp"],
            revoked=revoked,
            jti=claims["jti"],
            family_id=family_id,
            claims=claims,
        )

    def refresh_token_record(self, token: str) -> TokenRecord | None:
        state = self.call(service.refresh_token_state, token)
        if state is None:
            return None
        return TokenRecord(
            kind="refresh_token",
            client_id=state.client_id,
            client_site_id=self.call(service.client_site_id, state.client_id),
            scope=state.scope,
            sub=str(state.person_id),
            iat=int(state.issued_at.timestamp()),
            exp=int(state.expires_at.timestamp()),
            revoked=not state.active,
            family_id=state.family_id,
        )

    # The endpoints, as routes.py calls them (in a worker thread) ----------------------

    def token(self, request: HubRequest) -> Answer:
        answer: Answer = self.create_token_response(request)
        return answer

    def revoke(self, request: HubRequest) -> Answer:
        answer: Answer = self.create_endpoint_response(Revocation.ENDPOINT_NAME, request)
        return answer

    def introspect(self, request: HubRequest) -> Answer:
        answer: Answer = self.create_endpoint_response(Introspection.ENDPOINT_NAME, request)
        return answer
