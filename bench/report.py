"""`python -m bench report <results.json>`: the Markdown tables of BENCHMARKS.md (figures and
targets met / missed) from one run's JSON. The reasons and fixes are written by a person."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def _find(record: dict[str, Any], scenario: str, target: str, concurrency: int) -> Row | None:
    for row in record["results"]:
        if (row["scenario"], row["target"], row.get("concurrency")) == (
            scenario,
            target,
            concurrency,
        ):
            return dict(row)
    return None


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


Check = Callable[[dict[str, Any]], tuple[str, str | None]]


def _ratio(scenario: str, concurrency: int, floor: float) -> Check:
    def check(record: dict[str, Any]) -> tuple[str, str | None]:
        row = _find(record, scenario, "hub", concurrency)
        if row is None or row.get("hub_over_floor") is None:
            return "not measured", None
        ratio = row["hub_over_floor"]
        return f"hub/floor {ratio:.2f} at concurrency {concurrency}", (
            "met" if ratio >= floor else "missed"
        )

    return check


def _p95(scenario: str, limit_ms: float) -> Check:
    def check(record: dict[str, Any]) -> tuple[str, str | None]:
        row = _find(record, scenario, "hub", 1)
        if row is None or row.get("p95_ms") is None:
            return "not measured", None
        return f"p95 {row['p95_ms']:.1f} ms (concurrency 1)", (
            "met" if row["p95_ms"] < limit_ms else "missed"
        )

    return check


def _verification(record: dict[str, Any]) -> tuple[str, str | None]:
    rows = [
        r
        for r in record["results"]
        if r["scenario"] == "token_verification" and r["target"] == "hub"
    ]
    if not rows:
        return "not measured", None
    best = max(rows, key=lambda r: r["throughput"])
    cores = record["machine"].get("cores") or 1
    per_core = best["throughput"] / cores
    inproc = next(
        (
            n
            for n in record["notes"]
            if n.startswith("token_verification: in-process") and "distinct" in n
        ),
        "",
    )
    text = (
        f"HTTP {best['throughput']:,.0f}/s on {cores} cores = {per_core:,.0f}/s per core; "
        + inproc.replace("token_verification: ", "")
    )
    return text, "met" if per_core >= 5000 else "missed"


def _checkins(scenario: str, floor: float) -> Check:
    def check(record: dict[str, Any]) -> tuple[str, str | None]:
        row = _find(record, scenario, "hub", 32)
        if row is None:
            return "not measured", None
        errors = row.get("errors", 0)
        text = f"{row['throughput']:,.1f}/s at concurrency 32, {errors} errors"
        ok = row["throughput"] >= floor and not errors
        if scenario == "checkin_hot":
            checks = [n for n in record["notes"] if n.startswith("checkin_hot:")]
            spent = [n for n in checks if "OVER-SPENT" in n]
            text += "; over-spend: " + (
                "none in " + str(len(checks)) + " runs" if not spent else "FOUND"
            )
            ok = ok and bool(checks) and not spent
        return text, "met" if ok else "missed"

    return check


def _sync(record: dict[str, Any]) -> tuple[str, str | None]:
    ingest = _find(record, "sync_ingest", "hub", 1)
    rerun = _find(record, "sync_ingest", "rerun", 1)
    if ingest is None or rerun is None:
        return "not measured", None
    sent_again = rerun.get("errors", 0)
    text = (
        f"{ingest['throughput']:,.0f} records/s over HTTP ({ingest['requests']:,} usage records"
        f", {ingest.get('errors', 0)} errors); rerun {rerun['seconds']:.2f} s, "
        f"sent {sent_again}"
    )
    ok = (
        ingest["requests"] >= 100_000
        and not ingest.get("errors")
        and ingest["throughput"] >= 20_000
        and rerun["seconds"] < 2
        and not sent_again
    )
    if ingest["requests"] < 100_000:
        return text + " (fewer than 100,000 records)", "not measured"
    return text, "met" if ok else "missed"


TARGETS: list[tuple[str, Check]] = [
    (
        "directory search ≥ 50 % of floor throughput at concurrency 8",
        _ratio("directory_near", 8, 0.5),
    ),
    (
        "events month query ≥ 50 % of floor throughput at concurrency 8",
        _ratio("events_month", 8, 0.5),
    ),
    ("check-ins ≥ 1,000/s over distinct passes", _checkins("checkin_distinct", 1000)),
    ("check-ins ≥ 200/s on one hot pass, zero over-spend", _checkins("checkin_hot", 200)),
    ("networkStats one year, whole network: p95 < 100 ms", _p95("stats_year_network", 100)),
    ("networkStats one year, one space: p95 < 30 ms", _p95("stats_year_site", 30)),
    ("sync ≥ 20,000 records/s; no-change rerun < 2 s", _sync),
    ("events month first page p95 < 50 ms", _p95("events_month", 50)),
    ("month network ICS feed < 1 s (p95 of whole feeds)", _p95("events_month_ics", 1000)),
    ("token verification ≥ 5,000/s per core", _verification),
]


def targets_table(record: dict[str, Any]) -> str:
    lines = ["| target | measured | status |", "| --- | --- | --- |"]
    for title, check in TARGETS:
        measured, status = check(record)
        lines.append(f"| {title} | {measured} | {status or 'not measured'} |")
    return "\n".join(lines)


def naive_ratios(record: dict[str, Any]) -> str:
    """Issue 7: networkStats from rollups against the naive aggregate over raw uses."""
    lines = []
    for scenario in ("stats_year_network", "stats_year_site"):
        hub = _find(record, scenario, "hub", 1)
        naive = _find(record, scenario, "naive", 1)
        if hub and naive and hub.get("p50_ms") and naive.get("p50_ms"):
            lines.append(
                f"- {scenario}: hub p50 {hub['p50_ms']:.1f} ms, naive aggregate over raw uses "
                f"p50 {naive['p50_ms']:.1f} ms: naive/hub = "
                f"{naive['p50_ms'] / hub['p50_ms']:.2f} (concurrency 1)."
            )
    return "\n".join(lines)


def figures_table(record: dict[str, Any]) -> str:
    lines = [
        "| scenario | target | conc. | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/req "
        "| peak RSS/worker MB | hub/floor | hub/peer |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in record["results"]:
        rss = "/".join(f"{v:.0f}" for v in row.get("peak_rss_mb") or []) or "–"
        lines.append(
            f"| {row['scenario']} | {row['target']} | {row.get('concurrency')} "
            f"| {_num(row.get('throughput'))} | {_num(row.get('p50_ms'))} "
            f"| {_num(row.get('p95_ms'))} | {_num(row.get('p99_ms'))} | {row.get('errors', 0)} "
            f"| {_num(row.get('sql_per_request'))} | {rss} | {_num(row.get('hub_over_floor'), 2)} "
            f"| {_num(row.get('hub_over_peer'), 2)} |"
        )
    return "\n".join(lines)


def main(*paths: str) -> None:
    """Several runs (a main one, then a scenario run again apart) read as one."""
    records = [json.loads(Path(path).read_text()) for path in paths]
    record = records[0]
    for other in records[1:]:
        record["results"] += other["results"]
        record["notes"] += other["notes"]
    print(targets_table(record))
    print()
    print(naive_ratios(record))
    print()
    print(figures_table(record))
