"""`/settlement/{month}.csv`: a month's settlement for spreadsheets, with the same token,
roles and faults as the `settlement` query (401/403/400 as JSON)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.access import viewer_of
from federation.db import Database
from federation.passes import service, settlement


async def settlement_csv(request: Request) -> Response:
    viewer = await viewer_of(request)
    service.settlement_scope(viewer)  # 401/403 before looking at the month
    month = str(request.path_params["month"])
    db: Database = request.app.state.db
    async with db.reading() as session:
        statement = await service.monthly_statement(session, viewer, month)
    return Response(
        settlement.to_csv(month, statement),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="settlement-{month}.csv"'},
    )


ROUTES = [Route("/settlement/{month}.csv", settlement_csv, methods=["GET"])]
