"""The per-request GraphQL context: who is asking, one read session, and batched loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from federation.access import Viewer
from federation.db import Database
from federation.keys.service import KeyRing
from federation.settings import Settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# A domain's batched read: one SQL statement for many keys, answers in key order.
BatchLoad = Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]]


@dataclass(eq=False)
class Context:
    request: Request
    db: Database
    settings: Settings
    viewer: Viewer
    keys: KeyRing
    _session: AsyncSession | None = field(default=None, init=False)
    # Resolvers run concurrently; an AsyncSession must not. Reads take turns on one
    # session, which also keeps the statement count of a request predictable.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = field(
        default_factory=dict, init=False
    )

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = self.db.read_session()
            yield self._session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A mutation's write transaction, after handing back the read connection.

        A request that read first (a permission check, a loader) would otherwise hold one
        pooled connection while waiting for a second: under load every request does that
        and the pool runs dry, so all of them wait until they time out.
        """
        await self.close()
        async with self.db.transaction() as session:
            yield session

    def loader(self, load: BatchLoad[K, V]) -> DataLoader[K, V]:
        """The request's DataLoader for a domain's batch function (created on first use)."""
        found = self._loaders.get(load)
        if found is None:

            async def batch(keys: list[K]) -> Sequence[V]:
                async with self.reading() as session:
                    return await load(session, keys)

            found = self._loaders[load] = DataLoader(load_fn=batch)
        return cast("DataLoader[K, V]", found)

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None


Info = StrawberryInfo[Context, None]
