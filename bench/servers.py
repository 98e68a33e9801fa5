"""The ASGI apps the benchmark serves with uvicorn: the hub itself, and the floor.

`hub_app` is the hub's own `create_app`, unchanged, wrapped so that each response carries
`x-sql-statements`: how many SQL statements the request ran. SQLAlchemy's
`before_cursor_execute` event increments a counter held in a context variable the wrapper
sets per request (SQLAlchemy's greenlets share the caller's context), so the count is
per request even under concurrency. One integer increment per statement: cheap and exact.

`floor_app` is what the same rows cost without GraphQL and the ORM: a plain Starlette app,
hand-written SQL through the same async engine and driver, `JSONResponse`. Same counter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import os
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import bindparam, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.settings import normalise_database_url

_statements: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "bench_statements", default=None
)


def _count(*_: Any) -> None:
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1


def count_statements_of(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "before_cursor_execute", _count)


class StatementHeader:
    """Adds `x-sql-statements` (statements run before the response started)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = _statements.set(counter)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-sql-statements", str(counter[0]).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            _statements.reset(token)


def _profiled(app: ASGIApp) -> ASGIApp:
    """BENCH_PROFILE=<prefix>: cProfile this worker, written to <prefix>.<pid> when the
    server shuts down (uvicorn re-raises SIGTERM, so atexit would never run)."""
    prefix = os.environ.get("BENCH_PROFILE")
    if not prefix:
        return app
    import cProfile

    profile = cProfile.Profile()
    profile.enable()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                profile.disable()
                profile.dump_stats(f"{prefix}.{os.getpid()}")
            await send(message)

        await app(scope, receive, sending)

    return wrapped


def hub_app() -> ASGIApp:
    from federation.app import create_app

    app = create_app()
    count_statements_of(app.state.db.engine)
    return _profiled(StatementHeader(app))


# --- the floor ---------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


SITES_NEAR = text(
    """
    SELECT s.id, s.slug, s.name, s.city, s.lat, s.lon, s.desks
    FROM sites s
    WHERE s.lat BETWEEN :lat - :dlat AND :lat + :dlat
      AND s.lon BETWEEN :lon - :dlon AND :lon + :dlon
      AND EXISTS (SELECT 1 FROM site_amenities a WHERE a.site_id = s.id AND a.amenity = :amenity)
    """
)
AMENITIES_OF = text("SELECT site_id, amenity FROM site_amenities WHERE site_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
PEOPLE_BY_SKILL = text(
    """
    SELECT p.id, p.display_name, p.profession, s.slug, s.name
    FROM people p LEFT JOIN sites s ON s.id = p.home_site_id
    WHERE p.visibility = 'PUBLIC'
      AND EXISTS (SELECT 1 FROM person_skills k WHERE k.person_id = p.id AND k.skill_key = :skill)
    ORDER BY p.name_key, p.id LIMIT :first
    """
)
PEOPLE_COUNT = text(
    """
    SELECT count(*) FROM people p WHERE p.visibility = 'PUBLIC'
      AND EXISTS (SELECT 1 FROM person_skills k WHERE k.person_id = p.id AND k.skill_key = :skill)
    """
)
SKILLS_OF = text(
    "SELECT person_id, skill FROM person_skills WHERE person_id IN :ids ORDER BY position"
).bindparams(bindparam("ids", expanding=True))
# The rollup counters are striped (one row per kind and stripe): each side sums its own.
STATS_SERIES = text(
    """
    SELECT u.starts_on, u.uses, c.people
    FROM (SELECT starts_on, sum(uses) AS uses FROM usage_uses_by_period
          WHERE period = 'MONTH' AND site_id = :site AND starts_on BETWEEN :first AND :last
          GROUP BY starts_on) u
    LEFT JOIN (SELECT starts_on, sum(people) AS people FROM usage_active_counts
               WHERE period = 'MONTH' AND site_id = :site AND home_site_id = 0
                 AND starts_on BETWEEN :first AND :last
               GROUP BY starts_on) c ON c.starts_on = u.starts_on
    ORDER BY u.starts_on
    """
)
STATS_TOTAL = text(
    """
    SELECT (SELECT coalesce(sum(uses), 0) FROM usage_uses_by_period
             WHERE period = 'YEAR' AND site_id = :site AND starts_on = :first),
           (SELECT coalesce(sum(people), 0) FROM usage_active_counts
             WHERE period = 'YEAR' AND site_id = :site AND home_site_id = 0 AND starts_on = :first),
           (SELECT coalesce(sum(uses), 0) FROM usage_visits_by_period
             WHERE period = 'YEAR' AND site_id = :site AND home_site_id = 0 AND starts_on = :first)
    """
)
# What networkStats would cost without rollups: the naive aggregate over raw uses.
NAIVE_SERIES = text(
    """
    SELECT date_trunc('month', day)::date AS month, sum(units) AS uses,
           count(DISTINCT subject) AS people
    FROM uses WHERE day BETWEEN :first AND :last AND (:site = 0 OR site_id = :site)
    GROUP BY 1 ORDER BY 1
    """
)


EVENTS_MONTH = text(
    """
    SELECT o.event_id, o.recurrence_id, o.starts_at, o.ends_at, e.title, e.category,
           s.slug, s.name
    FROM event_occurrences o JOIN events e ON e.id = o.event_id
    LEFT JOIN sites s ON s.id = e.site_id
    WHERE o.starts_at >= :start AND o.starts_at < :end AND e.audience = 'PUBLIC'
    ORDER BY o.starts_at, o.event_id, o.recurrence_id LIMIT :first
    """
)
EVENTS_COUNT = text(
    """
    SELECT count(*) FROM event_occurrences o JOIN events e ON e.id = o.event_id
    WHERE o.starts_at >= :start AND o.starts_at < :end AND e.audience = 'PUBLIC'
    """
)


# The floor of a check-in (issue 4): the same rows as the hub's, in hand-written SQL, in one
# transaction: the key claimed, the conditional debit (the invariant), the answer recorded,
# the use, queued for the usage rollups by the usage domain's own `queue_uses` (as the hub
# does at commit), and the same applier as the hub's running in the background. What it
# leaves out: GraphQL, the ORM, the kiosk's permission (the hub's bearer check is cached per
# token) and the refusal rules other than credits.
CHECKIN_SITE = text("SELECT id FROM sites WHERE slug = :slug")
CHECKIN_CLAIM = text(
    """
    INSERT INTO pass_check_ins (site_id, idempotency_key, source, kind, at, day, ok, code,
        message, units, debited, over_use, host_cents, share_cents, created_at)
    VALUES (:site, :key, 'ONLINE', :kind, :now, :day, false, 'PENDING', '', 0, 0, false, 0, 0,
        :now)
    ON CONFLICT (site_id, idempotency_key) DO NOTHING
    RETURNING id
    """
)
CHECKIN_REPLAY = text(
    "SELECT ok, code, remaining_after FROM pass_check_ins"
    " WHERE site_id = :site AND idempotency_key = :key"
)
CHECKIN_DEBIT = text(
    """
    UPDATE passes SET remaining = remaining - :units
    WHERE id = :pass AND remaining >= :units AND revoked_at IS NULL
      AND valid_from <= :now AND valid_until > :now
    RETURNING remaining, holder_id,
        (SELECT home_site_id FROM people WHERE people.id = passes.holder_id) AS home_site_id
    """
)
CHECKIN_ANSWER = text(
    """
    UPDATE pass_check_ins SET pass_id = :pass, ok = :ok, code = :code, message = :message,
        units = :units, debited = :debited, remaining_after = :remaining
    WHERE id = :id
    """
)
CHECKIN_USE = text(
    """
    INSERT INTO uses (site_id, day, kind, units, subject, home_site_id, source, created_at)
    VALUES (:site, :day, 'OPEN_SPACE', :units, :subject, :home, 'CHECK_IN', :now)
    """
)


def floor_app() -> ASGIApp:
    from datetime import date

    url = normalise_database_url(os.environ["DATABASE_URL"])
    engine = create_async_engine(url, pool_size=10)
    count_statements_of(engine)
    postgres = not url.startswith("sqlite")

    async def sites(request: Request) -> Response:
        q = request.query_params
        lat, lon, radius = float(q["lat"]), float(q["lon"]), float(q["radius"])
        dlat = math.degrees(radius / EARTH_RADIUS_KM)
        dlon = min(180.0, dlat / max(math.cos(math.radians(lat)), 1e-6))
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    SITES_NEAR,
                    {
                        "lat": lat,
                        "lon": lon,
                        "dlat": dlat,
                        "dlon": dlon,
                        "amenity": q["amenity"],
                    },
                )
            ).all()
            ranked = sorted((distance_km(lat, lon, row.lat, row.lon), row.id, row) for row in rows)
            near = [row for km, _, row in ranked if km <= radius]
            page = near[: int(q.get("first", 20))]
            amenities: dict[int, list[str]] = {}
            if page:
                for site_id, amenity in await connection.execute(
                    AMENITIES_OF, {"ids": [row.id for row in page]}
                ):
                    amenities.setdefault(site_id, []).append(amenity)
        nodes = [
            {
                "slug": row.slug,
                "name": row.name,
                "city": row.city,
                "coordinates": {"lat": row.lat, "lon": row.lon},
                "desks": row.desks,
                "amenities": amenities.get(row.id, []),
            }
            for row in page
        ]
        return JSONResponse({"totalCount": len(near), "nodes": nodes})

    async def members(request: Request) -> Response:
        skill = request.query_params["skill"]
        first = int(request.query_params.get("first", 20))
        async with engine.connect() as connection:
            rows = (
                await connection.execute(PEOPLE_BY_SKILL, {"skill": skill, "first": first})
            ).all()
            total = (await connection.execute(PEOPLE_COUNT, {"skill": skill})).scalar()
            skills: dict[Any, list[str]] = {}
            if rows:
                for person_id, name in await connection.execute(
                    SKILLS_OF, {"ids": [row.id for row in rows]}
                ):
                    skills.setdefault(person_id, []).append(name)
        nodes = [
            {
                "id": str(row.id),
                "displayName": row.display_name,
                "profession": row.profession,
                "skills": skills.get(row.id, []),
                "homeSite": {"slug": row.slug, "name": row.name},
            }
            for row in rows
        ]
        return JSONResponse({"totalCount": total, "nodes": nodes})

    async def stats(request: Request) -> Response:
        q = request.query_params
        year = int(q.get("year", 2025))
        params = {
            "site": int(q.get("site", 0)),
            "first": date(year, 1, 1),
            "last": date(year, 12, 31),
        }
        async with engine.connect() as connection:
            uses, people, visits = (await connection.execute(STATS_TOTAL, params)).one()
            series = (await connection.execute(STATS_SERIES, params)).all()
        return JSONResponse(
            {
                "totals": {"uses": uses, "activeCoworkers": people, "crossSiteVisits": visits},
                "series": [
                    {
                        "period": str(row.starts_on)[:7],
                        "uses": row.uses,
                        "activeCoworkers": row.people,
                    }
                    for row in series
                ],
            }
        )

    async def naive(request: Request) -> Response:
        q = request.query_params
        year = int(q.get("year", 2025))
        params = {
            "site": int(q.get("site", 0)),
            "first": date(year, 1, 1),
            "last": date(year, 12, 31),
        }
        async with engine.connect() as connection:
            series = (await connection.execute(NAIVE_SERIES, params)).all()
        return JSONResponse(
            {
                "series": [
                    {"period": str(row.month)[:7], "uses": row.uses, "activeCoworkers": row.people}
                    for row in series
                ]
            }
        )

    async def events(request: Request) -> Response:
        from datetime import datetime

        q = request.query_params
        params = {
            "start": datetime.fromisoformat(q["from"]),
            "end": datetime.fromisoformat(q["to"]),
            "first": int(q.get("first", 20)),
        }
        async with engine.connect() as connection:
            rows = (await connection.execute(EVENTS_MONTH, params)).all()
            total = (await connection.execute(EVENTS_COUNT, params)).scalar()
        nodes = [
            {
                "id": f"{row.event_id}:{row.recurrence_id}",
                "title": row.title,
                "startsAt": str(row.starts_at),
                "endsAt": str(row.ends_at),
                "category": row.category,
                "site": {"slug": row.slug, "name": row.name},
            }
            for row in rows
        ]
        return JSONResponse({"totalCount": total, "nodes": nodes})

    async def verify(request: Request) -> Response:
        # The floor of token verification: the same ES256 check with joserfc and the key
        # from the database, no GraphQL.
        header = request.headers.get("authorization", "")
        claims = await keys.verify(header.removeprefix("Bearer "), typ="at+jwt")
        return JSONResponse({"sub": claims["sub"]})

    # SQLite has one writer at a time: its check-ins take turns rather than fail as busy.
    one_writer: Any = contextlib.nullcontext() if postgres else asyncio.Lock()

    async def check_in(request: Request) -> Response:
        import uuid
        from datetime import UTC, datetime

        from sqlalchemy.orm import Session

        from federation.kit.clock import PARIS
        from federation.usage.models import UseKind
        from federation.usage.rollups import UseFact
        from federation.usage.service import queue_uses

        given = (await request.json())["input"]
        now = datetime.now(UTC)
        day = now.astimezone(PARIS).date()
        # SQLite (the smoke test) stores UUIDs as hex and times as naive UTC text.
        stamp: Any = now if postgres else now.replace(tzinfo=None).isoformat(" ")
        units = 2 if given["kind"] == "DAY" else 1  # a day carnet: 1 credit; a use: 2 halves
        credits = 1
        pass_id: Any = uuid.UUID(given["passId"])
        pass_id = pass_id if postgres else pass_id.hex
        async with one_writer, engine.begin() as connection:
            site = (await connection.execute(CHECKIN_SITE, {"slug": given["site"]})).scalar()
            if site is None:
                return JSONResponse({"error": "NOT_FOUND"}, 404)
            key = {"site": site, "key": given["idempotencyKey"]}
            claimed = (
                await connection.execute(
                    CHECKIN_CLAIM, {**key, "kind": given["kind"], "now": stamp, "day": day}
                )
            ).scalar()
            if claimed is None:
                ok, code, remaining = (await connection.execute(CHECKIN_REPLAY, key)).one()
            else:
                debit = (
                    await connection.execute(
                        CHECKIN_DEBIT, {"pass": pass_id, "units": credits, "now": stamp}
                    )
                ).one_or_none()
                ok = debit is not None
                code = None if ok else "PASS_EXHAUSTED"
                remaining = debit.remaining if debit is not None else None
                await connection.execute(
                    CHECKIN_ANSWER,
                    {
                        "id": claimed,
                        "pass": pass_id,
                        "ok": ok,
                        "code": code,
                        "message": "Welcome!" if ok else "This pass has no credits left.",
                        "units": credits,
                        "debited": credits if ok else 0,
                        "remaining": remaining,
                    },
                )
                if debit is not None:
                    holder = debit.holder_id
                    subject = (
                        f"person:{uuid.UUID(str(holder))}"
                        if holder
                        else f"pass:{uuid.UUID(given['passId'])}"
                    )
                    await connection.execute(
                        CHECKIN_USE,
                        {
                            "site": site,
                            "day": day,
                            "units": units,
                            "subject": subject,
                            "home": debit.home_site_id,
                            "now": stamp,
                        },
                    )
                    fact = UseFact(
                        site, day, UseKind.OPEN_SPACE, units, subject, debit.home_site_id
                    )

                    def rollups(sync_connection: Any) -> None:
                        queue_uses(Session(bind=sync_connection), [(fact, +1)])

                    await connection.run_sync(rollups)
        balance = {"remainingCredits": remaining} if remaining is not None else None
        return JSONResponse({"data": {"checkIn": {"ok": ok, "code": code, "pass": balance}}})

    from federation.db import Database
    from federation.keys.service import KeyRing
    from federation.usage.service import keep_rollups_current

    keys = KeyRing(Database(url))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        hub_db = Database(url)  # the hub's applier of the usage queue, as in its own lifespan
        rollups = asyncio.create_task(keep_rollups_current(hub_db))
        yield
        rollups.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rollups
        await hub_db.dispose()

    routes = [
        Route("/checkin", check_in, methods=["POST"]),
        Route("/sites", sites),
        Route("/members", members),
        Route("/stats", stats),
        Route("/verify", verify),
        Route("/events", events),
    ]
    if postgres:
        routes.append(Route("/naive", naive))
    return StatementHeader(Starlette(routes=routes, lifespan=lifespan))
