"""The iCalendar source on the feeds the real world writes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import Record, SourceError
from sites.kit.sources import ics


def read(tmp_path: Path, body: str, *, raw: bytes | None = None) -> dict[str, Record]:
    feed = tmp_path / "feed.ics"
    if raw is not None:
        feed.write_bytes(raw)
    else:
        feed.write_text(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n",
            encoding="utf-8",
        )
    site = SiteConfig(folder=tmp_path, site="casaco", hub="http://hub")
    source = SourceConfig("ics", {"url": "feed.ics"}, tmp_path, 0)
    return {r.external_id: r for r in ics.read(source, site)}


def event(uid: str, *lines: str) -> str:
    return (
        "BEGIN:VEVENT\r\nUID:"
        + uid
        + "\r\n"
        + "".join(f"{x}\r\n" for x in lines)
        + "END:VEVENT\r\n"
    )


def test_a_tzid_without_vtimezone_is_read_from_the_zone_database(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        event(
            "a",
            "DTSTART;TZID=Europe/Paris:20260108T183000",
            "DTEND;TZID=Europe/Paris:20260108T210000",
            "SUMMARY:Casapéro",
        ),
    )
    assert found["a"].data["startsAt"] == "2026-01-08T17:30:00Z"
    assert found["a"].data["endsAt"] == "2026-01-08T20:00:00Z"
    assert found["a"].data["timezone"] == "Europe/Paris"


def test_windows_zone_names_are_mapped_to_iana_zones(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        event(
            "w",
            "DTSTART;TZID=Romance Standard Time:20260708T100000",
            "DTEND;TZID=Romance Standard Time:20260708T110000",
            "SUMMARY:Réunion",
        ),
    )
    assert found["w"].data["startsAt"] == "2026-07-08T08:00:00Z"  # CEST


def test_floating_times_are_read_in_the_feed_s_x_wr_timezone(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        "X-WR-TIMEZONE:America/Martinique\r\n"
        + event("f", "DTSTART:20260108T090000", "DTEND:20260108T100000", "SUMMARY:x"),
    )
    assert found["f"].data["startsAt"] == "2026-01-08T13:00:00Z"


def test_all_day_events_and_events_without_dtend(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        event("d", "DTSTART;VALUE=DATE:20260321", "SUMMARY:Week-end")
        + event("n", "DTSTART;TZID=Europe/Paris:20260110T100000", "SUMMARY:Point"),
    )
    assert found["d"].data["allDay"] is True
    assert found["d"].data["startsAt"] == "2026-03-20T23:00:00Z"
    assert found["d"].data["endsAt"] == "2026-03-21T23:00:00Z"
    assert found["n"].data["allDay"] is False
    assert found["n"].data["endsAt"] is None


ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def test_duplicate_vtimezones_are_harmless(tmp_path: Path) -> None:
    found = read(
        tmp_path, ZONE + ZONE + event("z", "DTSTART;TZID=Europe/Paris:20260108T183000", "SUMMARY:x")
    )
    assert found["z"].data["startsAt"] == "2026-01-08T17:30:00Z"


def test_recurrence_exceptions_and_changed_occurrences(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        event(
            "r",
            "DTSTART;TZID=Europe/Paris:20260108T183000",
            "RRULE:FREQ=WEEKLY;BYDAY=TH",
            "EXDATE;TZID=Europe/Paris:20260115T183000",
            "SUMMARY:Casapéro",
            "LAST-MODIFIED:20260101T000000Z",
        )
        + event(
            "r",
            "RECURRENCE-ID;TZID=Europe/Paris:20260122T183000",
            "DTSTART;TZID=Europe/Paris:20260122T193000",
            "SUMMARY:Casapéro décalé",
            "LAST-MODIFIED:20260110T000000Z",
        ),
    )
    data = found["r"].data
    assert data["rrule"] == "FREQ=WEEKLY;BYDAY=TH"
    assert data["exdates"] == ["2026-01-15T17:30:00Z"]
    assert data["overrides"] == [
        {
            "recurrenceId": "2026-01-22T17:30:00Z",
            "startsAt": "2026-01-22T18:30:00Z",
            "title": "Casapéro décalé",
        }
    ]
    assert found["r"].updated_at.isoformat() == "2026-01-10T00:00:00+00:00"


def test_google_split_series_uids(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        event(
            "abc@google.com",
            "DTSTART;TZID=Europe/Paris:20260105T090000",
            "RRULE:FREQ=WEEKLY;UNTIL=20260301T000000Z",
            "SUMMARY:Permanence",
        )
        + event(
            "abc_R20260302T080000@google.com",
            "DTSTART;TZID=Europe/Paris:20260302T100000",
            "RRULE:FREQ=WEEKLY",
            "SUMMARY:Permanence (nouvel horaire)",
        )
        + event(
            "abc_R20260302T080000@google.com",
            "RECURRENCE-ID;TZID=Europe/Paris:20260309T100000",
            "DTSTART;TZID=Europe/Paris:20260309T110000",
            "SUMMARY:Permanence",
        )
        + event(
            "abc_R20260105T080000@google.com",
            "RECURRENCE-ID;TZID=Europe/Paris:20260112T090000",
            "DTSTART;TZID=Europe/Paris:20260112T100000",
            "SUMMARY:Permanence",
        ),
    )
    assert set(found) == {"abc@google.com", "abc_R20260302T080000@google.com"}
    assert len(found["abc_R20260302T080000@google.com"].data["overrides"]) == 1
    # An instance Google filed under a split UID whose series has the base UID.
    assert found["abc@google.com"].data["overrides"][0]["recurrenceId"] == "2026-01-12T08:00:00Z"


def test_broken_lines_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "sites.ics"):
        found = read(
            tmp_path,
            event(
                "b",
                "DTSTART;TZID=Europe/Paris:20260108T183000",
                "this line is not iCalendar",
                "SUMMARY:Encore là",
            ),
        )
    assert found["b"].data["title"] == "Encore là"
    assert "line" in caplog.text
    assert "not an iCalendar line" in caplog.text


def test_a_missing_feed_is_a_clear_error(tmp_path: Path) -> None:
    site = SiteConfig(folder=tmp_path, site="casaco", hub="http://hub")
    with pytest.raises(SourceError, match="cannot read the calendar"):
        ics.read(SourceConfig("ics", {"url": "nope.ics"}, tmp_path, 0), site)
