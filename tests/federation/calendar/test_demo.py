"""The demo calendar: Casaco's weekly rhythm, La Fontaine, Lille's information sessions,
exceptions and a cancellation, and a feed that imports without duplicates."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import recurring_ical_events
from icalendar import Calendar

from federation.demo import calendar, directory
from tests.federation.calendar.support import COORDINATOR, PARIS
from tests.support import Hub

EVENTS = """
query($from: DateTime!, $to: DateTime!, $site: String, $after: String) {
  events(from: $from, to: $to, site: $site, first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { title category status startsAt confirmedCount source { uid }
                   recurrence { exdates } } }
  }
}
"""


async def test_the_demo_calendar_has_the_spaces_rhythm_and_imports_cleanly(hub: Hub) -> None:
    async with hub.db.transaction() as session:
        site_ids = await directory.load(session)
        await calendar.load(session, site_ids)
    today = datetime.now(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {
        "from": (today - timedelta(days=90)).isoformat(),
        "to": (today + timedelta(days=90)).isoformat(),
    }
    nodes = []
    after = None
    while True:
        page = (await hub.data(EVENTS, {**window, "after": after}, viewer=COORDINATOR))["events"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    titles = Counter(node["title"] for node in nodes)
    assert titles["Co-développement"] >= 20
    assert titles["Casapéro"] >= 24
    assert titles["Distribution de La Ruche qui dit Oui"] >= 24
    assert titles["CASAcadémie : formation du mois"] >= 5
    assert any("exceptionnellement" in title for title in titles)
    categories = {node["category"] for node in nodes}
    assert {"WORKSHOP", "CO_DEVELOPMENT", "AFTERWORK", "TRAINING", "INFO_SESSION"} <= categories
    assert {"MARKET", "MEETING"} <= categories
    assert any(node["status"] == "CANCELLED" for node in nodes)
    assert any(node["status"] == "FULL" for node in nodes)  # co-development fills up
    assert sum(node["confirmedCount"] for node in nodes) > 100
    lille = await hub.data(EVENTS, {**window, "site": "la-grappe"})
    assert lille["events"]["totalCount"] >= 5

    response = await hub.get(
        "/calendar.ics",
        params={
            "from": (today - timedelta(days=90)).date().isoformat(),
            "to": (today + timedelta(days=90)).date().isoformat(),
        },
    )
    feed = Calendar.from_ical(response.content)
    expanded = recurring_ical_events.of(feed).between(
        today - timedelta(days=90), today + timedelta(days=90)
    )
    keys = [(str(e["UID"]), e["DTSTART"].dt) for e in expanded]
    assert len(keys) == len(set(keys))  # no duplicates
    public = {(n["source"]["uid"], datetime.fromisoformat(n["startsAt"])) for n in nodes}
    assert {(uid, start) for uid, start in keys if start >= today - timedelta(days=90)} <= public
