"""Relay connections: edges with cursors, pageInfo, and a totalCount counted only if asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from federation.graphql.context import Info
from federation.kit.pagination import Page, PageRequest

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[AsyncSession], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self, info: Info) -> int:
        async with info.context.reading() as session:
            return await self._count(session)

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(
        cls, page: Page[RowT], node: Callable[[RowT], NodeT], *, after: str | None = None
    ) -> Connection[NodeT]:
        edges = [
            Edge(cursor=cursor, node=node(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                # Forward-only pagination: there is something before iff we were given `after`.
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else after,
            ),
            _count=page.count,
        )


def page_request(info: Info, first: int | None, after: str | None) -> PageRequest:
    """`first`/`after` checked against the hub's page-size limit (BAD_USER_INPUT otherwise)."""
    return PageRequest.of(first, after, limit=info.context.settings.max_page_size)
