"""/stats/export.csv: the figures of networkStats for spreadsheets, same token and roles."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest

from federation.access import ANONYMOUS, Viewer
from tests.federation.stats.helpers import (
    COORDINATOR,
    COWORKER,
    FULL_QUERY,
    make_space,
    manager_of,
    record_all,
    use,
    variables,
    weekdays,
)
from tests.support import Hub


async def export(hub: Hub, viewer: Viewer = COORDINATOR, **params: str) -> httpx.Response:
    return await hub.get("/stats/export.csv", params=params, viewer=viewer)


def parse(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def number(cell: str) -> int | None:
    return int(cell) if cell else None


def rate(cell: str) -> float | None:
    return float(cell.replace(",", ".")) if cell else None


async def busy_network(hub: Hub) -> tuple[Any, Any, Any]:
    a, b, c = [await make_space(hub.db, name=n) for n in ("Alpha", "Bêta", "Gamma")]
    march = weekdays(date(2025, 3, 1), date(2025, 3, 31))
    await record_all(
        hub.db,
        [
            *(use(a, d, f"a:{i}", units=2) for d in march[:10] for i in range(6)),
            *(use(b, d, f"a:{i}", home=a) for d in march[10:12] for i in range(6)),
            *(use(c, d, f"c:{i}") for d in march[5:8] for i in range(3)),
            use(a, date(2025, 2, 10), "a:0"),
        ],
    )
    return a, b, c


async def test_the_export_parses_as_csv_and_holds_the_figures_of_network_stats(hub: Hub) -> None:
    await busy_network(hub)
    params = {"from": "2025-02-15", "to": "2025-03-31", "groupBy": "MONTH"}
    rows = parse(await export(hub, **params))
    graphql = (
        await hub.data(FULL_QUERY, variables("2025-02-15", "2025-03-31"), viewer=COORDINATOR)
    )["networkStats"]
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)

    for section, totals in (
        ("total", graphql["totals"]),
        ("previous", graphql["previous"]["totals"]),
    ):
        (row,) = by_section[section]
        assert {
            "uses": number(row["uses"]),
            "activeCoworkers": number(row["active_coworkers"]),
            "newMembers": number(row["new_members"]),
            "occupancyRate": rate(row["occupancy_rate"]),
            "crossSiteVisits": number(row["cross_site_visits"]),
        } == totals
    assert [
        {
            "period": r["period"],
            "from": r["from"],
            "to": r["to"],
            "uses": number(r["uses"]),
            "activeCoworkers": number(r["active_coworkers"]),
            "occupancyRate": rate(r["occupancy_rate"]),
        }
        for r in by_section["period"]
    ] == graphql["series"]
    assert [
        {
            "site": {"slug": r["site"], "name": r["site_name"]},
            "uses": number(r["uses"]),
            "usesByKind": [
                {"kind": "OPEN_SPACE", "count": number(r["open_space"])},
                {"kind": "OFFICE", "count": number(r["office"])},
                {"kind": "MEETING_ROOM", "count": number(r["meeting_room"])},
            ],
            "activeCoworkers": number(r["active_coworkers"]),
            "suppressed": r["suppressed"] == "1",
            "occupancyRate": rate(r["occupancy_rate"]),
        }
        for r in by_section["site"]
    ] == graphql["bySite"]
    assert [
        {
            "fromSite": {"slug": r["home_site"]},
            "toSite": {"slug": r["site"]},
            "count": number(r["cross_site_visits"]),
            "suppressed": r["suppressed"] == "1",
        }
        for r in by_section["visit"]
    ] == graphql["visits"]
    assert by_section["site"][1]["site_name"] == "Bêta"
    assert by_section["site"][2]["suppressed"] == "1"  # Gamma: 3 people


async def test_decimal_commas_are_there_for_french_spreadsheets(hub: Hub) -> None:
    await busy_network(hub)
    point = parse(await export(hub, **{"from": "2025-03-01", "to": "2025-03-31"}))
    comma = parse(
        await export(hub, **{"from": "2025-03-01", "to": "2025-03-31", "decimal": "comma"})
    )
    assert "." in point[0]["occupancy_rate"]
    assert comma[0]["occupancy_rate"] == point[0]["occupancy_rate"].replace(".", ",")
    assert [r["uses"] for r in comma] == [r["uses"] for r in point]


async def test_a_manager_exports_their_own_spaces_and_the_network_totals(hub: Hub) -> None:
    a, _, _ = await busy_network(hub)
    rows = parse(await export(hub, manager_of(a), **{"from": "2025-03-01", "to": "2025-03-31"}))
    assert [r["site"] for r in rows if r["section"] == "site"] == [a.slug]
    assert all(a.slug in (r["site"], r["home_site"]) for r in rows if r["section"] == "visit")


@pytest.mark.parametrize(
    ("viewer", "status", "code"),
    [(ANONYMOUS, 401, "UNAUTHENTICATED"), (COWORKER, 403, "FORBIDDEN")],
)
async def test_without_the_right_token_the_export_answers_json(
    hub: Hub, viewer: Viewer, status: int, code: str
) -> None:
    response = await export(hub, viewer, **{"from": "nonsense"})
    assert response.status_code == status
    assert response.json()["error"] == code


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2025-03-02", "to": "2025-03-01"},
        {"from": "2020-01-01", "to": "2025-01-01"},
        {"from": "2025-01-01", "to": "2025-03-31", "sites": "nowhere"},
        {"from": "2024-01-01", "to": "2025-01-01", "groupBy": "DAY"},
        {"from": "2025-01-01"},
        {"from": "2025-13-01", "to": "2025-12-31"},
        {"from": "2025-01-01", "to": "2025-03-31", "groupBy": "FORTNIGHT"},
        {"from": "2025-01-01", "to": "2025-03-31", "decimal": "semicolon"},
    ],
    ids=[
        "from-after-to",
        "over-five-years",
        "unknown-space",
        "day-over-a-year",
        "no-to",
        "not-a-date",
        "unknown-grouping",
        "unknown-decimal",
    ],
)
async def test_bad_arguments_are_400_with_a_json_message(hub: Hub, params: dict[str, str]) -> None:
    await make_space(hub.db)
    response = await export(hub, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "BAD_USER_INPUT"
    assert body["message"]


async def test_the_export_can_be_limited_to_some_spaces(hub: Hub) -> None:
    a, b, _ = await busy_network(hub)
    rows = parse(
        await export(
            hub, **{"from": "2025-03-01", "to": "2025-03-31", "sites": f"{a.slug},{b.slug}"}
        )
    )
    assert [r["site"] for r in rows if r["section"] == "site"] == [a.slug, b.slug]
