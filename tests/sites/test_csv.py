"""The spreadsheet source on French exports."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import SourceError
from sites.kit.sources import csv

USES: dict[str, Any] = {
    "type": "usage",
    "path": "uses.csv",
    "columns": {
        "externalId": "{Date}-{Adhérent}",
        "membership": "Adhérent",
        "date": "Date",
        "kind": "Espace",
        "hours": "Durée (h)",
    },
    "values": {"kind": {"Open space": "OPEN_SPACE", "Salle de réunion": "MEETING_ROOM"}},
}


def read(tmp_path: Path, raw: bytes, options: dict[str, Any] = USES) -> list[Any]:
    (tmp_path / options["path"]).write_bytes(raw)
    site = SiteConfig(folder=tmp_path, site="casaco", hub="http://hub")
    return csv.read(SourceConfig("csv", options, tmp_path, 0), site)


TABLE = (
    "Date{d}Adhérent{d}Espace{d}Durée (h)\r\n05/01/2026{d}CAS-1{d}Open space{d}{h}\r\n"
    "06/01/2026{d}CAS-2{d}Salle de réunion{d}2\r\n"
)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("utf-8", ";"), ("cp1252", ";"), ("utf-8", ","), ("cp1252", ",")],
)
def test_french_exports_in_every_encoding_and_delimiter(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    hours = '"7,5"' if delimiter == "," else "7,5"
    records = read(tmp_path, TABLE.format(d=delimiter, h=hours).encode(encoding))
    first, second = records
    assert first.external_id == "05/01/2026-CAS-1"
    assert first.data == {
        "date": "2026-01-05",
        "membership": "CAS-1",
        "kind": "OPEN_SPACE",
        "halfDays": 2,
    }
    assert second.data["kind"] == "MEETING_ROOM"
    assert second.data["halfDays"] == 1


def test_memberships_with_dd_mm_yyyy_dates_and_an_update_column(tmp_path: Path) -> None:
    options = {
        "type": "membership",
        "path": "m.csv",
        "columns": {
            "externalId": "N°",
            "plan": "Formule",
            "startsOn": "Début",
            "endsOn": "Fin",
            "updatedAt": "Modifié le",
        },
    }
    raw = "N°;Formule;Début;Fin;Modifié le\nA1;Régulier;01/09/2025;;02/09/2025 10:00\n"
    [record] = read(tmp_path, raw.encode("cp1252"), options)
    assert record.data == {"plan": "Régulier", "startsOn": "2025-09-01", "endsOn": None}
    assert record.updated_at.isoformat() == "2025-09-02T10:00:00+02:00"


def test_a_bad_row_names_its_line_and_nothing_is_kept(tmp_path: Path) -> None:
    raw = TABLE.format(d=";", h="4") + "31/02/2026;CAS-3;Open space;4\r\n"
    with pytest.raises(SourceError, match="line 4"):
        read(tmp_path, raw.encode())


def test_a_mapped_column_that_is_missing_is_named(tmp_path: Path) -> None:
    raw = "Jour;Adhérent\n05/01/2026;CAS-1\n"
    with pytest.raises(SourceError, match="no column 'Date'"):
        read(tmp_path, raw.encode())


def test_day_first_dates_and_times_read_with_one_or_two_digits_and_impossible_ones_fail() -> None:
    zone = __import__("zoneinfo").ZoneInfo("Europe/Paris")
    assert csv.parse_date("5/1/2026") == csv.parse_date("05/01/2026") == date(2026, 1, 5)
    assert csv.parse_date("2026-01-05") == date(2026, 1, 5)
    assert csv.parse_datetime("05/01/2026 9:30", zone) == datetime(2026, 1, 5, 9, 30, tzinfo=zone)
    assert csv.parse_datetime("05/01/2026 09:30:15", zone).second == 15
    with pytest.raises(ValueError, match="is not a date"):
        csv.parse_date("31/02/2026")
