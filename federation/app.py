"""create_app(settings) -> the hub as a Starlette application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from cross_web import HTTPException as GraphQLHTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.access import Viewer
from federation.auth.bearer import BearerAuthenticator, challenge_of
from federation.auth.routes import routes as auth_routes
from federation.calendar import routes as calendar_routes
from federation.db import Database
from federation.errors import FederationError, Unauthenticated
from federation.graphql.cache import ResponseCache
from federation.graphql.context import Context
from federation.graphql.view import HubGraphQL
from federation.keys.service import KeyRing
from federation.passes import routes as passes_routes
from federation.schema import build_schema
from federation.settings import ConfigError, Settings
from federation.stats import routes as stats_routes
from federation.sync import routes as sync_routes
from federation.usage.service import keep_rollups_current

log = logging.getLogger("federation")

Authenticate = Callable[[Request], Awaitable[Viewer]]

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "BAD_USER_INPUT",
    429: "TOO_MANY_REQUESTS",
}


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    authenticate: Authenticate | None = None,
) -> Starlette:
    """The hub. `authenticate` turns a request into a Viewer: by default the bearer token
    (verified with the public keys alone), or anonymous without one. Tests pass their own
    to choose the viewer in-process."""
    settings = settings or Settings.from_env()
    db = database or Database(settings.database_url, echo=settings.sql_echo)
    view = HubGraphQL(build_schema(settings), graphql_ide="graphiql" if settings.graphiql else None)
    keys = KeyRing(db)
    who = authenticate or BearerAuthenticator(keys, settings.base_url)
    cache = (
        ResponseCache(size=settings.response_cache_size, ttl=settings.response_cache_ttl)
        if settings.response_cache
        else None
    )

    async def graphql(request: Request) -> Response:
        try:
            viewer = await who(request)
        except Unauthenticated as error:
            # A bad token is the whole request's problem, not one field's: 401, GraphQL-shaped.
            body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
            return JSONResponse(body, 401, headers={"WWW-Authenticate": challenge_of(error)})
        context = Context(request=request, db=db, settings=settings, viewer=viewer, keys=keys)
        try:
            if cache is None:
                return await view.run(request, context=context)
            return await cache.respond(
                request, viewer, context.reading, lambda: view.run(request, context=context)
            )
        except GraphQLHTTPException as error:
            return _json_error(error.status_code, error.reason)
        finally:
            await context.close()

    async def healthz(_: Request) -> Response:
        try:
            await db.check()
        except ConfigError as error:
            log.warning("health check failed: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Uses wait in a queue for the statistics' rollups (usage.service): apply it steadily.
        rollups = asyncio.create_task(keep_rollups_current(db))
        yield
        rollups.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rollups
        await db.dispose()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        # Each domain's plain HTTP endpoints (feeds, sync, OAuth) are added here.
        *auth_routes,
        *stats_routes.ROUTES,
        *sync_routes.ROUTES,
        *passes_routes.ROUTES,
        *calendar_routes.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: _http_error,
            FederationError: _federation_error,
            Exception: _unexpected_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.authenticate = who
    app.state.keys = keys
    app.state.response_cache = cache
    app.add_middleware(SecurityHeaders)
    return app


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": _HTTP_CODES.get(status, "ERROR"), "message": message}, status)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = _json_error(exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _federation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, FederationError)
    response = JSONResponse(exc.as_json(), exc.http_status)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = challenge_of(exc)  # RFC 6750 §3
    return response


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"error": "INTERNAL_SERVER_ERROR", "message": "Internal server error."}, 500
    )


class SecurityHeaders:
    """Headers every response carries; pages that render HTML add their own CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
