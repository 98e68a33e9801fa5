"""One run of a space's adapter: read every source, keep what changed since the last run,
send it in batches, remember what the hub accepted."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sites.kit import config as site_config
from sites.kit.client import Hub
from sites.kit.records import Record, SourceError, delete
from sites.kit.sources import read
from sites.kit.state import State


@dataclass
class Report:
    sent: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.sent.values()) + sum(self.deleted.values())


def collect(site: site_config.SiteConfig) -> list[Record]:
    """Every record of every source; a broken source stops everything (SourceError)."""
    records: dict[str, Record] = {}
    for source in site.sources:
        for record in read(source, site):
            records[record.key] = record
    return list(records.values())


def changes(
    records: list[Record], state: State, now: datetime
) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """The records to send (new or changed, then deletes) and the state each one leads to."""
    outgoing: list[dict[str, Any]] = []
    after: dict[str, str | None] = {}
    current = {r.key: r for r in records}
    sent = state.sent
    changed = [
        (key, record, digest)
        for key, record in current.items()
        if sent.get(key) != (digest := record.digest)
    ]
    # Memberships first: the uses and bookings of a batch may name them.
    order = {"site_profile": 0, "membership": 1, "usage": 2, "booking": 3, "event": 4}
    changed.sort(key=lambda change: (order.get(change[1].type, 9), change[0]))
    for key, record, digest in changed:
        outgoing.append(record.upsert())
        after[key] = digest
    for key in sorted(sent.keys() - current.keys()):
        outgoing.append(delete(key, now))
        after[key] = None
    return outgoing, after


def run(
    folder: Path,
    *,
    dry_run: bool = False,
    environ: dict[str, str] | None = None,
    hub_factory: Callable[[str, str, str], Hub] | None = None,
    say: Callable[[str], None] = print,
) -> Report:
    env = dict(os.environ if environ is None else environ)
    site = site_config.load(folder, env)
    state = State.load(site.state_file)
    records = collect(site)
    now = datetime.now(UTC).replace(microsecond=0)
    outgoing, after = changes(records, state, now)
    report = Report()
    for record in outgoing:
        (report.deleted if record["op"] == "delete" else report.sent)[record["type"]] += 1
    if dry_run:
        say(f"{site.site}: {len(records)} records read; would send {report.total} to {site.hub}")
        for kind in sorted(set(report.sent) | set(report.deleted)):
            say(f"  {kind}: {report.sent[kind]} upserts, {report.deleted[kind]} deletes")
        return report
    if not outgoing:
        say(f"{site.site}: nothing changed since the last run")
        return report
    client_id, secret = env.get("SITE_CLIENT_ID"), env.get("SITE_CLIENT_SECRET")
    if not client_id or not secret:
        raise site_config.ConfigError(
            "set SITE_CLIENT_ID and SITE_CLIENT_SECRET (the space's OAuth client)"
        )
    make = hub_factory or (lambda url, cid, sec: Hub(url, cid, sec))
    hub = make(site.hub, client_id, secret)
    try:
        for start in range(0, len(outgoing), site.batch_size):
            chunk = outgoing[start : start + site.batch_size]
            batch = {
                "site": site.site,
                "batchId": uuid.uuid4().hex,
                "source": f"sites-kit {folder.name}",
                "records": chunk,
            }
            answer = hub.post_batch(batch)
            report.batches += 1
            refused = {r["index"] for r in answer.get("rejected", [])}
            report.rejected.extend(answer.get("rejected", []))
            for key, value in answer.get("applied", {}).items():
                report.applied[key] += int(value)
            for index, record in enumerate(chunk):
                if index in refused:
                    continue  # sent again next run, once the source or the hub is fixed
                key = f"{record['type']}:{record['externalId']}"
                digest = after[key]
                if digest is None:
                    state.sent.pop(key, None)
                else:
                    state.sent[key] = digest
            state.save()
    finally:
        hub.close()
    applied = ", ".join(f"{k} {v}" for k, v in sorted(report.applied.items()))
    say(f"{site.site}: sent {report.total} records in {report.batches} batches ({applied})")
    for rejection in report.rejected:
        say(
            f"  rejected {rejection.get('type')} {rejection.get('externalId')!r}: "
            f"{rejection.get('reason')}"
        )
    return report


__all__ = ["Report", "SourceError", "changes", "collect", "run"]
