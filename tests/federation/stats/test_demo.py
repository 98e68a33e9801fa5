"""The demo network's seven months give every statistic something to show."""

from __future__ import annotations

from datetime import date

from federation.demo import load_demo
from federation.demo.usage import window
from federation.kit.clock import today_in_paris
from federation.usage.periods import Period, add_months, period_start
from tests.federation.stats.helpers import COORDINATOR, FULL_QUERY, variables
from tests.support import Hub


async def test_the_demo_network_has_figures_for_every_statistic(hub: Hub) -> None:
    await load_demo(hub.db)
    first, last = window(today_in_paris())
    found = (await hub.data(FULL_QUERY, variables(str(first), str(last)), viewer=COORDINATOR))[
        "networkStats"
    ]

    totals = found["totals"]
    assert totals["uses"] > 5000
    assert totals["activeCoworkers"] > 300
    assert totals["newMembers"] > 50
    assert totals["crossSiteVisits"] > 50
    assert 0.1 < totals["occupancyRate"] < 0.8
    assert len(found["series"]) == 7
    assert all(p["uses"] > 0 and p["activeCoworkers"] > 0 for p in found["series"])

    spaces = {row["site"]["slug"]: row for row in found["bySite"]}
    assert len(spaces) == 12
    kinds = {k["kind"] for row in spaces.values() for k in row["usesByKind"] if k["count"]}
    assert kinds == {"OPEN_SPACE", "OFFICE", "MEETING_ROOM"}
    assert spaces["casaco"]["activeCoworkers"] >= 90  # about 100 coworkers
    assert 0.35 < spaces["casaco"]["occupancyRate"] < 0.8  # on 45 desks

    cells = found["visits"]
    assert any(not v["suppressed"] and v["count"] > 0 for v in cells)
    assert any(v["suppressed"] for v in cells)

    # La Fontaine, over the last three whole months: around its goal of 200 uses a month
    # (August, when the town empties, aside), and a previous range to compare with.
    this_month = period_start(Period.MONTH, today_in_paris())
    first, last = add_months(this_month, -3), this_month - date.resolution
    fontaine = (
        await hub.data(
            FULL_QUERY, variables(str(first), str(last), sites=["la-fontaine"]), viewer=COORDINATOR
        )
    )["networkStats"]
    months = {p["period"]: p["uses"] for p in fontaine["series"]}
    assert len(months) == 3
    assert all(150 <= uses <= 260 for period, uses in months.items() if not period.endswith("-08"))
    assert fontaine["previous"]["totals"]["uses"] > 0
    assert fontaine["previous"]["totals"]["newMembers"] >= 0
