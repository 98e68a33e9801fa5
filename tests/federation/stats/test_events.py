"""The events section of networkStats: count, registrations, attendance and fill rate by
category, over the range and the spaces asked for."""

from __future__ import annotations

from datetime import timedelta

from federation.calendar import service
from federation.calendar.models import Category
from tests.factories import make_site
from tests.federation.calendar.support import COORDINATOR, make_coworker, make_event, soon
from tests.support import Hub

QUERY = """
query($from: Date!, $to: Date!, $sites: [String!]) {
  networkStats(from: $from, to: $to, sites: $sites) {
    events { byCategory { category count registrations attendance fillRate } }
  }
}
"""


async def test_events_are_counted_by_category_with_registrations_and_fill_rate(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    other = await make_site(hub.db, "la-fontaine")
    workshop, _ = await make_event(hub.db, casaco, capacity=4, category=Category.WORKSHOP)
    await make_event(hub.db, casaco, capacity=4, category=Category.WORKSHOP, starts_at=soon(8))
    cancelled, _ = await make_event(hub.db, casaco, category=Category.AFTERWORK)
    await make_event(hub.db, other, category=Category.MEETING)
    people = [await make_coworker(hub.db, casaco) for _ in range(3)]
    async with hub.db.transaction() as session:
        for viewer in people:
            await service.register_for_event(session, viewer, workshop)
        await service.record_attendance(
            session,
            occurrence_id=int(workshop),
            person_id=people[0].require_person(),
            attended=True,
        )
        await service.cancel_event(session, COORDINATOR, cancelled)
    first = soon(0).date()
    variables = {"from": first.isoformat(), "to": (first + timedelta(days=30)).isoformat()}
    data = await hub.data(QUERY, variables, viewer=COORDINATOR)
    assert data["networkStats"]["events"]["byCategory"] == [
        {
            "category": "WORKSHOP",
            "count": 2,
            "registrations": 3,
            "attendance": 1,
            "fillRate": 0.375,
        },
        {
            "category": "MEETING",
            "count": 1,
            "registrations": 0,
            "attendance": 0,
            "fillRate": None,
        },
    ]
    mine = await hub.data(QUERY, {**variables, "sites": ["la-fontaine"]}, viewer=COORDINATOR)
    assert [c["category"] for c in mine["networkStats"]["events"]["byCategory"]] == ["MEETING"]
