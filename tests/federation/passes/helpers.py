"""Helpers for the pass tests: products, programmes, passes and viewers, written through
the services like real data is."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from federation.access import Role, Viewer
from federation.db import Database
from federation.directory.models import Site
from federation.keys.service import KeyRing
from federation.passes import service
from federation.passes.models import CheckInKind, CreditUnit, Pass, Product, ProductKind, Programme
from federation.passes.service import ProductData, ProgrammeData, TierLine

_numbers = iter(range(1, 1_000_000))

TIERS = (TierLine("solidaire", 12000), TierLine("standard", 15000), TierLine("soutien", 18000))


def manager_of(*sites: Site) -> Viewer:
    return Viewer(
        person_id=uuid.uuid4(),
        roles=frozenset({Role.MANAGER}),
        managed_site_ids=frozenset(s.id for s in sites),
    )


def coordinator() -> Viewer:
    return Viewer(person_id=uuid.uuid4(), roles=frozenset({Role.COORDINATOR}))


def kiosk_of(site: Site) -> Viewer:
    return Viewer(
        client_id=f"kiosk-{site.slug}",
        client_site_id=site.id,
        scopes=frozenset({"checkin:write"}),
    )


async def make_product(
    db: Database,
    issuer: Site | None,
    *,
    kind: ProductKind = ProductKind.CARNET,
    credits: int = 10,
    unit: CreditUnit = CreditUnit.DAY,
    validity_days: int = 365,
    tiers: Sequence[TierLine] = TIERS,
    programme: Programme | None = None,
    share_bp: int = 500,
    visit_value_cents: int | None = None,
    name: str | None = None,
) -> Product:
    async with db.transaction() as session:
        return await service.create_product(
            session,
            ProductData(
                name=name or f"Carnet {next(_numbers)}",
                kind=kind,
                credits=credits,
                unit=unit,
                validity_days=validity_days,
                tiers=tiers,
                issuer_site_id=issuer.id if issuer is not None else None,
                programme_id=programme.id if programme is not None else None,
                network_share_bp=share_bp,
                visit_value_cents=visit_value_cents,
            ),
        )


async def make_programme(
    db: Database,
    sites: Sequence[Site],
    *,
    budget_cents: int = 100_000,
    places: int | None = 30,
    coverage_percent: int = 100,
    starts_on: date = date(2020, 1, 1),
    ends_on: date = date(2099, 12, 31),
) -> Programme:
    number = next(_numbers)
    async with db.transaction() as session:
        return await service.create_programme(
            session,
            ProgrammeData(
                slug=f"programme-{number}",
                name=f"Programme {number}",
                funders=["MEL", "DIRECCTE"],
                coverage_percent=coverage_percent,
                budget_cents=budget_cents,
                places=places,
                eligibility="Demandeurs d'emploi créant leur activité",
                starts_on=starts_on,
                ends_on=ends_on,
                site_ids=[s.id for s in sites],
            ),
        )


async def make_pass(
    db: Database,
    product: Product,
    holder_id: uuid.UUID,
    *,
    seller: Viewer | None = None,
    tier: str = "standard",
    now: datetime | None = None,
) -> Pass:
    if seller is None:
        seller = (
            coordinator()
            if product.kind is ProductKind.FUNDED
            else Viewer(
                person_id=uuid.uuid4(),
                roles=frozenset({Role.MANAGER}),
                managed_site_ids=frozenset({product.issuer_site_id or 0}),
            )
        )
    async with db.transaction() as session:
        return await service.issue_pass(
            session, seller, product_id=product.id, holder_id=holder_id, tier=tier, now=now
        )


async def check_in(
    db: Database,
    keys: KeyRing,
    site: Site,
    *,
    pass_id: uuid.UUID | None = None,
    token: str | None = None,
    kind: CheckInKind = CheckInKind.DAY,
    key: str | None = None,
    now: datetime | None = None,
) -> service.CheckInOutcome:
    request = service.CheckInRequest(
        site_id=site.id,
        kind=kind,
        idempotency_key=key or uuid.uuid4().hex,
        pass_token=token,
        pass_id=pass_id,
    )
    async with db.transaction() as session:
        return await service.check_in(session, keys, request, now=now)
