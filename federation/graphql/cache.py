"""Public reads answered from memory: anonymous queries, versioned by the data they read.

An answer is kept (bounded LRU, per process) under its query text, operation name and
variables, with the versions of the tables it read (`data_versions`, bumped by database
triggers in every writing transaction, whatever wrote). A request for it again costs one
small SELECT of those versions: equal versions mean no write has committed since, so the
kept bytes are the answer. The versions are read before the query runs, so an answer can
only be labelled older than its data (a needless miss later), never newer.

Only what cannot differ between callers is kept: no Authorization header, no cookie, an
anonymous viewer, a `query` operation whose root fields are all listed in PUBLIC_FIELDS,
and an answer without errors. Answers that depend on "now" (the calendar's default dates)
are bounded by the TTL.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from federation.access import ANONYMOUS, Viewer
from federation.graphql.models import DataVersion

DIRECTORY = ("sites", "site_amenities", "site_plans", "people", "person_skills")
CALENDAR = (*DIRECTORY, "events", "event_occurrences", "event_overrides", "event_registrations")

# Root query fields whose anonymous answer depends only on these tables (nested types
# included: a space's amenities and plans, an event's space) and on nothing per caller.
PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "__typename": (),
    "sites": DIRECTORY,
    "site": DIRECTORY,
    "members": DIRECTORY,
    "events": CALENDAR,
    "event": CALENDAR,
}

HEADER = "x-cache"
MAX_BODY_BYTES = 256 * 1024
MAX_QUERY_BYTES = 16 * 1024

Versions = dict[str, int]
Reading = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    media_type: str
    versions: tuple[int, ...]
    expires: float


async def read_versions(session: AsyncSession) -> Versions:
    """Every public table's data version (a missing row reads as 0)."""
    rows = await session.execute(select(DataVersion.name, DataVersion.version))
    return {name: version for name, version in rows}  # noqa: C416 - rows, not pairs


class ResponseCache:
    """Anonymous query answers, at most `size` of them, each for at most `ttl` seconds."""

    def __init__(
        self, *, size: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str | None, str], Entry] = OrderedDict()
        # What a query text reads (None: not cacheable), so it is parsed once, not per request.
        self._plans: OrderedDict[tuple[str, str | None], tuple[str, ...] | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def respond(
        self,
        request: Request,
        viewer: Viewer,
        reading: Reading,
        run: Callable[[], Awaitable[Response]],
    ) -> Response:
        """The answer to `request`: from memory when it may and can, else `run()`'s."""
        found = await self._cacheable(request, viewer)
        if found is None:
            return _marked(await run(), "bypass")
        key, tables = found
        async with reading() as session:
            current = await read_versions(session)
        versions = tuple(current.get(table, 0) for table in tables)
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None:
            if entry.versions == versions and entry.expires > now:
                self._entries.move_to_end(key)
                return Response(entry.body, media_type=entry.media_type, headers={HEADER: "hit"})
            del self._entries[key]
        response = await run()
        self._keep(key, response, versions, now)
        return _marked(response, "miss")

    def _keep(
        self,
        key: tuple[str, str | None, str],
        response: Response,
        versions: tuple[int, ...],
        now: float,
    ) -> None:
        if response.status_code != 200 or isinstance(response, StreamingResponse):
            return
        body = bytes(response.body)
        if len(body) > MAX_BODY_BYTES:
            return
        try:
            answer = json.loads(body)
        except ValueError:
            return
        if not isinstance(answer, dict) or answer.get("errors") or "data" not in answer:
            return
        media_type = response.headers.get("content-type", "application/json")
        self._entries[key] = Entry(body, media_type, versions, now + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def _cacheable(
        self, request: Request, viewer: Viewer
    ) -> tuple[tuple[str, str | None, str], tuple[str, ...]] | None:
        if (
            viewer != ANONYMOUS
            or request.method != "POST"
            or "authorization" in request.headers
            or "cookie" in request.headers
            or request.headers.get("content-type", "").split(";")[0].strip() != "application/json"
        ):
            return None
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.keys() - {
            "query",
            "variables",
            "operationName",
        }:
            return None
        query, variables, operation = (
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
        )
        if (
            not isinstance(query, str)
            or len(query) > MAX_QUERY_BYTES
            or not isinstance(variables, dict | None)
            or not isinstance(operation, str | None)
        ):
            return None
        tables = self._tables_read(query, operation)
        if tables is None:
            return None
        canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        return (query, operation, canonical), tables

    def _tables_read(self, query: str, operation: str | None) -> tuple[str, ...] | None:
        plan_key = (query, operation)
        if plan_key in self._plans:
            self._plans.move_to_end(plan_key)
            return self._plans[plan_key]
        tables = public_tables_of(query, operation)
        self._plans[plan_key] = tables
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return tables


def public_tables_of(query: str, operation: str | None) -> tuple[str, ...] | None:
    """The tables a query operation reads if every root field is public; None otherwise
    (a mutation or subscription, a private field, a fragment at the root, a syntax error)."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    tables: set[str] = set()
    for selection in operations[0].selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in PUBLIC_FIELDS:
            return None
        tables.update(PUBLIC_FIELDS[selection.name.value])
    return tuple(sorted(tables))


def _marked(response: Response, state: str) -> Response:
    response.headers[HEADER] = state
    return response
