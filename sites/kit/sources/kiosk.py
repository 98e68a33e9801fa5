"""The visit log a check-in kiosk keeps while offline: one JSON object per line,
`{"id": ..., "passToken": ..., "at": "2026-03-02T09:12:00+01:00", "kind": "OPEN_SPACE"}`.
Each visit becomes a use carrying the pass token; the hub reconciles it with the pass."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import Record, SourceError


def read(source: SourceConfig, site: SiteConfig) -> list[Record]:
    path = Path(source.path_or_url("path"))
    zone = ZoneInfo(site.timezone)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SourceError(f"cannot read {path}: {error.strerror}") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            visit = json.loads(line)
            at = datetime.fromisoformat(str(visit["at"]).replace("Z", "+00:00"))
            at = at if at.tzinfo else at.replace(tzinfo=zone)
            records.append(
                Record(
                    "usage",
                    str(visit["id"]),
                    at,
                    {
                        "date": at.astimezone(zone).date().isoformat(),
                        "kind": str(visit.get("kind", "OPEN_SPACE")),
                        "halfDays": int(visit.get("halfDays", 1)),
                        "passToken": str(visit["passToken"]),
                        "at": at.isoformat(),
                    },
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise SourceError(f"{path.name} line {number}: {error}") from None
    return records
