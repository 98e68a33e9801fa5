"""`python -m bench run`: start real servers (uvicorn, N workers), drive them from a separate
load process, print a table and write bench/results/<date>-<commit>.json.

Targets served in the same run, so that their ratios are comparable on a shared machine:
`hub` (the hub, unchanged, plus a statement-count header), `floor` (plain Starlette over
hand-written SQL, bench/servers.py) and `peer` (PostGraphile v4 on the same database, when
Node and npm are there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import scenarios
from bench.generate import sqlite_path, sync_url
from federation.settings import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PEER_DIR = ROOT / "bench" / "peer" / "cache"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MB; None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        # uvicorn with --workers: the master's children are the workers (and multiprocessing's
        # resource tracker, left out); one worker: the process itself.
        pids = [pid for pid in children(self.process.pid) if "resource_tracker" not in cmdline(pid)]
        return pids or [self.process.pid]

    def rss(self) -> list[float]:
        return [value for pid in self.workers() if (value := peak_rss_mb(pid)) is not None]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serve(
    name: str, command: list[str], env: dict[str, str], port: int, health: str
) -> Iterator[Server]:
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(server.base_url + health, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield server
    finally:
        server.stop()


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def peer_command(url: str, port: int) -> list[str] | None:
    binary = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        if not shutil.which("npm"):
            return None
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--prefix", str(PEER_DIR), "postgraphile@4"],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not binary.exists():
            return None
    return [
        str(binary),
        "--connection",
        sync_url(url),
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-default-mutations",
        "--disable-query-log",
        "--cluster-workers",
        "0",
    ]


def load(job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(job).encode(),
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load process failed: {done.stderr.decode()[-2000:]}")
    return dict(json.loads(done.stdout))


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    with suppress(ValueError, OSError):
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


@dataclass
class Run:
    url: str
    workers: int
    concurrency: list[int]
    duration: float
    results: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run(
    url: str,
    *,
    names: list[str] | None = None,
    concurrency: list[int] | None = None,
    duration: float = 10.0,
    workers: int = 2,
    floor: bool = True,
    peer: bool = True,
    output: Path | None = None,
    quiet: bool = False,
    sync_records: int = 100_000,
    hot_credits: int = 100,
) -> dict[str, Any]:
    say = (lambda *_: None) if quiet else print
    concurrency = concurrency or [1, 8, 32]
    is_sqlite = sqlite_path(url) is not None
    async_url = normalise_database_url(url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    context = asyncio.run(scenarios.prepare(async_url, issuer=base_url))
    context.duration = duration
    context.sync_records = sync_records
    context.hot_credits = hot_credits
    env = {
        **os.environ,
        "DATABASE_URL": async_url,
        "FEDERATION_BASE_URL": base_url,
        "FEDERATION_ALLOW_INSECURE_HTTP": "1",
        "PYTHONPATH": str(ROOT),
    }
    chosen = [s for s in scenarios.ALL if names is None or s.name in names]
    available = [s for s in chosen if s.available(context)]
    skipped = [s.name for s in chosen if s not in available]
    run_record: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "database": "sqlite" if is_sqlite else "postgresql",
        "dataset": context.dataset,
        "workers": workers,
        "duration_s": duration,
        "concurrency": concurrency,
        "skipped": skipped,
        "notes": [],
        "results": [],
    }
    for name in skipped:
        say(f"skip {name}: {scenarios.BY_NAME[name].unavailable_reason}")
    with serve(
        "hub", uvicorn_command("bench.servers:hub_app", port, workers), env, port, "/healthz"
    ) as hub:
        targets: dict[str, Server] = {"hub": hub}
        with (
            _maybe_floor(floor, env, workers) as floor_server,
            _maybe_peer(peer and not is_sqlite, url, run_record["notes"], say) as peer_server,
        ):
            if floor_server:
                targets["floor"] = floor_server
            if peer_server:
                targets["peer"] = peer_server
            for scenario in available:
                say(f"\n== {scenario.name}: {scenario.title}")
                for row in scenario.measure(context, targets, concurrency, duration, load):
                    row["scenario"] = scenario.name
                    server = targets.get(row["target"])
                    if server is not None and row["target"] != "peer":
                        row["peak_rss_mb"] = [round(v, 1) for v in server.rss()]
                    run_record["results"].append(row)
                    say(format_row(row))
                for check in scenario.verify(context):
                    run_record["notes"].append(f"{scenario.name}: {check}")
                    say(f"   check: {check}")
    add_ratios(run_record["results"])
    if not quiet:
        print()
        print(table(run_record))
    destination = output or RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-{run_record['commit']}.json"
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(json.dumps(run_record, indent=2, default=str) + "\n")
    say(f"\nwritten {destination}")
    return run_record


@contextmanager
def _maybe_floor(enabled: bool, env: dict[str, str], workers: int) -> Iterator[Server | None]:
    if not enabled:
        yield None
        return
    port = free_port()
    with serve(
        "floor", uvicorn_command("bench.servers:floor_app", port, workers), env, port, "/stats"
    ) as server:
        yield server


@contextmanager
def _maybe_peer(enabled: bool, url: str, notes: list[str], say: Any) -> Iterator[Server | None]:
    if not enabled:
        yield None
        return
    port = free_port()
    command = peer_command(url, port)
    if command is None:
        notes.append("peer: skipped (no node/npm, or `npm install postgraphile@4` failed)")
        say("skip peer: no node/npm or npm install failed")
        yield None
        return
    try:
        with serve("peer", command, dict(os.environ), port, "/graphiql") as server:
            yield server
    except RuntimeError as error:
        notes.append(f"peer: skipped ({str(error)[:200]})")
        say(f"skip peer: {error}")
        yield None


def add_ratios(results: list[dict[str, Any]]) -> None:
    by_key = {(r["scenario"], r["target"], r.get("concurrency")): r for r in results}
    for row in results:
        if row["target"] != "hub" or not row.get("throughput"):
            continue
        for other in ("floor", "peer", "naive"):
            base = by_key.get((row["scenario"], other, row.get("concurrency")))
            if base and base.get("throughput"):
                row[f"hub_over_{other}"] = round(row["throughput"] / base["throughput"], 3)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_row(row: dict[str, Any]) -> str:
    rss = row.get("peak_rss_mb") or []
    return (
        f"  {row['target']:<6} c={_fmt(row.get('concurrency')):>3}  "
        f"{_fmt(row.get('throughput')):>8}/s  p50 {_fmt(row.get('p50_ms')):>7}  "
        f"p95 {_fmt(row.get('p95_ms')):>7}  p99 {_fmt(row.get('p99_ms')):>7} ms  "
        f"err {row.get('errors', 0):>3}  sql/req {_fmt(row.get('sql_per_request'))}  "
        f"rss {'/'.join(f'{v:.0f}' for v in rss) or '-'} MB"
        + (f"  {row['detail']}" if row.get("detail") else "")
    )


def table(record: dict[str, Any]) -> str:
    head = (
        f"{'scenario':<22} {'target':<6} {'conc':>4} {'req/s':>9} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'err':>4} {'sql/req':>7} {'hub/floor':>9} {'hub/peer':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in record["results"]:
        lines.append(
            f"{row['scenario']:<22} {row['target']:<6} {_fmt(row.get('concurrency')):>4} "
            f"{_fmt(row.get('throughput')):>9} {_fmt(row.get('p50_ms')):>7} "
            f"{_fmt(row.get('p95_ms')):>7} {_fmt(row.get('p99_ms')):>7} {row.get('errors', 0):>4} "
            f"{_fmt(row.get('sql_per_request')):>7} {_fmt(row.get('hub_over_floor'), 2):>9} "
            f"{_fmt(row.get('hub_over_peer'), 2):>8}"
        )
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    # Stopped from outside: unwind, so that every server this run started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    record = run(
        args.db,
        names=args.scenario,
        concurrency=[int(c) for c in args.concurrency.split(",") if c],
        duration=args.duration,
        workers=args.workers,
        floor=not args.no_floor,
        peer=not args.no_peer,
        output=Path(args.output) if args.output else None,
        sync_records=args.sync_records,
        hot_credits=args.hot_credits,
    )
    failed = [r for r in record["results"] if r.get("errors")]
    return 1 if failed and os.environ.get("BENCH_STRICT") else 0
