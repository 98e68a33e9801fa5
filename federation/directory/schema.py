"""Directory queries: thin resolvers, arguments -> one service call -> types."""

from __future__ import annotations

import strawberry

from federation.directory import service
from federation.directory.models import Amenity
from federation.directory.types import NearInput, Person, Site
from federation.graphql.context import Info
from federation.graphql.relay import Connection, page_request


@strawberry.type
class Query:
    @strawberry.field(description="Spaces of the network, by name or nearest first with `near`.")
    async def sites(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        search: str | None = None,
        city: str | None = None,
        region: str | None = None,
        amenity: Amenity | None = None,
        near: NearInput | None = None,
    ) -> Connection[Site]:
        page = page_request(info, first, after)
        point = service.Near(near.lat, near.lon, near.radius_km) if near is not None else None
        async with info.context.reading() as session:
            found = await service.list_sites(
                session,
                page=page,
                search=search,
                city=city,
                region=region,
                amenity=amenity,
                near=point,
            )
        return Connection.of(found, Site.from_model, after=after)

    @strawberry.field(description="One space by its slug; null if there is none.")
    async def site(self, info: Info, slug: str) -> Site | None:
        async with info.context.reading() as session:
            row = await service.get_site(session, slug)
        return Site.from_model(row) if row is not None else None

    @strawberry.field(description="People who chose to be listed and whom you may see.")
    async def members(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        search: str | None = None,
        skill: str | None = None,
        site: str | None = None,
    ) -> Connection[Person]:
        page = page_request(info, first, after)
        async with info.context.reading() as session:
            found = await service.list_members(
                session, info.context.viewer, page=page, search=search, skill=skill, site=site
            )
        return Connection.of(found, Person.from_model, after=after)
