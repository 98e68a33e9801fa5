"""The REST source against a local fake of a Cobot-like API."""

from __future__ import annotations

from pathlib import Path

import pytest

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import SourceError
from sites.kit.sources import rest
from tests.sites.fake_api import TOKEN, fake_api

RESOURCES = {
    "memberships": [
        {
            "id": f"mb-{i}",
            "plan": {"name": "Résident"},
            "startsOn": "2026-01-0" + str(i),
            "canceledTo": None,
            "updatedAt": "2026-01-01T09:00:00Z",
        }
        for i in range(1, 6)
    ],
    "check_ins": [
        {
            "id": "ci-1",
            "membershipId": "mb-1",
            "validFrom": "2026-02-02T09:00:00+01:00",
            "validUntil": "2026-02-02T12:30:00+01:00",
        },
        {
            "id": "ci-2",
            "membershipId": "mb-2",
            "validFrom": "2026-02-02T23:30:00Z",
            "validUntil": "2026-02-03T10:00:00Z",
        },
    ],
    "bookings": [
        {
            "id": "bk-1",
            "resource": {"name": "Salle Grand-Place"},
            "membershipId": "mb-1",
            "from": "2026-02-03T10:00:00+01:00",
            "to": "2026-02-03T12:00:00+01:00",
        },
    ],
}


def test_every_page_of_memberships_check_ins_and_bookings_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COBOT_TOKEN", TOKEN)
    site = SiteConfig(folder=tmp_path, site="mutualab", hub="http://hub")
    with fake_api(RESOURCES) as url:
        source = SourceConfig("rest", {"url": url, "token_env": "COBOT_TOKEN"}, tmp_path, 0)
        records = {r.key: r for r in rest.read(source, site)}
    assert sum(1 for key in records if key.startswith("membership:")) == 5
    assert records["usage:ci-1"].data == {
        "date": "2026-02-02",
        "kind": "OPEN_SPACE",
        "halfDays": 1,
        "membership": "mb-1",
    }
    # Checked in at 00:30 Paris time for 9.5 hours: a day, on the local date.
    assert records["usage:ci-2"].data["date"] == "2026-02-03"
    assert records["usage:ci-2"].data["halfDays"] == 2
    assert records["booking:bk-1"].data["room"] == "Salle Grand-Place"


def test_an_api_that_refuses_is_a_clear_error(tmp_path: Path) -> None:
    site = SiteConfig(folder=tmp_path, site="mutualab", hub="http://hub")
    with fake_api(RESOURCES) as url, pytest.raises(SourceError, match="401"):
        rest.read(SourceConfig("rest", {"url": url}, tmp_path, 0), site)
