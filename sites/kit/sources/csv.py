"""Spreadsheet exports (LibreOffice, Excel, a membership tool) -> memberships or uses.

French exports come as `;` or `,`, UTF-8 with or without a BOM or Windows-1252, with
dd/mm/yyyy dates and comma decimals. Which column means what is in site.toml:

    [[source]]
    kind = "csv"
    path = "adhesions.csv"
    type = "membership"                  # or "usage", "booking"
    [source.columns]                     # record field = column title (or a {template})
    externalId = "N° adhérent"
    plan = "Formule"
    startsOn = "Début"
    [source.values.kind]                 # optional: the sheet's words -> the hub's values
    "Open space" = "OPEN_SPACE"

A row that cannot be read stops the run with its line number: nothing half-built is sent.
"""

from __future__ import annotations

import csv as csvlib
import io
import math
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sites.kit.config import ConfigError, SiteConfig, SourceConfig
from sites.kit.records import Record, SourceError

TYPES = ("membership", "usage", "booking")
_REQUIRED = {
    "membership": ("externalId", "startsOn"),
    "usage": ("externalId", "date"),
    "booking": ("externalId", "room", "startsAt", "endsAt"),
}


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: what French spreadsheets write."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def delimiter_of(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") >= header.count(",") else ","


def parse_date(value: str) -> date:
    value = value.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (dd/mm/yyyy)")


def parse_datetime(value: str, zone: ZoneInfo) -> datetime:
    value = value.strip()
    for pattern in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return datetime.combine(parse_date(value), time(0), tzinfo=zone)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_decimal(value: str) -> Decimal:
    cleaned = value.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")  # 1.234,50
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def read(source: SourceConfig, site: SiteConfig) -> list[Record]:
    kind = source.options.get("type")
    if kind not in TYPES:
        raise ConfigError(
            f"site.toml: source #{source.index + 1} (csv): `type` is one of {', '.join(TYPES)}"
        )
    columns = source.options.get("columns")
    if not isinstance(columns, dict):
        raise ConfigError(f"site.toml: source #{source.index + 1} (csv) needs [source.columns]")
    for needed in _REQUIRED[kind]:
        if needed not in columns:
            raise ConfigError(
                f"site.toml: source #{source.index + 1} (csv): [source.columns] needs `{needed}`"
            )
    values: dict[str, dict[str, str]] = source.options.get("values", {})
    path = Path(source.path_or_url("path"))
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read {path}: {error.strerror}") from None
    text = decode(raw)
    delimiter = str(source.options.get("delimiter") or delimiter_of(text))
    zone = ZoneInfo(site.timezone)
    file_time = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(microsecond=0)
    reader = csvlib.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = [h.strip() for h in reader.fieldnames or []]
    for field, column in columns.items():
        for name in _TEMPLATE.findall(column) or [column]:
            if name not in headers:
                raise SourceError(
                    f"{path.name}: no column {name!r} (for `{field}`); the columns are "
                    + ", ".join(repr(h) for h in headers)
                )
    records: list[Record] = []
    for row in reader:
        line = reader.line_num
        cells = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue

        def cell(field: str, cells: dict[str, str] = cells) -> str:
            column = columns.get(field)
            if column is None:
                return ""
            if _TEMPLATE.search(column):
                return _TEMPLATE.sub(lambda m: cells.get(m.group(1), ""), column).strip()
            value = cells.get(column, "")
            return values.get(field, {}).get(value, value)

        try:
            record = _record(kind, cell, zone, file_time)
        except (ValueError, KeyError) as error:
            raise SourceError(f"{path.name} line {line}: {error}") from None
        if record is not None:
            records.append(record)
    return records


def _record(kind: str, cell: Any, zone: ZoneInfo, file_time: datetime) -> Record | None:
    external_id = cell("externalId")
    if not external_id:
        raise ValueError("no external id")
    stamp = cell("updatedAt")
    updated_at = parse_datetime(stamp, zone) if stamp else file_time
    if kind == "membership":
        data: dict[str, Any] = {
            "plan": cell("plan"),
            "startsOn": parse_date(cell("startsOn")).isoformat(),
        }
        ends = cell("endsOn")
        data["endsOn"] = parse_date(ends).isoformat() if ends else None
    elif kind == "usage":
        data = {"date": parse_date(cell("date")).isoformat()}
        member, token = cell("membership"), cell("passToken")
        if member:
            data["membership"] = member
        elif token:
            data["passToken"] = token
        else:
            raise ValueError("a use needs a member (`membership`) or a pass token")
        use_kind = cell("kind") or "OPEN_SPACE"
        if use_kind not in ("OPEN_SPACE", "OFFICE", "MEETING_ROOM"):
            raise ValueError(f"kind {use_kind!r} is not OPEN_SPACE, OFFICE or MEETING_ROOM")
        data["kind"] = use_kind
        half_days, hours = cell("halfDays"), cell("hours")
        if half_days:
            data["halfDays"] = max(1, math.ceil(parse_decimal(half_days)))
        elif hours:
            data["halfDays"] = max(1, math.ceil(parse_decimal(hours) / 4))
        else:
            data["halfDays"] = 1
    else:
        data = {
            "room": cell("room"),
            "startsAt": parse_datetime(cell("startsAt"), zone).isoformat(),
            "endsAt": parse_datetime(cell("endsAt"), zone).isoformat(),
        }
        if cell("membership"):
            data["membership"] = cell("membership")
    return Record(kind, external_id[:128], updated_at, data)
