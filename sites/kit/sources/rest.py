"""A coworking-management REST API, modelled on Cobot's: memberships, check-ins and
bookings as paginated JSON (`{"items": [...], "next": "<url>" | null}`).

    [[source]]
    kind = "rest"
    url = "https://mutualab.example.org/api"
    token_env = "MUTUALAB_API_TOKEN"        # the API's own token, from the environment

`url` may also be a folder holding the same pages as files (`memberships`, ...), an
export of the API for offline runs.

A check-in (`validFrom`/`validUntil`) becomes a use: a half-day up to 5 hours, else a day.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import httpx

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import Record, SourceError

HALF_DAY_HOURS = 5
MAX_PAGES = 10_000


def _get(client: httpx.Client, url: str) -> Any:
    if not url.startswith(("http://", "https://")):
        # An export of the API saved to files (same pages), for offline runs and demos.
        try:
            return json.loads(Path(url).read_text(encoding="utf-8"))
        except OSError as error:
            raise SourceError(f"cannot read {url}: {error.strerror}") from None
    response = client.get(url)
    response.raise_for_status()
    return response.json()


def pages(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return items
        try:
            body = _get(client, next_url)
        except (httpx.HTTPError, ValueError) as error:
            raise SourceError(f"cannot read {next_url}: {error}") from None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise SourceError(f"{next_url}: expected {{items: [...], next: ...}}")
        items.extend(body["items"])
        following = body.get("next")
        if following is None:
            next_url = None
        elif next_url.startswith(("http://", "https://")):
            next_url = urljoin(next_url, str(following))
        else:
            next_url = str(Path(next_url).parent / str(following))
    raise SourceError(f"{url}: more than {MAX_PAGES} pages")


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read(source: SourceConfig, site: SiteConfig) -> list[Record]:
    if not source.options.get("url"):
        raise SourceError(f"source #{source.index + 1} (rest): `url` is the API's http(s) URL")
    base = source.path_or_url("url").rstrip("/")
    headers = {"Accept": "application/json"}
    token_env = source.options.get("token_env")
    if token_env and os.environ.get(str(token_env)):
        headers["Authorization"] = f"Bearer {os.environ[str(token_env)]}"
    zone = ZoneInfo(site.timezone)
    records: list[Record] = []
    with httpx.Client(headers=headers, timeout=30) as client:
        for item in pages(client, f"{base}/memberships"):
            try:
                records.append(
                    Record(
                        "membership",
                        str(item["id"]),
                        _moment(item["updatedAt"]),
                        {
                            "plan": str((item.get("plan") or {}).get("name", "")),
                            "startsOn": item["startsOn"],
                            "endsOn": item.get("canceledTo"),
                        },
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise SourceError(f"{base}/memberships: item {item!r}: {error}") from None
        for item in pages(client, f"{base}/check_ins"):
            try:
                start, end = _moment(item["validFrom"]), _moment(item["validUntil"])
                hours = (end - start).total_seconds() / 3600
                records.append(
                    Record(
                        "usage",
                        str(item["id"]),
                        _moment(item.get("updatedAt") or item["validFrom"]),
                        {
                            "date": start.astimezone(zone).date().isoformat(),
                            "kind": "OPEN_SPACE",
                            "halfDays": 1 if hours <= HALF_DAY_HOURS else 2,
                            "membership": str(item["membershipId"]),
                        },
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise SourceError(f"{base}/check_ins: item {item!r}: {error}") from None
        for item in pages(client, f"{base}/bookings"):
            try:
                data: dict[str, Any] = {
                    "room": str((item.get("resource") or {}).get("name", "Salle")),
                    "startsAt": _moment(item["from"]).isoformat(),
                    "endsAt": _moment(item["to"]).isoformat(),
                }
                if item.get("membershipId"):
                    data["membership"] = str(item["membershipId"])
                records.append(
                    Record(
                        "booking",
                        str(item["id"]),
                        _moment(item.get("updatedAt") or item["from"]),
                        data,
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise SourceError(f"{base}/bookings: item {item!r}: {error}") from None
    return records
