"""The scenarios: what each one asks the hub, the floor and the peer, and what it checks.

A scenario is available when the tables and endpoints it needs exist in the database it
runs against (events, passes and sync come from other issues: until they are merged, their
scenarios are skipped with the reason).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, inspect, select, text

from bench.load import percentile
from federation.access import Role
from federation.auth.tokens import Subject, access_token_claims
from federation.db import Database
from federation.directory.models import Person, Site
from federation.keys.service import KeyRing, ensure_signing_key
from federation.kit.text import fold
from federation.usage.models import Use

Load = Callable[[dict[str, Any]], dict[str, Any]]

# Real visitors do not all ask the same thing: the read scenarios cycle through these small
# sets (the same for the hub, the floor and the peer), so a response cache is measured on
# several distinct answers rather than on one. Cities are the generator's biggest.
NEAR_CITIES = [
    {"lat": 45.7640, "lon": 4.8357, "radiusKm": 30.0},  # Lyon
    {"lat": 48.8589, "lon": 2.3800, "radiusKm": 30.0},  # Paris
    {"lat": 45.1885, "lon": 5.7245, "radiusKm": 30.0},  # Grenoble
    {"lat": 48.1173, "lon": -1.6778, "radiusKm": 30.0},  # Rennes
    {"lat": 48.5734, "lon": 7.7521, "radiusKm": 30.0},  # Strasbourg
    {"lat": 47.3220, "lon": 5.0415, "radiusKm": 30.0},  # Dijon
]
AMENITIES = ["MEETING_ROOM", "KITCHEN", "PRINTER"]
SKILLS = ["Python", "Facilitation", "Rédaction", "ESS", "Illustration", "SQL", "Canva", "RGPD"]
# The events month's first page seen from each of the month's first days.
EVENT_WINDOW_STARTS = 10
YEAR = 2025
DISTINCT_TOKENS = 40_000


@dataclass
class Context:
    url: str
    issuer: str
    tables: set[str]
    dataset: dict[str, Any]
    site_slug: str
    site_id: int
    coordinator_token: str
    tokens: list[str] = field(default_factory=list)
    duration: float = 10.0
    sync_records: int = 100_000
    hot_credits: int = 100


async def prepare(url: str, *, issuer: str) -> Context:
    db = Database(url)
    try:
        async with db.transaction() as session:
            await ensure_signing_key(session)
        async with db.reading() as session:
            tables = set(
                await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
            )
            sites = await session.scalar(select(func.count()).select_from(Site)) or 0
            people = await session.scalar(select(func.count()).select_from(Person)) or 0
            uses = await session.scalar(select(func.count()).select_from(Use)) or 0
            # The busiest space of the year: the one-space stats read the most rows.
            row = (
                await session.execute(
                    text(
                        "SELECT s.id, s.slug FROM sites s JOIN usage_uses_by_period u"
                        " ON u.site_id = s.id AND u.period = 'YEAR'"
                        " WHERE s.slug NOT LIKE 'bench-%'"  # the spaces scenarios add
                        " GROUP BY s.id, s.slug, u.starts_on, u.kind"  # summed over stripes
                        " ORDER BY sum(u.uses) DESC, s.id LIMIT 1"
                    )
                )
            ).first()
            if row is None:
                row = (await session.execute(select(Site.id, Site.slug).limit(1))).one()
        keys = (await KeyRing(db).snapshot()) if hasattr(KeyRing, "snapshot") else None
        now = int(time.time())

        def token(roles: frozenset[Role], scope: str) -> str:
            subject = Subject(uuid.uuid4(), roles, frozenset(), None)
            claims = access_token_claims(
                issuer=issuer, client_id="bench", scope=scope, now=now, subject=subject
            )
            assert keys is not None
            return keys.sign(claims, typ="at+jwt")

        coordinator = token(frozenset({Role.COORDINATOR}), "stats:read profile")
        return Context(
            url=url,
            issuer=issuer,
            tables=tables,
            dataset={"sites": sites, "people": people, "uses": uses},
            site_slug=row.slug,
            site_id=row.id,
            coordinator_token=coordinator,
            tokens=[],
        )
    finally:
        await db.dispose()


def mint_tokens(context: Context, count: int) -> list[str]:
    import asyncio

    async def go() -> list[str]:
        db = Database(context.url)
        try:
            keys = await KeyRing(db).snapshot()
        finally:
            await db.dispose()
        now = int(time.time())
        return [
            keys.sign(
                access_token_claims(
                    issuer=context.issuer,
                    client_id="bench",
                    scope="profile",
                    now=now,
                    subject=Subject(uuid.uuid4(), frozenset({Role.COWORKER}), frozenset(), None),
                ),
                typ="at+jwt",
            )
            for _ in range(count)
        ]

    return asyncio.run(go())


def gql(
    query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/graphql",
        "json": {"query": query, "variables": variables or {}},
        "graphql": True,
    }
    if token:
        request["headers"] = {"Authorization": f"Bearer {token}"}
    return request


def get(
    path: str, params: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "GET", "path": path, "params": params or {}}
    if token:
        request["headers"] = {"Authorization": f"Bearer {token}"}
    return request


ROUNDS = 3


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure from several rounds: counts add up, percentiles over every latency."""
    latencies = sorted(value for part in parts for value in part.pop("latencies_ms", []))
    requests = sum(part["requests"] for part in parts)
    seconds = sum(part["seconds"] for part in parts)
    statements = sum((part["sql_per_request"] or 0) * part["requests"] for part in parts)
    return {
        "requests": requests,
        "seconds": seconds,
        "throughput": requests / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else None,
        "errors": sum(part["errors"] for part in parts),
        "error_sample": next((p["error_sample"] for p in parts if p["error_sample"]), None),
        "sql_per_request": statements / requests if requests else None,
        "rounds": len(parts),
    }


@dataclass
class Scenario:
    name: str
    title: str
    needs: tuple[str, ...] = ()
    unavailable_reason: str = ""

    def available(self, context: Context) -> bool:
        return all(table in context.tables for table in self.needs)

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        return None

    def measure(
        self,
        context: Context,
        targets: dict[str, Any],
        concurrency: list[int],
        duration: float,
        load: Load,
    ) -> list[dict[str, Any]]:
        # Targets take turns in short rounds, so that whatever else the machine is doing
        # weighs on each of them alike: their ratios are the figures to trust.
        rounds = ROUNDS if duration >= 4 else 1
        rows = []
        jobs: list[tuple[str, Any, list[dict[str, Any]]]] = []
        for target, server in targets.items():
            requests = self.requests(context, target)
            if requests:
                jobs.append((target, server, requests))
        if "floor" in targets:
            for extra, requests in self.extra_targets(context, targets).items():
                jobs.append((extra, targets["floor"], requests))
        extras = {name for name, _, _ in jobs} - set(targets)
        for level in concurrency:
            # The naive aggregates scan raw uses: one client shows the ratio; more would only
            # starve everything else of the database.
            chosen = [job for job in jobs if job[0] not in extras or level == concurrency[0]]
            parts: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in chosen}
            for index in range(rounds):
                for name, server, requests in chosen:
                    parts[name].append(
                        load(
                            {
                                "base_url": server.base_url,
                                "requests": requests,
                                "concurrency": level,
                                "duration": duration / rounds,
                                "warmup": min(1.0, duration / 4) if index == 0 else 0.2,
                                "start": index * len(requests) // rounds,
                                "raw": True,
                            }
                        )
                    )
            for name, _, _ in chosen:
                rows.append({"target": name, "concurrency": level, **merge(parts[name])})
        return rows

    def extra_targets(
        self, context: Context, targets: dict[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        return {}

    def verify(self, context: Context) -> list[str]:
        return []


SITE_FIELDS = "slug name city coordinates { lat lon } desks amenities"


class DirectoryNear(Scenario):
    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        asked = [(near, amenity) for near in NEAR_CITIES for amenity in AMENITIES]
        if target == "hub":
            return [
                gql(
                    "query($near: NearInput!, $amenity: Amenity) { sites(near: $near, "
                    "amenity: $amenity, first: 20) { totalCount nodes { " + SITE_FIELDS + " } } }",
                    {"near": near, "amenity": amenity},
                )
                for near, amenity in asked
            ]
        if target == "floor":
            return [
                get(
                    "/sites",
                    {
                        "lat": near["lat"],
                        "lon": near["lon"],
                        "radius": near["radiusKm"],
                        "amenity": amenity,
                    },
                )
                for near, amenity in asked
            ]
        if target == "peer":
            # PostGraphile has no distance ordering without a custom function: the nearest
            # equivalent is the spaces of the city with their amenities, 20 by name.
            return [
                {
                    **gql(
                        '{ allSites(first: 20, condition: {cityKey: "lyon"}, orderBy: NAME_KEY_ASC)'
                        " { totalCount nodes { slug name city lat lon desks"
                        " siteAmenitiesBySiteId { nodes { amenity } } } } }"
                    ),
                }
            ]
        return None


class PeopleBySkill(Scenario):
    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        if target == "hub":
            return [
                gql(
                    "query($skill: String) { members(skill: $skill, first: 20) { totalCount nodes {"
                    " id displayName profession skills homeSite { slug name } } } }",
                    {"skill": skill},
                )
                for skill in SKILLS
            ]
        if target == "floor":
            return [get("/members", {"skill": fold(skill), "first": 20}) for skill in SKILLS]
        if target == "peer":
            return [
                gql(
                    '{ allPersonSkills(first: 20, condition: {skillKey: "python"}) { totalCount'
                    " nodes { personByPersonId { id displayName profession"
                    " personSkillsByPersonId { nodes { skill } }"
                    " siteByHomeSiteId { slug name } } } } }"
                )
            ]
        return None


class NetworkStatsYear(Scenario):
    def __init__(self, name: str, title: str, *, one_site: bool) -> None:
        super().__init__(name, title)
        self.one_site = one_site

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        site = context.site_id if self.one_site else 0
        if target == "hub":
            variables: dict[str, Any] = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
            if self.one_site:
                variables["sites"] = [context.site_slug]
            return [
                gql(
                    "query($from: Date!, $to: Date!, $sites: [String!]) { networkStats(from: $from,"
                    " to: $to, sites: $sites, groupBy: MONTH) { totals { uses activeCoworkers"
                    " newMembers crossSiteVisits occupancyRate } series { period uses"
                    " activeCoworkers occupancyRate } } }",
                    variables,
                    token=context.coordinator_token,
                )
            ]
        if target == "floor":
            return [get("/stats", {"year": YEAR, "site": site})]
        if target == "peer":
            return [
                gql(
                    '{ allUsageUsesByPeriods(condition: {period: "MONTH", siteId: '
                    + str(site)
                    + "}) { nodes { startsOn kind uses } } }"
                ).copy()
            ]
        return None

    def extra_targets(
        self, context: Context, targets: dict[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        if "floor" not in targets or context.url.startswith("sqlite"):
            return {}
        site = context.site_id if self.one_site else 0
        return {"naive": [get("/naive", {"year": YEAR, "site": site})]}


class TokenVerification(Scenario):
    """Every request carries a token never seen before, so the hub's LRU of verified tokens
    never helps: each is a full ES256 verification and claims check. The query itself is
    the cheapest there is; the bearer is verified before GraphQL runs, as for every query."""

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        if not context.tokens:
            # Enough never to repeat one: far more than the hub verifies in a run.
            count = int(min(DISTINCT_TOKENS, max(2_000, context.duration * 3_000)))
            context.tokens = mint_tokens(context, count)
        if target == "hub":
            return [gql("{ __typename }", token=token) for token in context.tokens]
        if target == "floor":
            return [get("/verify", token=token) for token in context.tokens]
        return None

    def verify(self, context: Context) -> list[str]:
        return verification_per_core()


def sign(context: Context, claims: dict[str, Any]) -> str:
    import asyncio

    async def go() -> str:
        db = Database(context.url)
        try:
            keys = await KeyRing(db).snapshot()
        finally:
            await db.dispose()
        return keys.sign(claims, typ="at+jwt")

    return asyncio.run(go())


class Fixed(Scenario):
    """A scenario of one prepared request list, for the hub only."""

    def __init__(self, name: str, title: str, fixed: list[dict[str, Any]]) -> None:
        super().__init__(name, title)
        self.fixed = fixed

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        return self.fixed if target == "hub" else None


class PerTarget(Scenario):
    """A scenario of one prepared request list per target."""

    def __init__(self, name: str, title: str, requests: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__(name, title)
        self.prepared = requests

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        return self.prepared.get(target)


class CheckIns(Scenario):
    """`checkIn` from a kiosk: over distinct passes, or all on one hot pass (a fresh one for
    each concurrency level, with fewer credits than the level tries to take)."""

    def __init__(self, name: str, title: str, *, hot: bool) -> None:
        super().__init__(
            name,
            title,
            needs=("passes", "pass_check_ins"),
            unavailable_reason="needs passes (issue 4) in the database",
        )
        self.hot = hot
        self.checks: list[str] = []

    def measure(
        self,
        context: Context,
        targets: dict[str, Any],
        concurrency: list[int],
        duration: float,
        load: Load,
    ) -> list[dict[str, Any]]:
        import asyncio

        from bench import checkins

        count = int(min(DISTINCT_TOKENS, max(2_000, duration * 3_000)))
        rows: list[dict[str, Any]] = []
        # The floor (hand-written SQL, bench/servers.py) gets passes of its own: a hot pass
        # each, so that both are checked for over-spend.
        served = {name: targets[name] for name in ("hub", "floor") if name in targets}
        for level in concurrency:
            per_target: dict[str, list[dict[str, Any]]] = {}
            hot_passes: dict[str, str] = {}
            for name in served:
                host, distinct, hot = asyncio.run(
                    checkins.prepare_passes(
                        context.url, 1 if self.hot else count, context.hot_credits
                    )
                )
                hot_passes[name] = hot
                token = sign(context, checkins.kiosk_claims(context.issuer, host))
                requests = []
                for i in range(count):
                    variables = {
                        "input": {
                            "site": checkins.HOST_SLUG,
                            "kind": "DAY",
                            "idempotencyKey": f"bench-{uuid.uuid4()}",
                            "passId": hot if self.hot else distinct[i],
                        }
                    }
                    request = gql(checkins.CHECK_IN, variables, token=token)
                    if name == "floor":
                        request = {**request, "path": "/checkin", "graphql": False}
                        request["json"] = {"input": variables["input"]}
                    if not self.hot:
                        request["expect"] = '"ok":true'
                    requests.append(request)
                per_target[name] = requests
            rows += PerTarget(self.name, self.title, per_target).measure(
                context, served, [level], duration, load
            )
            if self.hot:
                for name, hot in hot_passes.items():
                    verdict = asyncio.run(checkins.over_spend(context.url, hot))
                    self.checks.append(f"{name}, concurrency {level}: {verdict}")
        return rows

    def verify(self, context: Context) -> list[str]:
        checks, self.checks = self.checks, []
        return checks


class EventsMonth(Scenario):
    """The first page of a month of network events (issue 5), and the floor's."""

    filled = False

    def requests(self, context: Context, target: str) -> list[dict[str, Any]] | None:
        import asyncio

        from bench import events

        if not EventsMonth.filled:
            asyncio.run(events.fill(context.url))
            EventsMonth.filled = True
        windows = [
            (events.MONTH_START + timedelta(days=day), events.MONTH_END + timedelta(days=day))
            for day in range(EVENT_WINDOW_STARTS)
        ]
        if target == "hub":
            return [
                gql(
                    "query($from: DateTime, $to: DateTime) { events(from: $from, to: $to,"
                    " first: 20) { totalCount nodes { id title startsAt endsAt category"
                    " site { slug name } } } }",
                    {"from": start.isoformat(), "to": end.isoformat()},
                )
                for start, end in windows
            ]
        if target == "floor":
            return [
                get("/events", {"from": start.isoformat(), "to": end.isoformat(), "first": 20})
                for start, end in windows
            ]
        return None


class EventsFeed(Scenario):
    """A month's network ICS feed, read to its end (issue 5: < 1 s); one client."""

    def measure(
        self,
        context: Context,
        targets: dict[str, Any],
        concurrency: list[int],
        duration: float,
        load: Load,
    ) -> list[dict[str, Any]]:
        import asyncio

        from bench import events

        if not EventsMonth.filled:
            asyncio.run(events.fill(context.url))
            EventsMonth.filled = True
        request = get("/calendar.ics", {"from": "2027-03-01", "to": "2027-04-01"})
        return Fixed(self.name, self.title, [request]).measure(
            context, {"hub": targets["hub"]}, [1], duration, load
        )


class SyncIngest(Scenario):
    """A space's adapter (sites/kit) pushes `context.sync_records` usage records in ten
    batches over HTTP, then runs again over the same sources: it must send nothing
    (bench/sync_ingest.py)."""

    def measure(
        self,
        context: Context,
        targets: dict[str, Any],
        concurrency: list[int],
        duration: float,
        load: Load,
    ) -> list[dict[str, Any]]:
        from bench import sync_ingest

        result = sync_ingest.ingest(context.url, targets["hub"].base_url, context.sync_records)
        return sync_ingest.rows(result)


def verification_per_core() -> list[str]:
    """The hub's own in-process figure (bench/auth_verify.py): verifications per second on
    one core, without HTTP, for the 5,000/s per core target."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("auth_verify.py")
    done = subprocess.run(
        [sys.executable, str(script), "--seconds", "2"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        return [f"in-process verification failed: {done.stderr.strip()[-200:]}"]
    return [f"in-process, one core: {line.strip()}" for line in done.stdout.splitlines()]


ALL: list[Scenario] = [
    DirectoryNear("directory_near", "spaces within 30 km of Lyon with a meeting room, first 20"),
    PeopleBySkill("people_by_skill", "people with the skill Python, first 20 (anonymous)"),
    NetworkStatsYear(
        "stats_year_network", f"networkStats {YEAR} by month, whole network", one_site=False
    ),
    NetworkStatsYear(
        "stats_year_site", f"networkStats {YEAR} by month, the busiest space", one_site=True
    ),
    TokenVerification(
        "token_verification", "{ __typename } with a distinct valid token each request"
    ),
    EventsMonth(
        "events_month",
        "first page (20) of March 2027's network events",
        needs=("events", "event_occurrences"),
        unavailable_reason="needs the calendar (issue 5) in the database",
    ),
    EventsFeed(
        "events_month_ics",
        "March 2027's network ICS feed, read to the end",
        needs=("events", "event_occurrences"),
        unavailable_reason="needs the calendar (issue 5) in the database",
    ),
    CheckIns("checkin_distinct", "checkIn from a kiosk over distinct passes", hot=False),
    CheckIns(
        "checkin_hot", "checkIn from a kiosk, all on one pass; then zero over-spend", hot=True
    ),
    SyncIngest(
        "sync_ingest",
        "a space's adapter syncs usage records in 10 batches, then reruns unchanged",
        needs=("sync_runs", "sync_records"),
        unavailable_reason="needs sync (issue 6) in the database",
    ),
]
BY_NAME = {scenario.name: scenario for scenario in ALL}
