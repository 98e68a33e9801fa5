"""Sync queries: thin resolvers, arguments -> one service call -> types."""

from __future__ import annotations

from typing import Any

import strawberry

from federation.directory.loaders import sites_by_slug
from federation.errors import NotFound
from federation.graphql.context import Info
from federation.graphql.permissions import ManagesSite, allow
from federation.graphql.relay import Connection, page_request
from federation.sync import service
from federation.sync.types import SyncRun


async def _site_of_slug(source: Any, info: Info, args: dict[str, Any]) -> int | None:
    site = await info.context.loader(sites_by_slug).load(args["site"])
    return site.id if site is not None else None


@strawberry.type
class Query:
    @strawberry.field(
        description="The batches a space's adapter sent, newest first: when, which client, "
        "what they changed and what the hub refused. For the space's managers and the "
        "network's coordinators.",
        extensions=[allow(ManagesSite(_site_of_slug))],
    )
    async def sync_runs(
        self, info: Info, site: str, first: int | None = 20, after: str | None = None
    ) -> Connection[SyncRun]:
        page = page_request(info, first, after)
        found = await info.context.loader(sites_by_slug).load(site)
        if found is None:
            raise NotFound(f"no space {site!r}", argument="site")
        async with info.context.reading() as session:
            runs = await service.list_runs(session, found.id, page)
        return Connection.of(runs, SyncRun.from_model, after=after)
