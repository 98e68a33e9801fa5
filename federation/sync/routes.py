"""`POST /sync/v1/batches`: a space's client pushes one batch; JSON in, JSON out.

401 without a valid token, 403 for a token without `sync:write` or bound to another space,
413 beyond the limits, 400 naming the path of a malformed batch, 503 when the database
drops in the middle (nothing of the batch is kept: it was one transaction).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation.access import viewer_of
from federation.db import Database
from federation.directory.service import get_site
from federation.errors import BadUserInput, FederationError, Forbidden
from federation.sync import contract, service

log = logging.getLogger("federation.sync")

SCOPE = "sync:write"


class TooLarge(FederationError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > contract.MAX_BYTES:
        raise TooLarge(f"a batch is at most {contract.MAX_BYTES} bytes; send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > contract.MAX_BYTES:
            raise TooLarge(f"a batch is at most {contract.MAX_BYTES} bytes; send smaller batches")
    return bytes(body)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadUserInput(f"the body is not JSON: {error}", path="(batch)") from None
    records = payload.get("records") if isinstance(payload, dict) else None
    if isinstance(records, list) and len(records) > contract.MAX_RECORDS:
        raise TooLarge(
            f"a batch carries at most {contract.MAX_RECORDS} records (got {len(records)}); "
            "send smaller batches"
        )
    return service.check_batch(payload)


async def post_batch(request: Request) -> Response:
    viewer = await viewer_of(request)
    viewer.require_scope(SCOPE)
    if viewer.client_site_id is None:
        raise Forbidden("only a space's own client (client credentials) can sync", scope=SCOPE)
    batch = _parse(await _body(request))
    db: Database = request.app.state.db
    async with db.reading() as session:
        site = await get_site(session, batch["site"])
    if site is None or site.id != viewer.client_site_id:
        raise Forbidden(f"this client cannot write the data of the space {batch['site']!r}")
    context = service.BatchContext(
        site=site, client_id=viewer.client_id, keys=request.app.state.keys
    )
    try:
        async with db.transaction() as session:
            answer = await service.apply_batch(session, context, batch)
    except IntegrityError:
        # Most likely the same batch id applied concurrently: its answer is the answer.
        async with db.reading() as session:
            replayed = await service.replayed_answer(session, site.id, batch["batchId"])
        if replayed is None:
            log.exception(
                "sync batch %s of %s refused by the database", batch["batchId"], site.slug
            )
            raise BadUserInput(
                "the database refused this batch; nothing of it was applied", path="(batch)"
            ) from None
        answer = replayed
    except (OperationalError, DBAPIError) as error:
        log.warning("sync batch %s of %s interrupted: %s", batch["batchId"], site.slug, error)
        return JSONResponse(
            {
                "error": "UNAVAILABLE",
                "message": "the database was interrupted; nothing of this batch was applied, "
                "send it again",
            },
            503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse(answer)


ROUTES = [Route("/sync/v1/batches", post_batch, methods=["POST"])]
