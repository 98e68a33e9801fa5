"""Batched directory reads for GraphQL: one statement for every key a request asks for."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.directory.models import Amenity, PersonSkill, Plan, Site, SiteAmenity


async def sites_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Site | None]:
    found = {site.id: site for site in await session.scalars(select(Site).where(Site.id.in_(ids)))}
    return [found.get(site_id) for site_id in ids]


async def sites_by_slug(session: AsyncSession, slugs: Sequence[str]) -> list[Site | None]:
    rows = await session.scalars(select(Site).where(Site.slug.in_(slugs)))
    found = {site.slug: site for site in rows}
    return [found.get(slug) for slug in slugs]


async def plans_by_site(session: AsyncSession, site_ids: Sequence[int]) -> list[list[Plan]]:
    grouped: dict[int, list[Plan]] = defaultdict(list)
    query = select(Plan).where(Plan.site_id.in_(site_ids)).order_by(Plan.site_id, Plan.position)
    for plan in await session.scalars(query):
        grouped[plan.site_id].append(plan)
    return [grouped[site_id] for site_id in site_ids]


async def amenities_by_site(session: AsyncSession, site_ids: Sequence[int]) -> list[list[Amenity]]:
    grouped: dict[int, list[Amenity]] = defaultdict(list)
    query = (
        select(SiteAmenity.site_id, SiteAmenity.amenity)
        .where(SiteAmenity.site_id.in_(site_ids))
        .order_by(SiteAmenity.site_id, SiteAmenity.amenity)
    )
    for site_id, amenity in await session.execute(query):
        grouped[site_id].append(amenity)
    return [grouped[site_id] for site_id in site_ids]


async def skills_by_person(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[str]]:
    grouped: dict[uuid.UUID, list[str]] = defaultdict(list)
    query = (
        select(PersonSkill.person_id, PersonSkill.skill)
        .where(PersonSkill.person_id.in_(ids))
        .order_by(PersonSkill.person_id, PersonSkill.position)
    )
    for person_id, skill in await session.execute(query):
        grouped[person_id].append(skill)
    return [grouped[person_id] for person_id in ids]
