"""Pass figures for networkStats: passes sold and redeemed, funded programmes, and what
each space is owed and owes in the settlement. Reads only (the passes domain writes)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Viewer
from federation.errors import Forbidden, NotFound
from federation.kit.clock import PARIS, utcnow
from federation.passes.models import CheckIn, Pass, Programme, ProgrammeSite
from federation.stats.service import StatsRequest, stats_spaces


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS)


@dataclass(frozen=True, slots=True)
class TierRevenue:
    tier: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class PassFigures:
    sold: int
    credits_redeemed: int
    credits_expired: int
    revenue_by_tier: list[TierRevenue]


async def pass_figures(session: AsyncSession, request: StatsRequest) -> PassFigures:
    """Passes sold by the selection in the range (all passes, funded ones included, for the
    whole network), credits redeemed at its spaces, credits left on passes that expired."""
    start, end = _instant(request.first), _instant(request.last + timedelta(days=1))
    sold_here = [Pass.created_at >= start, Pass.created_at < end]
    if request.selection is not None:
        sold_here.append(Pass.sold_by_site_id.in_(request.selection))
    tiers = (
        await session.execute(
            select(Pass.tier, func.count(), func.sum(Pass.price_cents))
            .where(*sold_here)
            .group_by(Pass.tier)
            .order_by(Pass.tier)
        )
    ).all()
    redeemed_where = [CheckIn.ok, CheckIn.day >= request.first, CheckIn.day <= request.last]
    if request.selection is not None:
        redeemed_where.append(CheckIn.site_id.in_(request.selection))
    redeemed = await session.scalar(select(func.sum(CheckIn.debited)).where(*redeemed_where))
    expired_where = [
        Pass.valid_until >= start,
        Pass.valid_until < min(end, utcnow()),
        Pass.revoked_at.is_(None),
    ]
    if request.selection is not None:
        expired_where.append(Pass.sold_by_site_id.in_(request.selection))
    expired = await session.scalar(select(func.sum(Pass.remaining)).where(*expired_where))
    return PassFigures(
        sold=sum(int(count) for _, count, _ in tiers),
        credits_redeemed=int(redeemed or 0),
        credits_expired=int(expired or 0),
        revenue_by_tier=[TierRevenue(tier, int(amount or 0)) for tier, _, amount in tiers],
    )


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    programme_id: int
    name: str
    funders: list[str]
    beneficiaries: int
    uses: int
    cost_cents: int
    remaining_budget_cents: int


async def programme_figures(
    session: AsyncSession, viewer: Viewer, first: date, last: date
) -> list[ProgrammeFigures]:
    """Funded programmes over [first, last]: coordinators see all, a manager those their
    spaces take part in."""
    allowed = stats_spaces(viewer)
    query = select(Programme).order_by(Programme.name, Programme.id)
    if allowed is not None:
        query = query.where(
            Programme.id.in_(
                select(ProgrammeSite.programme_id).where(ProgrammeSite.site_id.in_(allowed))
            )
        )
    programmes = (await session.scalars(query)).all()
    ids = [p.id for p in programmes]
    holders: dict[int | None, int] = {
        programme_id: int(count)
        for programme_id, count in await session.execute(
            select(Pass.programme_id, func.count(func.distinct(Pass.holder_id)))
            .where(Pass.programme_id.in_(ids))
            .group_by(Pass.programme_id)
        )
    }
    used = {
        programme_id: (int(uses), int(cost or 0))
        for programme_id, uses, cost in await session.execute(
            select(
                Pass.programme_id,
                func.count(CheckIn.id),
                func.sum(CheckIn.host_cents + CheckIn.share_cents),
            )
            .join(Pass, Pass.id == CheckIn.pass_id)
            .where(
                Pass.programme_id.in_(ids),
                CheckIn.ok,
                CheckIn.day >= first,
                CheckIn.day <= last,
            )
            .group_by(Pass.programme_id)
        )
    }
    return [
        ProgrammeFigures(
            programme_id=p.id,
            name=p.name,
            funders=list(p.funders),
            beneficiaries=int(holders.get(p.id, 0)),
            uses=used.get(p.id, (0, 0))[0],
            cost_cents=used.get(p.id, (0, 0))[1],
            remaining_budget_cents=p.budget_cents - p.spent_cents,
        )
        for p in programmes
    ]


@dataclass(frozen=True, slots=True)
class SpaceSettlement:
    site_id: int
    owed_cents: int  # what the space earns as a host from others' passes
    owing_cents: int  # what it pays hosts and the network for the passes it sold


async def settlement_figures(session: AsyncSession, request: StatsRequest) -> list[SpaceSettlement]:
    """Per space shown (all spaces with any settlement for a coordinator)."""
    in_range = [CheckIn.ok, CheckIn.day >= request.first, CheckIn.day <= request.last]
    payer_is_host = (Pass.sold_by_site_id == CheckIn.site_id) & Pass.programme_id.is_(None)
    owed: dict[int, int] = {
        site_id: int(cents or 0)
        for site_id, cents in await session.execute(
            select(CheckIn.site_id, func.sum(CheckIn.host_cents))
            .join(Pass, Pass.id == CheckIn.pass_id)
            .where(*in_range, ~payer_is_host)
            .group_by(CheckIn.site_id)
        )
    }
    owing_rows = await session.execute(
        select(
            Pass.sold_by_site_id,
            func.sum(CheckIn.share_cents),
            func.sum(CheckIn.host_cents),
            CheckIn.site_id == Pass.sold_by_site_id,
        )
        .join(Pass, Pass.id == CheckIn.pass_id)
        .where(*in_range, Pass.programme_id.is_(None))
        .group_by(Pass.sold_by_site_id, CheckIn.site_id == Pass.sold_by_site_id)
    )
    owing: dict[int, int] = {}
    for seller, share, host, at_home in owing_rows:
        if seller is None:
            continue
        owing[seller] = owing.get(seller, 0) + int(share or 0) + (0 if at_home else int(host or 0))
    ids = set(owed) | set(owing)
    if request.shown is not None:
        ids &= set(request.shown)
    return [
        SpaceSettlement(site_id, int(owed.get(site_id) or 0), owing.get(site_id, 0))
        for site_id in sorted(ids)
    ]


async def programme_csv(session: AsyncSession, viewer: Viewer, programme_id: int) -> str:
    """A programme's uses and cost month by month, for its funders' reports."""
    allowed = stats_spaces(viewer)
    programme = await session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("no such programme")
    if allowed is not None:
        taking_part = await session.scalar(
            select(func.count()).where(
                ProgrammeSite.programme_id == programme_id, ProgrammeSite.site_id.in_(allowed)
            )
        )
        if not taking_part:
            raise Forbidden("only coordinators and the programme's spaces read its figures")
    rows = await session.execute(
        select(CheckIn.day, Pass.holder_id, CheckIn.host_cents + CheckIn.share_cents)
        .join(Pass, Pass.id == CheckIn.pass_id)
        .where(Pass.programme_id == programme_id, or_(CheckIn.ok, CheckIn.over_use))
    )
    # A programme has tens of beneficiaries: its visits add up here, month by month.
    months: dict[str, tuple[int, set[object], int]] = {}
    for day, holder, cents in rows:
        uses, people, cost = months.get(f"{day:%Y-%m}", (0, set(), 0))
        people.add(holder)
        months[f"{day:%Y-%m}"] = (uses + 1, people, cost + int(cents or 0))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["programme", "month", "uses", "beneficiaries", "cost_cents"])
    for label, (uses, people, cost) in sorted(months.items()):
        writer.writerow([programme.slug, label, uses, len(people), cost])
    return "\ufeff" + out.getvalue()
