"""Sync ingest (issue 6): a space's adapter pushes a year of uses, then runs again unchanged.

Over HTTP (the `sync_ingest` scenario): a space of its own (`bench-sync`) and a fresh OAuth
client of it (client credentials, `sync:write`, bound to the space); a temporary folder
holds the space's spreadsheet exports (memberships and uses, French CSV) and its
`site.toml`. The adapter kit (sites/kit) then runs three times against the real hub:

1. memberships only (not timed): the uses name them;
2. the uses: `records` usage records in batches of `records / 10` (10,000 at full size),
   each POST timed by the HTTP transport: records/s is usage records over the time the
   hub took to answer the batches;
3. the same sources again: the kit must send nothing, and its whole run is timed.

In-process (`python -m bench.sync_ingest --db URL [--records N] [--profile FILE]`): one
batch applied by `federation.sync.service` without HTTP, for profiling and statement counts.

Every run uses external ids of its own (a run prefix), so each one creates new uses; their
days are in 2019, outside the years the statistics scenarios read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

SLUG = "bench-sync"
YEAR = 2019
USES_PER_MEMBER = 50
FULL = 100_000
BATCHES = 10


@dataclass(frozen=True)
class Shape:
    records: int
    members: int
    batch_size: int

    @classmethod
    def of(cls, records: int) -> Shape:
        records = max(BATCHES, records)
        return cls(records, max(10, records // USES_PER_MEMBER), -(-records // BATCHES))


def working_days(year: int = YEAR) -> list[date]:
    day, days = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def member_ids(prefix: str, shape: Shape) -> list[str]:
    return [f"{prefix}-m{i:06d}" for i in range(shape.members)]


def use_rows(prefix: str, shape: Shape) -> Iterator[tuple[str, str, date, str, int]]:
    """(external id, member, day, kind, half-days), in the order of days: the day's visitors
    are a run of consecutive members, so each member comes back about once a week."""
    days = working_days()
    members = member_ids(prefix, shape)
    kinds = ("OPEN_SPACE", "OPEN_SPACE", "OPEN_SPACE", "OFFICE", "MEETING_ROOM")
    for n in range(shape.records):
        yield (
            f"{prefix}-u{n:07d}",
            members[n % len(members)],
            days[n * len(days) // shape.records],
            kinds[n % len(kinds)],
            1 + n % 2,
        )


# --- the space and its client -------------------------------------------------------------


async def prepare_space(url: str) -> tuple[int, str, str]:
    """The bench space's id, and the id and secret of a new client bound to it."""
    from federation.auth.models import GrantKind
    from federation.auth.service import NewClient, create_client
    from federation.db import Database
    from federation.directory.models import Amenity, LegalForm
    from federation.directory.service import SiteProfile, get_site, save_site

    db = Database(url, pool_size=1)
    try:
        async with db.transaction() as session:
            site = await get_site(session, SLUG)
            if site is None:
                site, _ = await save_site(
                    session,
                    SiteProfile(
                        slug=SLUG,
                        name="Bench sync",
                        legal_form=LegalForm.ASSOCIATION,
                        address="2 rue du Banc",
                        postcode="69001",
                        city="Lyon",
                        region="Auvergne-Rhône-Alpes",
                        lat=45.76,
                        lon=4.83,
                        joined_at=date(2018, 1, 1),
                        desks=400,
                        amenities=[Amenity.OPEN_SPACE],
                    ),
                )
            client, secret = await create_client(
                session,
                NewClient(
                    name="Bench sync adapter",
                    grant=GrantKind.CLIENT_CREDENTIALS,
                    scope="sync:write",
                    site_slug=SLUG,
                ),
                allow_insecure_http=True,
            )
            assert secret is not None
            return site.id, client.client_id, secret
    finally:
        await db.dispose()


# --- the space's folder -------------------------------------------------------------------

SITE_TOML = """\
site = "{slug}"
hub = "{hub}"
batch_size = {batch_size}

[[source]]
kind = "csv"
path = "adhesions.csv"
type = "membership"
[source.columns]
externalId = "N° adhérent"
plan = "Formule"
startsOn = "Début"
updatedAt = "Modifié le"
"""

USES_SOURCE = """
[[source]]
kind = "csv"
path = "passages.csv"
type = "usage"
[source.columns]
externalId = "Réf."
membership = "Adhérent"
date = "Date"
kind = "Espace"
halfDays = "Demi-journées"
updatedAt = "Modifié le"
[source.values.kind]
"Open space" = "OPEN_SPACE"
"Bureau" = "OFFICE"
"Salle de réunion" = "MEETING_ROOM"
"""

_KIND_WORDS = {"OPEN_SPACE": "Open space", "OFFICE": "Bureau", "MEETING_ROOM": "Salle de réunion"}


def write_folder(folder: Path, prefix: str, shape: Shape, hub: str) -> None:
    """The exports as a French spreadsheet writes them (`;`, dd/mm/yyyy), and site.toml
    with the memberships only (`add_uses` adds the uses' source)."""
    stamp = f"31/12/{YEAR} 20:00"
    with (folder / "adhesions.csv").open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["N° adhérent", "Formule", "Début", "Modifié le"])
        for member in member_ids(prefix, shape):
            writer.writerow([member, "Résident", f"01/01/{YEAR}", stamp])
    with (folder / "passages.csv").open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Réf.", "Adhérent", "Date", "Espace", "Demi-journées", "Modifié le"])
        for external_id, member, day, kind, half_days in use_rows(prefix, shape):
            writer.writerow(
                [external_id, member, day.strftime("%d/%m/%Y"), _KIND_WORDS[kind], half_days, stamp]
            )
    (folder / "site.toml").write_text(
        SITE_TOML.format(slug=SLUG, hub=hub, batch_size=shape.batch_size), encoding="utf-8"
    )


def add_uses(folder: Path) -> None:
    with (folder / "site.toml").open("a", encoding="utf-8") as out:
        out.write(USES_SOURCE)


class TimedTransport(httpx.BaseTransport):
    """Times each batch POST (request sent to answer read) and keeps the hub's statement
    count header (`x-sql-statements`, from bench/servers.py)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.batches: list[tuple[float, int | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/sync/v1/batches"):
            content = response.read()
            elapsed = time.perf_counter() - start
            statements = response.headers.get("x-sql-statements")
            self.batches.append((elapsed, int(statements) if statements else None))
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Ingest:
    shape: Shape
    batch_seconds: list[float] = field(default_factory=list)
    batch_statements: list[int | None] = field(default_factory=list)
    sent: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    first_run_s: float = 0.0
    caught_up_s: float = 0.0  # from the last batch's answer until the rollups count it all
    rerun_s: float = 0.0
    rerun_read: int = 0
    rerun_sent: int = 0


async def wait_for_rollups(url: str) -> None:
    """Until the hub's applier has emptied the usage queue (the statistics then count every
    synced use): the cost a batch no longer pays in its own transaction, measured."""
    from sqlalchemy import func, select

    from federation.db import Database
    from federation.usage.models import PendingUse

    db = Database(url, pool_size=1)
    try:
        for _ in range(6000):
            async with db.reading() as session:
                if not await session.scalar(select(func.count()).select_from(PendingUse)):
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("the usage queue was not applied within 5 minutes")
    finally:
        await db.dispose()


def ingest(url: str, hub: str, records: int = FULL) -> Ingest:
    """The three adapter runs against a hub serving `url`'s database."""
    from sites.kit.client import Hub
    from sites.kit.config import load
    from sites.kit.runner import collect, run

    shape = Shape.of(records)
    _, client_id, secret = asyncio.run(prepare_space(url))
    prefix = uuid.uuid4().hex[:8]
    environ = {"SITE_CLIENT_ID": client_id, "SITE_CLIENT_SECRET": secret}
    quiet = lambda _: None  # noqa: E731
    result = Ingest(shape)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as temporary:
        folder = Path(temporary)
        write_folder(folder, prefix, shape, hub)
        run(folder, environ=environ, say=quiet)
        add_uses(folder)
        transport = TimedTransport()

        def timed_hub(base: str, cid: str, sec: str) -> Hub:
            return Hub(base, cid, sec, transport=transport)

        start = time.perf_counter()
        report = run(folder, environ=environ, hub_factory=timed_hub, say=quiet)
        answered = time.perf_counter()
        result.first_run_s = answered - start
        asyncio.run(wait_for_rollups(url))
        result.caught_up_s = time.perf_counter() - answered
        result.batch_seconds = [seconds for seconds, _ in transport.batches]
        result.batch_statements = [count for _, count in transport.batches]
        result.sent = report.total
        result.applied = dict(report.applied)
        result.rejected = len(report.rejected)

        start = time.perf_counter()
        again = run(folder, environ=environ, say=quiet)
        result.rerun_s = time.perf_counter() - start
        result.rerun_sent = again.total
        result.rerun_read = len(collect(load(folder, environ)))
    return result


def rows(result: Ingest) -> list[dict[str, Any]]:
    """The scenario's two rows: the ingest (records/s) and the no-change rerun."""
    from bench.load import percentile

    shape = result.shape
    seconds = sum(result.batch_seconds)
    latencies = sorted(s * 1000 for s in result.batch_seconds)
    counted = [c for c in result.batch_statements if c is not None]
    expected_batches = -(-shape.records // shape.batch_size)
    errors = result.rejected + abs(len(latencies) - expected_batches)
    errors += abs(result.sent - shape.records)
    return [
        {
            "target": "hub",
            "concurrency": 1,
            "requests": result.sent,
            "seconds": seconds,
            "throughput": result.sent / seconds if seconds else 0.0,
            "p50_ms": percentile(latencies, 0.50),
            "p95_ms": percentile(latencies, 0.95),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": latencies[-1] if latencies else None,
            "errors": errors,
            "error_sample": f"{result.rejected} rejected" if result.rejected else None,
            "sql_per_request": sum(counted) / len(counted) if counted else None,
            "rounds": 1,
            "detail": (
                f"records/s of usage records: {len(latencies)} batches of {shape.batch_size}"
                f" ({shape.members} memberships sent before); applied {result.applied};"
                f" adapter run {result.first_run_s:.1f} s wall; statistics current"
                f" {result.caught_up_s:.2f} s after the last answer"
            ),
        },
        {
            "target": "rerun",
            "concurrency": 1,
            "requests": result.rerun_read,
            "seconds": result.rerun_s,
            "throughput": result.rerun_read / result.rerun_s if result.rerun_s else 0.0,
            "p50_ms": result.rerun_s * 1000,
            "p95_ms": result.rerun_s * 1000,
            "p99_ms": result.rerun_s * 1000,
            "max_ms": result.rerun_s * 1000,
            "errors": result.rerun_sent,
            "error_sample": f"sent {result.rerun_sent} records" if result.rerun_sent else None,
            "sql_per_request": None,
            "rounds": 1,
            "detail": (
                f"no-change adapter rerun over {result.rerun_read} records:"
                f" sent {result.rerun_sent}, {result.rerun_s:.2f} s"
            ),
        },
    ]


# --- in-process ---------------------------------------------------------------------------


def batch_of(prefix: str, shape: Shape, *, uses: bool) -> dict[str, Any]:
    stamp = f"{YEAR}-12-31T19:00:00Z"
    if not uses:
        records = [
            {
                "type": "membership",
                "externalId": member,
                "op": "upsert",
                "updatedAt": stamp,
                "data": {"plan": "Résident", "startsOn": f"{YEAR}-01-01", "endsOn": None},
            }
            for member in member_ids(prefix, shape)
        ]
    else:
        records = [
            {
                "type": "usage",
                "externalId": external_id,
                "op": "upsert",
                "updatedAt": stamp,
                "data": {
                    "date": day.isoformat(),
                    "membership": member,
                    "kind": kind,
                    "halfDays": half_days,
                },
            }
            for external_id, member, day, kind, half_days in use_rows(prefix, shape)
        ]
    return {"site": SLUG, "batchId": uuid.uuid4().hex, "source": "bench", "records": records}


async def in_process(url: str, records: int, profile: Path | None) -> dict[str, Any]:
    """Apply `records` usage records as one batch (after their memberships), in-process:
    the body parsed and checked as the route does, then `apply_batch` in one transaction."""
    from sqlalchemy import event

    from federation.db import Database
    from federation.directory.service import get_site
    from federation.sync import service

    await prepare_space(url)
    shape = Shape(records, max(10, records // USES_PER_MEMBER), records)
    prefix = uuid.uuid4().hex[:8]
    db = Database(url, pool_size=1)
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    try:
        async with db.reading() as session:
            site = await get_site(session, SLUG)
        assert site is not None
        context = service.BatchContext(site=site, client_id="bench")
        async with db.transaction() as session:
            await service.apply_batch(
                session, context, service.check_batch(batch_of(prefix, shape, uses=False))
            )
        body = json.dumps(batch_of(prefix, shape, uses=True)).encode()
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        async with db.transaction() as session:
            answer = await service.apply_batch(
                session, context, service.check_batch(json.loads(body))
            )
        seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    finally:
        await db.dispose()
    return {
        "records": records,
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds),
        "statements": statements[0],
        "applied": answer["applied"],
        "rejected": len(answer["rejected"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_ingest", description=__doc__)
    parser.add_argument("--db", required=True, help="database URL (never the shared bench_s01)")
    parser.add_argument("--records", type=int, default=10_000, help="usage records in the batch")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    args = parser.parse_args(argv)
    from federation.settings import normalise_database_url

    outcome = asyncio.run(in_process(normalise_database_url(args.db), args.records, args.profile))
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
