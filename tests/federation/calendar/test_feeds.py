"""iCalendar feeds: they parse with icalendar and expand, with recurring-ical-events, to the
very occurrences GraphQL lists; UIDs are stable; polling gets 304."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import recurring_ical_events
from icalendar import Calendar

from federation.access import ANONYMOUS
from federation.calendar import service
from federation.calendar.models import Audience, Category
from federation.calendar.recurrence import Override
from tests.factories import make_site
from tests.federation.calendar.support import (
    COORDINATOR,
    PARIS,
    make_coworker,
    make_event,
    manager_of,
)
from tests.support import Hub, count_statements

EVENTS = """
query($from: DateTime!, $to: DateTime!, $after: String) {
  events(from: $from, to: $to, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { startsAt status source { uid } } }
  }
}
"""
WINDOW = (datetime(2027, 3, 1, tzinfo=PARIS), datetime(2027, 11, 30, tzinfo=PARIS))


async def network(hub: Hub) -> None:
    """A weekly series across both DST changes, with an exception and a moved occurrence,
    a one-off event, a cancelled one, and a members-only one the public never sees."""
    casaco = await make_site(hub.db, "casaco", name="Casaco", address="6 avenue Jean Jaurès")
    grappe = await make_site(hub.db, "la-grappe", region="Hauts-de-France")
    start = datetime(2027, 3, 2, 18, tzinfo=PARIS)
    await make_event(
        hub.db,
        casaco,
        title="Co-développement, le mardi",
        category=Category.CO_DEVELOPMENT,
        starts_at=start,
        rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20271130T230000Z",
        exdates=(datetime(2027, 4, 6, 18, tzinfo=PARIS),),
        overrides=(
            Override(
                datetime(2027, 10, 26, 18, tzinfo=PARIS),
                datetime(2027, 10, 28, 19, tzinfo=PARIS),
                datetime(2027, 10, 28, 21, tzinfo=PARIS),
                "Co-développement, déplacé au jeudi",
            ),
        ),
    )
    await make_event(
        hub.db,
        grappe,
        title="Réunion d'information; collective, à Lille",
        category=Category.INFO_SESSION,
        starts_at=datetime(2027, 6, 10, 9, 30, tzinfo=PARIS),
    )
    cancelled, _ = await make_event(
        hub.db, casaco, title="Casapéro", starts_at=datetime(2027, 5, 20, 19, tzinfo=PARIS)
    )
    await hub.data(
        "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
        {"id": cancelled},
        viewer=manager_of(casaco),
    )
    await make_event(hub.db, casaco, title="Membres", audience=Audience.MEMBERS)


async def graphql_occurrences(hub: Hub) -> set[tuple[str, datetime]]:
    found: set[tuple[str, datetime]] = set()
    after = None
    while True:
        variables = {"from": WINDOW[0].isoformat(), "to": WINDOW[1].isoformat(), "after": after}
        page = (await hub.data(EVENTS, variables))["events"]
        for edge in page["edges"]:
            node = edge["node"]
            found.add((node["source"]["uid"], datetime.fromisoformat(node["startsAt"])))
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def feed_occurrences(body: bytes) -> set[tuple[str, datetime]]:
    calendar = Calendar.from_ical(body)
    expanded = recurring_ical_events.of(calendar).between(*WINDOW)
    return {
        (str(c["UID"]), c["DTSTART"].dt.astimezone(UTC))
        for c in expanded
        if WINDOW[0] <= c["DTSTART"].dt < WINDOW[1]
    }


async def feed(hub: Hub, path: str = "/calendar.ics", **params: str) -> Any:
    return await hub.get(path, params={"from": "2027-03-01", "to": "2027-11-30", **params})


async def test_the_feed_expands_to_the_same_occurrences_as_the_graphql_query(hub: Hub) -> None:
    await network(hub)
    response = await feed(hub)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    from_feed = feed_occurrences(response.content)
    from_graphql = await graphql_occurrences(hub)
    assert from_feed == from_graphql
    assert len(from_graphql) > 30


async def test_the_feed_keeps_rules_overrides_timezones_and_cancellations(hub: Hub) -> None:
    await network(hub)
    calendar = Calendar.from_ical((await feed(hub)).content)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = calendar.walk("VEVENT")
    series = [e for e in events if "RRULE" in e]
    assert len(series) == 1
    assert series[0]["DTSTART"].params["TZID"] == "Europe/Paris"
    moved = [e for e in events if "RECURRENCE-ID" in e]
    assert [str(e["SUMMARY"]) for e in moved] == ["Co-développement, déplacé au jeudi"]
    assert moved[0]["UID"] == series[0]["UID"]
    statuses = {str(e["SUMMARY"]): str(e["STATUS"]) for e in events}
    assert statuses["Casapéro"] == "CANCELLED"
    assert statuses["Réunion d'information; collective, à Lille"] == "CONFIRMED"
    assert "Membres" not in statuses  # the public feed is the public's


async def test_the_weekly_evening_is_at_18h_in_paris_on_both_sides_of_each_dst_change(
    hub: Hub,
) -> None:
    await network(hub)
    calendar = Calendar.from_ical((await feed(hub)).content)
    for first, last in [
        (datetime(2027, 3, 20, tzinfo=PARIS), datetime(2027, 4, 4, tzinfo=PARIS)),
        (datetime(2027, 10, 16, tzinfo=PARIS), datetime(2027, 11, 7, tzinfo=PARIS)),
    ]:
        found = [
            c["DTSTART"].dt
            for c in recurring_ical_events.of(calendar).between(first, last)
            if str(c["SUMMARY"]) == "Co-développement, le mardi"
        ]
        assert found, (first, last)
        assert {moment.astimezone(PARIS).hour for moment in found} == {18}
        assert len({moment.astimezone(UTC).hour for moment in found}) == 2


async def test_uids_stay_the_same_across_reads_and_an_update_and_sequence_rises(
    hub: Hub,
) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(
        hub.db, casaco, title="Atelier", starts_at=datetime(2027, 6, 1, 18, tzinfo=PARIS)
    )
    first, second = (await feed(hub)).content, (await feed(hub)).content
    assert first == second  # DTSTAMP is the revision, not "now"
    before = Calendar.from_ical(first).walk("VEVENT")[0]
    await hub.data(
        'mutation($id: ID!) { updateEvent(id: $id, input: {startsAt: "2027-06-01T19:00:00+02:00",'
        ' endsAt: "2027-06-01T21:00:00+02:00"}) { id } }',
        {"id": occurrence},
        viewer=manager_of(casaco),
    )
    after = Calendar.from_ical((await feed(hub)).content).walk("VEVENT")[0]
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after["DTSTAMP"].dt > before["DTSTAMP"].dt
    assert after["DTSTART"].dt == datetime(2027, 6, 1, 19, tzinfo=PARIS)


async def test_a_calendar_app_polling_gets_304_until_something_changes(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(
        hub.db, casaco, starts_at=datetime(2027, 6, 1, 18, tzinfo=PARIS)
    )
    response = await feed(hub)
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    params = {"from": "2027-03-01", "to": "2027-11-30"}
    again = await hub.http.get("/calendar.ics", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304
    since = await hub.http.get(
        "/calendar.ics", params=params, headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    await hub.data(
        'mutation($id: ID!) { updateEvent(id: $id, input: {title: "Nouveau titre"}) { id } }',
        {"id": occurrence},
        viewer=manager_of(casaco),
    )
    changed = await hub.http.get("/calendar.ics", params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_feeds_filter_by_space_category_and_region(hub: Hub) -> None:
    await network(hub)

    def titles(response: Any) -> set[str]:
        assert response.status_code == 200, response.text
        return {str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}

    lille = titles(await feed(hub, "/sites/la-grappe/calendar.ics"))
    assert lille == {"Réunion d'information; collective, à Lille"}
    assert titles(await feed(hub, region="Hauts-de-France")) == lille
    assert titles(await feed(hub, category="INFO_SESSION")) == lille
    assert titles(await feed(hub, site="la-grappe")) == lille
    unknown = await feed(hub, "/sites/nowhere/calendar.ics")
    assert unknown.status_code == 404
    bad = await feed(hub, category="PARTY")
    assert bad.status_code == 400
    assert bad.json()["error"] == "BAD_USER_INPUT"
    assert (
        await hub.get("/calendar.ics", params={"from": "2027-05-01", "to": "2027-01-01"})
    ).status_code == 400


async def test_the_private_feed_lists_my_registrations_and_a_reset_retires_its_url(
    hub: Hub,
) -> None:
    casaco = await make_site(hub.db, "casaco")
    soon = datetime.now(PARIS).replace(microsecond=0) + timedelta(days=3)
    occurrence, _ = await make_event(hub.db, casaco, title="CASAcadémie", starts_at=soon)
    person = await make_coworker(hub.db, casaco)
    await hub.data(
        "mutation($id: ID!) { registerForEvent(eventId: $id) { status } }",
        {"id": occurrence},
        viewer=person,
    )
    reset = "mutation { resetMyCalendarFeed { url } }"
    url = (await hub.data(reset, viewer=person))["resetMyCalendarFeed"]["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await hub.get("/" + path)
    assert response.status_code == 200
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["CASAcadémie"]
    assert str(events[0]["STATUS"]) == "CONFIRMED"
    assert (
        await hub.http.get("/" + path, headers={"If-None-Match": response.headers["etag"]})
    ).status_code == 304
    await hub.data(
        "mutation($id: ID!) { cancelRegistration(eventId: $id) { status } }",
        {"id": occurrence},
        viewer=person,
    )
    withdrawn = Calendar.from_ical((await hub.get("/" + path)).content).walk("VEVENT")
    assert str(withdrawn[0]["STATUS"]) == "CANCELLED"
    assert withdrawn[0]["UID"] == events[0]["UID"]
    new_url = (await hub.data(reset, viewer=person))["resetMyCalendarFeed"]["url"]
    assert new_url != url
    assert (await hub.get("/" + path)).status_code == 404
    assert COORDINATOR.person_id is not None


async def test_the_network_feed_streams_chunks_of_stored_vevents_from_one_cursor(
    hub: Hub,
) -> None:
    await network(hub)
    with count_statements(hub.db) as log:
        body = (await feed(hub)).content.decode()
    # The summary (count, last revision, time zones), then the stream: no join per event.
    assert log.count == 2, log.statements
    request = service.FeedRequest(
        service.EventFilter(),
        datetime(2027, 3, 1, tzinfo=PARIS),
        datetime(2027, 11, 30, tzinfo=PARIS),
    )
    with count_statements(hub.db) as log:
        async with hub.db.reading() as session:
            chunks = [
                text async for text in service.feed_events(session, ANONYMOUS, request, chunk=2)
            ]
    assert log.count == 1, log.statements
    assert len(chunks) == 2  # three public events, two at a time
    assert "".join(chunks) in body
    assert body.count("BEGIN:VTIMEZONE") == 1
