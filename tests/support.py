"""Test helpers: the hub in-process behind an HTTP client, and SQL statement counting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.requests import Request

from federation.access import ANONYMOUS, Viewer
from federation.app import create_app
from federation.db import Database
from federation.settings import Settings

# The viewer of the request being made. Set in-process by the test, never by a header.
_viewer: ContextVar[Viewer] = ContextVar("test_viewer", default=ANONYMOUS)


def settings_for(db: Database, **overrides: Any) -> Settings:
    return replace(Settings(database_url=db.url, allow_insecure_http=True), **overrides)


@dataclass
class Hub:
    app: Starlette
    db: Database
    http: httpx.AsyncClient

    @classmethod
    @asynccontextmanager
    async def running(cls, db: Database, **settings: Any) -> AsyncIterator[Hub]:
        async def authenticate(_: Request) -> Viewer:
            return _viewer.get()

        app = create_app(settings_for(db, **settings), database=db, authenticate=authenticate)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            yield cls(app=app, db=db, http=http)

    async def post_graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, viewer: Viewer = ANONYMOUS
    ) -> httpx.Response:
        token = _viewer.set(viewer)
        try:
            return await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}
            )
        finally:
            _viewer.reset(token)

    async def get(
        self, path: str, *, params: dict[str, str] | None = None, viewer: Viewer = ANONYMOUS
    ) -> httpx.Response:
        """A plain HTTP GET as `viewer` (CSV exports, feeds)."""
        token = _viewer.set(viewer)
        try:
            return await self.http.get(path, params=params)
        finally:
            _viewer.reset(token)

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, viewer: Viewer = ANONYMOUS
    ) -> dict[str, Any]:
        """The whole GraphQL answer (data and errors)."""
        response = await self.post_graphql(query, variables, viewer=viewer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, viewer: Viewer = ANONYMOUS
    ) -> dict[str, Any]:
        """The data of an answer that must have no errors."""
        body = await self.graphql(query, variables, viewer=viewer)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error_codes(
        self, query: str, variables: dict[str, Any] | None = None, *, viewer: Viewer = ANONYMOUS
    ) -> list[str]:
        body = await self.graphql(query, variables, viewer=viewer)
        assert body.get("errors"), f"expected errors, got {body}"
        return [error["extensions"]["code"] for error in body["errors"]]


_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(db: Database) -> Iterator[StatementLog]:
    """Record the SQL statements a block runs (transaction control aside)."""
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_NOT_COUNTED):
            log.statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
