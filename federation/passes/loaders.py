"""Batched pass reads for GraphQL: one statement (or a fixed few) for all the keys asked."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.directory.models import Site
from federation.passes.models import (
    CheckIn,
    PriceTier,
    Product,
    Programme,
    ProgrammeSite,
    SiteProductLimit,
)


async def products_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Product | None]:
    found = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}
    return [found.get(i) for i in ids]


async def programmes_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Programme | None]:
    rows = await session.scalars(select(Programme).where(Programme.id.in_(ids)))
    found = {p.id: p for p in rows}
    return [found.get(i) for i in ids]


async def tiers_by_product(session: AsyncSession, ids: Sequence[int]) -> list[list[PriceTier]]:
    grouped: dict[int, list[PriceTier]] = defaultdict(list)
    query = (
        select(PriceTier)
        .where(PriceTier.product_id.in_(ids))
        .order_by(PriceTier.product_id, PriceTier.position)
    )
    for tier in await session.scalars(query):
        grouped[tier.product_id].append(tier)
    return [grouped[i] for i in ids]


async def programme_sites(session: AsyncSession, ids: Sequence[int]) -> list[list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    query = select(ProgrammeSite.programme_id, ProgrammeSite.site_id).where(
        ProgrammeSite.programme_id.in_(ids)
    )
    for programme_id, site_id in await session.execute(query):
        grouped[programme_id].append(site_id)
    return [sorted(grouped[i]) for i in ids]


async def accepting_sites_by_product(session: AsyncSession, ids: Sequence[int]) -> list[list[Site]]:
    """Where each product works: its selling space, and every space that accepts network
    passes and does not limit them to other products (for a funded product, only the
    programme's participating spaces)."""
    products = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}
    sites = (await session.scalars(select(Site).order_by(Site.name, Site.id))).all()
    limits: dict[int, set[int]] = defaultdict(set)
    for site_id, product_id in await session.execute(
        select(SiteProductLimit.site_id, SiteProductLimit.product_id)
    ):
        limits[site_id].add(product_id)
    programme_ids = {p.programme_id for p in products.values() if p.programme_id is not None}
    participating: dict[int, set[int]] = defaultdict(set)
    if programme_ids:
        for programme_id, site_id in await session.execute(
            select(ProgrammeSite.programme_id, ProgrammeSite.site_id).where(
                ProgrammeSite.programme_id.in_(programme_ids)
            )
        ):
            participating[programme_id].add(site_id)
    answer: list[list[Site]] = []
    for product_id in ids:
        product = products.get(product_id)
        if product is None:
            answer.append([])
            continue
        answer.append(
            [
                site
                for site in sites
                if site.id == product.issuer_site_id
                or (
                    site.accepts_network_passes
                    and (site.id not in limits or product.id in limits[site.id])
                    and (
                        product.programme_id is None
                        or site.id in participating[product.programme_id]
                    )
                )
            ]
        )
    return answer


async def check_ins_by_pass(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[CheckIn]]:
    grouped: dict[uuid.UUID, list[CheckIn]] = defaultdict(list)
    query = (
        select(CheckIn)
        .where(CheckIn.pass_id.in_(ids), CheckIn.ok)
        .order_by(CheckIn.pass_id, CheckIn.at, CheckIn.id)
    )
    for row in await session.scalars(query):
        if row.pass_id is not None:
            grouped[row.pass_id].append(row)
    return [grouped[i] for i in ids]
