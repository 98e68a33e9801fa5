"""Demo passes: Casaco's two real carnets (150 € HT for 10 days or 15 half-days), network
memberships with visit days, the Lille programme that funded coworking for job seekers
(Initiatives et Cité; Métropole Européenne de Lille, DIRECCTE, région; 30 places, 6
months), solidarity tiers, and the check-ins behind seven months of visits.

The visits themselves are the demo usage's network visits (federation.demo.usage): each
becomes a check-in on a pass of the visitor, so statistics count every visit once and
the settlement shows real figures. Passes and check-ins are computed here and written in
bulk. Loaded once: if the programme exists, a later run changes nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.demo.directory import DEMO_NAMESPACE
from federation.demo.usage import _visits, window
from federation.kit.clock import PARIS, today_in_paris
from federation.passes import service, settlement
from federation.passes.models import (
    CheckIn,
    CheckInKind,
    CheckInSource,
    CreditUnit,
    Pass,
    ProductKind,
    Programme,
)
from federation.passes.service import ProductData, ProgrammeData, TierLine
from federation.usage.periods import add_months
from federation.usage.service import UseRecord

PROGRAMME_SLUG = "lille-coworking-emploi"
LILLE_SPACES = (
    "mutualab",
    "la-grappe",
    "wereso",
    "entreprise-ouverte",
    "besquare",
    "co-factory",
    "multiburo-lille",
    "les-3-teinturiers",
    "la-maison-du-coworking",
)


def _tiers(standard: int) -> tuple[TierLine, ...]:
    """Solidarity tiers around the standard price: −20 % and +20 %."""
    return (
        TierLine("solidaire", standard * 4 // 5),
        TierLine("standard", standard),
        TierLine("soutien", standard * 6 // 5),
    )


@dataclass(frozen=True, slots=True)
class DemoProduct:
    key: str
    issuer: str | None
    data: ProductData


def _products(site_ids: dict[str, int], programme_id: int) -> list[DemoProduct]:
    def carnet(
        key: str, issuer: str, name: str, credits: int, unit: CreditUnit, price: int
    ) -> DemoProduct:
        return DemoProduct(
            key,
            issuer,
            ProductData(
                name=name,
                kind=ProductKind.CARNET,
                credits=credits,
                unit=unit,
                validity_days=365,
                tiers=_tiers(price),
                issuer_site_id=site_ids[issuer],
            ),
        )

    def membership(key: str, issuer: str, name: str, price: int, visits: int) -> DemoProduct:
        return DemoProduct(
            key,
            issuer,
            ProductData(
                name=name,
                kind=ProductKind.MEMBERSHIP,
                credits=visits,
                unit=CreditUnit.DAY,
                validity_days=31,
                tiers=_tiers(price),
                issuer_site_id=site_ids[issuer],
                visit_value_cents=1500,
            ),
        )

    return [
        carnet("casaco-10", "casaco", "Casaco — carnet 10 jours", 10, CreditUnit.DAY, 15000),
        carnet(
            "casaco-15",
            "casaco",
            "Casaco — carnet 15 demi-journées",
            15,
            CreditUnit.HALF_DAY,
            15000,
        ),
        membership("casaco-resident", "casaco", "Casaco — résident, visa réseau", 25000, 2),
        membership(
            "fontaine-member", "la-fontaine", "La Fontaine — abonnement, visa réseau", 12000, 3
        ),
        carnet("mutualab-10", "mutualab", "Mutualab — nomade 10 jours", 10, CreditUnit.DAY, 10000),
        carnet(
            "la-grappe-10", "la-grappe", "La Grappe — carnet 10 jours", 10, CreditUnit.DAY, 9000
        ),
        carnet("besquare-10", "besquare", "Besquare — carnet 10 jours", 10, CreditUnit.DAY, 12000),
        carnet(
            "les-3-teinturiers-10",
            "les-3-teinturiers",
            "Les 3 Teinturiers — carnet 10 jours",
            10,
            CreditUnit.DAY,
            9000,
        ),
        carnet(
            "tls93-10",
            "tiers-lieu-solidaire-93",
            "Tiers-lieu solidaire 93 — carnet réseau 10 jours",
            10,
            CreditUnit.DAY,
            8000,
        ),
        DemoProduct(
            "lille-funded",
            None,
            ProductData(
                name="Coworking et emploi — métropole lilloise (6 mois)",
                kind=ProductKind.FUNDED,
                credits=60,
                unit=CreditUnit.DAY,
                validity_days=183,
                tiers=(TierLine("financé", 60000),),
                programme_id=programme_id,
                network_share_bp=300,  # the programme negotiated a smaller share
            ),
        ),
    ]


# Which product a visitor from each home buys. People of the Lille spaces are the
# programme's beneficiaries while it runs and places last; before, they buy a carnet.
CARRIED = {
    "casaco": ("casaco-10", "casaco-15"),
    "la-fontaine": ("fontaine-member",),
    "tiers-lieu-solidaire-93": ("tls93-10",),
    "mutualab": ("mutualab-10",),
    "la-grappe": ("la-grappe-10",),
    "besquare": ("besquare-10",),
    "les-3-teinturiers": ("les-3-teinturiers-10",),
}
PLACES = 30


@dataclass(slots=True)
class _Held:
    row: dict[str, Any]
    product: DemoProduct
    product_id: int
    counters: dict[tuple[int, date], int] = field(default_factory=dict)


def _pass_row(
    product: DemoProduct, product_id: int, person: uuid.UUID, n: int, day: date, tier: str
) -> dict[str, Any]:
    price = next(t.price_cents for t in product.data.tiers if t.name == tier)
    valid_from = datetime.combine(day, time(8), PARIS)
    return {
        "id": uuid.uuid5(DEMO_NAMESPACE, f"pass-{person}-{n}"),
        "product_id": product_id,
        "holder_id": person,
        "tier": tier,
        "price_cents": price,
        "credits": product.data.credits,
        "remaining": product.data.credits,
        "sold_by_site_id": product.data.issuer_site_id,
        "programme_id": product.data.programme_id,
        "network_share_bp": product.data.network_share_bp,
        "valid_from": valid_from,
        "valid_until": valid_from + timedelta(days=product.data.validity_days),
        "revoked_at": None,
        "version": 1,
        "issued_by": None,
        "created_at": valid_from,
    }


def _plan(
    visits: Sequence[UseRecord],
    products: dict[str, tuple[DemoProduct, int]],
    home_of: dict[int, str],
    programme: tuple[date, date],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Passes bought as needed, and one check-in for each visit, in time order."""
    funded_places = PLACES
    programme_end = datetime.combine(programme[1] + timedelta(days=1), time(0), PARIS)
    held: dict[uuid.UUID, _Held] = {}
    bought: dict[uuid.UUID, int] = {}
    passes: list[dict[str, Any]] = []
    check_ins: list[dict[str, Any]] = []
    for visit in sorted(visits, key=lambda v: (v.day, v.external_id or "")):
        assert visit.home_site_id is not None
        assert visit.external_id is not None
        person = uuid.UUID(visit.subject.removeprefix("person:"))
        kind = CheckInKind.DAY if visit.units == 2 else CheckInKind.HALF_DAY
        at = datetime.combine(visit.day, time(9, 30), PARIS)
        current = held.get(person)
        rng = random.Random(f"demo-pass:{person}:{visit.day.isoformat()}")
        if current is not None:
            data = current.product.data
            cost = service.cost_of(data.unit, kind)
            used_up = data.kind is not ProductKind.MEMBERSHIP and current.row["remaining"] < cost
            if used_up or at >= current.row["valid_until"]:
                current = None
        if current is None:
            home = home_of[visit.home_site_id]
            key = rng.choice(CARRIED[home])
            running = programme[0] <= visit.day <= programme[1]
            if home in LILLE_SPACES and running and funded_places > 0:
                key, funded_places = "lille-funded", funded_places - 1
            product, product_id = products[key]
            tiers = [t.name for t in product.data.tiers]
            tier = rng.choices(tiers, [2, 6, 1])[0] if len(tiers) == 3 else tiers[0]
            n = bought[person] = bought.get(person, 0) + 1
            row = _pass_row(product, product_id, person, n, visit.day - timedelta(days=1), tier)
            if key == "lille-funded":
                row["valid_until"] = min(row["valid_until"], programme_end)
            passes.append(row)
            current = held[person] = _Held(row, product, product_id)
        data = current.product.data
        cost = service.cost_of(data.unit, kind)
        row = current.row
        if data.kind is ProductKind.MEMBERSHIP:
            month = (visit.site_id, visit.day.replace(day=1))
            if current.counters.get(month, 0) + cost > data.credits:
                continue  # beyond the quota: the visit was paid at the desk, no pass used
            current.counters[month] = current.counters.get(month, 0) + cost
            worth = (data.visit_value_cents or 0) * cost
        else:
            used = row["credits"] - row["remaining"]
            worth = settlement.credit_worth(
                row["price_cents"], row["credits"], used=used, units=cost
            )
            row["remaining"] -= cost
        amounts = settlement.split(worth, row["network_share_bp"])
        check_ins.append(
            {
                "site_id": visit.site_id,
                "pass_id": row["id"],
                "idempotency_key": f"demo:{visit.external_id}",
                "source": CheckInSource.ONLINE,
                "kind": kind,
                "at": at,
                "day": visit.day,
                "ok": True,
                "code": None,
                "message": "Welcome!",
                "units": cost,
                "debited": 0 if data.kind is ProductKind.MEMBERSHIP else cost,
                "remaining_after": row["remaining"],
                "over_use": False,
                "host_cents": amounts.host_cents,
                "share_cents": amounts.share_cents,
                "created_at": at,
            }
        )
    return passes, check_ins


async def load(session: AsyncSession, site_ids: dict[str, int]) -> None:
    """The pass catalogue, the Lille programme, and the passes behind the demo visits."""
    if await session.scalar(select(Programme.id).where(Programme.slug == PROGRAMME_SLUG)):
        return
    first, last = window(today_in_paris())
    # Six months, from the second month of the demo window (so it is running today).
    starts_on = add_months(first, 1)
    ends_on = add_months(starts_on, 6) - timedelta(days=1)
    programme = await service.create_programme(
        session,
        ProgrammeData(
            slug=PROGRAMME_SLUG,
            name="Le coworking, espace d'inclusion des demandeurs d'emploi (métropole lilloise)",
            funders=(
                "Initiatives et Cité",
                "Métropole Européenne de Lille",
                "DIRECCTE",
                "Région Hauts-de-France",
            ),
            coverage_percent=100,
            budget_cents=30 * 60000,
            places=PLACES,
            eligibility=(
                "30 demandeurs d'emploi ou jeunes : un projet de création d'activité ou "
                "d'affirmation de compétences, une activité tertiaire demandant peu d'espace."
            ),
            starts_on=starts_on,
            ends_on=ends_on,
            site_ids=[site_ids[slug] for slug in LILLE_SPACES],
        ),
    )
    products: dict[str, tuple[DemoProduct, int]] = {}
    for demo in _products(site_ids, programme.id):
        row = await service.create_product(session, demo.data)
        products[demo.key] = (demo, row.id)
    # La Fontaine takes only Casaco's carnets from other spaces (and its own passes).
    await service.limit_site_to_products(
        session, site_ids["la-fontaine"], [products["casaco-10"][1], products["casaco-15"][1]]
    )
    home_of = {site_id: slug for slug, site_id in site_ids.items()}
    visits = _visits(site_ids, first, last)
    passes, check_ins = _plan(visits, products, home_of, (starts_on, ends_on))
    if passes:
        await session.execute(insert(Pass), passes)
    for start in range(0, len(check_ins), 2000):
        await session.execute(insert(CheckIn), check_ins[start : start + 2000])
    funded = [p for p in passes if p["programme_id"] == programme.id]
    programme.issued = len(funded)
    programme.spent_cents = sum(p["price_cents"] for p in funded)
    await session.flush()
