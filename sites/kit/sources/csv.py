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
from functools import lru_cache
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


_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")


@lru_cache(maxsize=4096)  # an export repeats its days and stamps: each is parsed once
def parse_date(value: str) -> date:
    value = value.strip()
    found = _DAY_FIRST.fullmatch(value)
    if found and found.group(4) is None:
        day, month, year = found.group(1, 2, 3)
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            pass  # 31/02/2026: the message below
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (dd/mm/yyyy)")


@lru_cache(maxsize=4096)
def parse_datetime(value: str, zone: ZoneInfo) -> datetime:
    value = value.strip()
    found = _DAY_FIRST.fullmatch(value)
    if found and found.group(4) is not None:
        day, month, year, hour, minute, second = found.groups()
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                tzinfo=zone,
            )
        except ValueError:
            pass
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
    reader = csvlib.reader(io.StringIO(text), delimiter=delimiter)
    headers = [h.strip() for h in next(reader, [])]
    # The last column of a name wins, as in a dict of the row.
    position = {name: index for index, name in enumerate(headers)}
    for field, column in columns.items():
        for name in _TEMPLATE.findall(column) or [column]:
            if name not in position:
                raise SourceError(
                    f"{path.name}: no column {name!r} (for `{field}`); the columns are "
                    + ", ".join(repr(h) for h in headers)
                )
    # How each record field comes from a row, decided once: a column (through the
    # site's words for its values) or a template of several.
    plain = [
        (field, position[column], values.get(field, {}))
        for field, column in columns.items()
        if not _TEMPLATE.search(column)
    ]
    templated = [
        (field, column, {name: position[name] for name in _TEMPLATE.findall(column)})
        for field, column in columns.items()
        if _TEMPLATE.search(column)
    ]
    records: list[Record] = []
    for row in reader:
        cells = [value.strip() for value in row]
        if not any(cells):
            continue
        cells += [""] * (len(headers) - len(cells))
        fields: dict[str, str] = {}
        for field, index, words in plain:
            value = cells[index]
            fields[field] = words.get(value, value)
        for field, template, places in templated:
            fields[field] = _filled(template, places, cells)
        try:
            record = _record(kind, fields, zone, file_time)
        except (ValueError, KeyError) as error:
            raise SourceError(f"{path.name} line {reader.line_num}: {error}") from None
        if record is not None:
            records.append(record)
    return records


@lru_cache(maxsize=4096)
def _iso_date(value: str) -> str:
    return parse_date(value).isoformat()


@lru_cache(maxsize=1024)
def _half_days(value: str, per_half_day: int) -> int:
    """Half-days from a count of them (per_half_day 1) or of hours (4), rounded up."""
    return max(1, math.ceil(parse_decimal(value) / per_half_day))


def _filled(template: str, places: dict[str, int], cells: list[str]) -> str:
    return _TEMPLATE.sub(lambda found: cells[places[found.group(1)]], template).strip()


def _record(
    kind: str, fields: dict[str, str], zone: ZoneInfo, file_time: datetime
) -> Record | None:
    cell = fields.get
    external_id = cell("externalId", "")
    if not external_id:
        raise ValueError("no external id")
    stamp = cell("updatedAt", "")
    updated_at = parse_datetime(stamp, zone) if stamp else file_time
    if kind == "membership":
        data: dict[str, Any] = {
            "plan": cell("plan", ""),
            "startsOn": _iso_date(cell("startsOn", "")),
        }
        ends = cell("endsOn", "")
        data["endsOn"] = _iso_date(ends) if ends else None
    elif kind == "usage":
        data = {"date": _iso_date(cell("date", ""))}
        member, token = cell("membership", ""), cell("passToken", "")
        if member:
            data["membership"] = member
        elif token:
            data["passToken"] = token
        else:
            raise ValueError("a use needs a member (`membership`) or a pass token")
        use_kind = cell("kind", "") or "OPEN_SPACE"
        if use_kind not in ("OPEN_SPACE", "OFFICE", "MEETING_ROOM"):
            raise ValueError(f"kind {use_kind!r} is not OPEN_SPACE, OFFICE or MEETING_ROOM")
        data["kind"] = use_kind
        half_days, hours = cell("halfDays", ""), cell("hours", "")
        if half_days:
            data["halfDays"] = _half_days(half_days, 1)
        elif hours:
            data["halfDays"] = _half_days(hours, 4)
        else:
            data["halfDays"] = 1
    else:
        data = {
            "room": cell("room", ""),
            "startsAt": parse_datetime(cell("startsAt", ""), zone).isoformat(),
            "endsAt": parse_datetime(cell("endsAt", ""), zone).isoformat(),
        }
        if cell("membership", ""):
            data["membership"] = cell("membership", "")
    return Record(kind, external_id[:128], updated_at, data)
