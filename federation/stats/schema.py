"""Statistics queries: thin resolvers, arguments -> one service call -> types."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from federation.graphql.context import Info
from federation.stats import service
from federation.stats.types import NetworkStats
from federation.usage.periods import Period


@strawberry.type
class Query:
    @strawberry.field(
        description="Network statistics over [from, to] (at most 5 years; DAY grouping at most "
        "one year), for the whole network or the spaces in `sites`. Needs the `stats:read` "
        "scope: a coordinator sees every space, a manager their own spaces and the network "
        "totals. Counts of 1-4 people are suppressed in per-space figures."
    )
    async def network_stats(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        sites: list[str] | None = None,
        group_by: Period = Period.MONTH,
    ) -> NetworkStats:
        await service.catch_up(info.context.db, info.context.viewer)
        async with info.context.reading() as session:
            request = await service.prepare(
                session, info.context.viewer, first=from_, last=to, sites=sites, grouping=group_by
            )
        return NetworkStats.of(info, request)
