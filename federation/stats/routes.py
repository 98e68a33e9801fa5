"""`/stats/export.csv`: the statistics for spreadsheets, with the same token, roles and
faults as `networkStats` (401/403/400 as JSON)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.access import viewer_of
from federation.db import Database
from federation.directory.loaders import sites_by_id
from federation.errors import BadUserInput
from federation.stats import passes as pass_figures
from federation.stats import service, spreadsheet
from federation.usage.periods import Period


def _date(request: Request, name: str) -> date:
    value = request.query_params.get(name)
    if not value:
        raise BadUserInput(f"`{name}` is required (YYYY-MM-DD)", argument=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(
            f"`{name}` must be a date, YYYY-MM-DD (got {value!r})", argument=name
        ) from None


def _grouping(request: Request) -> Period:
    value = request.query_params.get("groupBy", "MONTH").upper()
    try:
        return Period(value)
    except ValueError:
        choices = ", ".join(p.value for p in Period)
        raise BadUserInput(f"`groupBy` is one of {choices}", argument="groupBy") from None


def _sites(request: Request) -> list[str] | None:
    given = request.query_params.getlist("sites")
    if not given:
        return None
    return [slug.strip() for value in given for slug in value.split(",") if slug.strip()]


def _decimal_comma(request: Request) -> bool:
    value = request.query_params.get("decimal", "point")
    if value not in ("point", "comma"):
        raise BadUserInput("`decimal` is `point` or `comma`", argument="decimal")
    return value == "comma"


async def export_csv(request: Request) -> Response:
    viewer = await viewer_of(request)
    service.stats_spaces(viewer)  # 401/403 before looking at the arguments
    first, last = _date(request, "from"), _date(request, "to")
    grouping, sites, comma = _grouping(request), _sites(request), _decimal_comma(request)
    db: Database = request.app.state.db
    await service.catch_up(db, viewer)
    async with db.reading() as session:
        stats_request = await service.prepare(
            session, viewer, first=first, last=last, sites=sites, grouping=grouping
        )
        figures = await service.network_stats(session, stats_request)
        ids = sorted(
            {s.site_id for s in figures.by_site}
            | {i for v in figures.visits for i in (v.home_site_id, v.host_site_id)}
        )
        names = {
            row.id: (row.slug, row.name)
            for row in await sites_by_id(session, ids)
            if row is not None
        }
    body = spreadsheet.write(figures, names, decimal_comma=comma)
    filename = f"stats-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def programme_csv(request: Request) -> Response:
    """`/stats/programmes/{id}.csv`: a programme's beneficiaries, uses and cost per month."""
    viewer = await viewer_of(request)
    service.stats_spaces(viewer)
    try:
        programme_id = int(request.path_params["id"])
    except ValueError:
        raise BadUserInput("a programme id is a number", argument="id") from None
    db: Database = request.app.state.db
    async with db.reading() as session:
        body = await pass_figures.programme_csv(session, viewer, programme_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="programme-{programme_id}.csv"'},
    )


ROUTES = [
    Route("/stats/export.csv", export_csv, methods=["GET"]),
    Route("/stats/programmes/{id}.csv", programme_csv, methods=["GET"]),
]
