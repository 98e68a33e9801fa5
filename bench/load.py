"""The load process: `python -m bench.load` reads one job (JSON) on stdin, drives a server
over HTTP with `concurrency` clients for `duration` seconds, prints the figures (JSON).

It runs in its own process, never inside the server it measures. Each client sends its
requests one after the other from the job's list (round robin from its own offset), so
`distinct` requests (one token each, one pass each) are never repeated within a run.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def drive(job: dict[str, Any]) -> dict[str, Any]:
    requests: list[dict[str, Any]] = job["requests"]
    concurrency: int = job["concurrency"]
    duration: float = job["duration"]
    once: bool = job.get("once", False)  # each request exactly once (a sync run, a feed)
    latencies: list[float] = []
    errors: list[str] = []
    statements = 0
    measured = 0
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=job["base_url"], limits=limits, timeout=job.get("timeout", 60.0)
    ) as client:

        async def one(request: dict[str, Any], record: bool) -> None:
            nonlocal statements, measured
            began = time.perf_counter()
            try:
                response = await client.request(
                    request.get("method", "GET"),
                    request["path"],
                    json=request.get("json"),
                    headers=request.get("headers"),
                    params=request.get("params"),
                )
                body = response.content
                expect = request.get("expect")
                failed = (
                    response.status_code >= 400
                    or (request.get("graphql", False) and b'"errors"' in body)
                    or (expect is not None and expect.encode() not in body)
                )
                if failed and len(errors) < 1000:
                    errors.append(f"{response.status_code} {body[:300]!r}")
                elif failed:
                    errors.append("")
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__}: {error}")
                return
            if record:
                latencies.append(time.perf_counter() - began)
                measured += 1
                statements += int(response.headers.get("x-sql-statements", "0"))

        if once:
            queue = list(requests)
            started = time.perf_counter()

            async def worker() -> None:
                while queue:
                    await one(queue.pop(0), True)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        else:
            warmup = job.get("warmup", 1.0)
            count = len(requests)

            start = job.get("start", 0)

            async def client_loop(offset: int, until: float, record: bool) -> None:
                nonlocal sent
                index = offset
                while time.perf_counter() < until:
                    sent += 1
                    await one(requests[index % count], record)
                    index += concurrency

            if warmup:
                until = time.perf_counter() + warmup
                await asyncio.gather(
                    *(client_loop(count // 2 + i, until, False) for i in range(concurrency))
                )
                errors.clear()
            started = time.perf_counter()
            until = started + duration
            await asyncio.gather(*(client_loop(start + i, until, True) for i in range(concurrency)))
            elapsed = time.perf_counter() - started
    latencies.sort()
    ms = [value * 1000 for value in latencies]
    result = {
        "requests": measured,
        "seconds": elapsed,
        "throughput": measured / elapsed if elapsed else 0.0,
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": ms[-1] if ms else None,
        "errors": len(errors),
        "error_sample": next((e for e in errors if e), None),
        "sql_per_request": statements / measured if measured else None,
    }
    if job.get("raw"):
        result["latencies_ms"] = ms
    return result


def main() -> None:
    job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(drive(job))))


if __name__ == "__main__":
    main()
