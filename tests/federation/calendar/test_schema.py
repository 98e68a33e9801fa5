"""The calendar through GraphQL: publishing, listing, registering, visibility, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from federation.calendar.models import Audience
from tests.factories import make_site
from tests.federation.calendar.support import (
    COORDINATOR,
    make_coworker,
    make_event,
    manager_of,
    soon,
)
from tests.support import Hub, count_statements

CREATE = """
mutation($input: CreateEventInput!) {
  createEvent(input: $input) {
    id title category status capacity remainingCapacity timezone
    startsAt endsAt site { slug } source { kind uid } sequence
  }
}
"""
EVENTS = """
query($from: DateTime, $to: DateTime, $site: String, $category: Category, $search: String,
      $first: Int, $after: String) {
  events(from: $from, to: $to, site: $site, category: $category, search: $search,
         first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title startsAt status site { slug name } location { site { slug } } } }
  }
}
"""
REGISTER = (
    "mutation($id: ID!) { registerForEvent(eventId: $id) { status event { remainingCapacity } } }"
)
UNREGISTER = "mutation($id: ID!) { cancelRegistration(eventId: $id) { status } }"


def event_input(**overrides: Any) -> dict[str, Any]:
    start = soon()
    return {
        "site": "casaco",
        "title": "Casapéro",
        "category": "AFTERWORK",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=3)).isoformat(),
        "capacity": 30,
        **overrides,
    }


async def test_a_manager_publishes_an_event_of_their_space(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    data = await hub.data(CREATE, {"input": event_input()}, viewer=manager_of(casaco))
    event = data["createEvent"]
    assert event["title"] == "Casapéro"
    assert event["status"] == "CONFIRMED"
    assert event["remainingCapacity"] == 30
    assert event["site"] == {"slug": "casaco"}
    assert event["source"]["kind"] == "HUB"
    assert event["timezone"] == "Europe/Paris"


async def test_a_manager_of_another_space_and_a_coworker_may_not_publish(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    other = await make_site(hub.db, "la-fontaine")
    assert await hub.error_codes(CREATE, {"input": event_input()}, viewer=manager_of(other)) == [
        "FORBIDDEN"
    ]
    network = event_input(site=None)
    assert await hub.error_codes(CREATE, {"input": network}, viewer=manager_of(other)) == [
        "FORBIDDEN"
    ]
    assert (await hub.data(CREATE, {"input": network}, viewer=COORDINATOR))["createEvent"][
        "site"
    ] is None


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"endsAt": soon(hour=10).isoformat()}, "before"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"capacity": -1}, "capacity"),
        ({"category": "PARTY"}, "PARTY"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
async def test_bad_event_input_is_refused_and_nothing_is_written(
    hub: Hub, overrides: dict[str, Any], words: str
) -> None:
    casaco = await make_site(hub.db, "casaco")
    body = await hub.graphql(CREATE, {"input": event_input(**overrides)}, viewer=manager_of(casaco))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert words in body["errors"][0]["message"]
    listed = await hub.data(EVENTS, {}, viewer=COORDINATOR)
    assert listed["events"]["totalCount"] == 0


async def test_bad_ranges_are_refused(hub: Hub) -> None:
    start = soon()
    for variables, words in [
        ({"from": start.isoformat(), "to": (start - timedelta(days=1)).isoformat()}, "after"),
        ({"from": start.isoformat(), "to": (start + timedelta(days=400)).isoformat()}, "366"),
    ]:
        body = await hub.graphql(EVENTS, variables)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert words in body["errors"][0]["message"]


async def test_unknown_event_ids_are_not_found(hub: Hub) -> None:
    for id_ in ["999999", "nonsense"]:
        assert await hub.error_codes("query($id: ID!) { event(id: $id) { id } }", {"id": id_}) == [
            "NOT_FOUND"
        ]
        coworker = await make_coworker(hub.db)
        assert await hub.error_codes(REGISTER, {"id": id_}, viewer=coworker) == ["NOT_FOUND"]


async def test_events_are_listed_by_start_with_a_total_and_pages(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_event(
        hub.db, casaco, title="Co-développement", rrule="FREQ=WEEKLY;COUNT=5", starts_at=soon(2)
    )
    await make_event(hub.db, casaco, title="Casapéro", starts_at=soon(3))
    window = {"from": soon(0).isoformat(), "to": soon(60).isoformat()}
    first = (await hub.data(EVENTS, {**window, "first": 3}))["events"]
    assert first["totalCount"] == 6
    titles = [edge["node"]["title"] for edge in first["edges"]]
    assert titles == ["Co-développement", "Casapéro", "Co-développement"]
    assert first["pageInfo"]["hasNextPage"]
    rest = (await hub.data(EVENTS, {**window, "after": first["pageInfo"]["endCursor"]}))["events"]
    assert len(rest["edges"]) == 3
    starts = [e["node"]["startsAt"] for e in first["edges"] + rest["edges"]]
    assert starts == sorted(starts)
    searched = (await hub.data(EVENTS, {**window, "search": "casapero"}))["events"]
    assert searched["totalCount"] == 1


async def test_registrations_fill_the_places_then_the_waiting_list_and_a_withdrawal_promotes(
    hub: Hub,
) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(hub.db, casaco, capacity=1)
    first, second, third = [await make_coworker(hub.db) for _ in range(3)]
    got = (await hub.data(REGISTER, {"id": occurrence}, viewer=first))["registerForEvent"]
    assert got == {"status": "CONFIRMED", "event": {"remainingCapacity": 0}}
    assert (await hub.data(REGISTER, {"id": occurrence}, viewer=second))["registerForEvent"][
        "status"
    ] == "WAITLISTED"
    await hub.data(REGISTER, {"id": occurrence}, viewer=third)
    # Registering again changes nothing.
    again = await hub.data(REGISTER, {"id": occurrence}, viewer=first)
    assert again["registerForEvent"]["status"] == "CONFIRMED"
    await hub.data(UNREGISTER, {"id": occurrence}, viewer=first)
    mine = (
        "query($id: ID!) { event(id: $id) { status remainingCapacity myRegistration { status } } }"
    )
    assert (await hub.data(mine, {"id": occurrence}, viewer=second))["event"] == {
        "status": "FULL",
        "remainingCapacity": 0,
        "myRegistration": {"status": "CONFIRMED"},
    }
    assert (await hub.data(mine, {"id": occurrence}, viewer=third))["event"]["myRegistration"] == {
        "status": "WAITLISTED"
    }
    assert (await hub.data(mine, {"id": occurrence}, viewer=first))["event"][
        "myRegistration"
    ] is None


async def test_a_cancelled_event_stays_listed_as_cancelled(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(hub.db, casaco)
    cancel = "mutation($id: ID!) { cancelEvent(id: $id) { status sequence } }"
    got = (await hub.data(cancel, {"id": occurrence}, viewer=manager_of(casaco)))["cancelEvent"]
    assert got == {"status": "CANCELLED", "sequence": 1}
    listed = await hub.data(EVENTS, {})
    assert [e["node"]["status"] for e in listed["events"]["edges"]] == ["CANCELLED"]
    coworker = await make_coworker(hub.db)
    body = await hub.graphql(REGISTER, {"id": occurrence}, viewer=coworker)
    assert body["errors"][0]["extensions"]["code"] == "EVENT_CANCELLED"


async def test_members_and_network_events_are_seen_only_by_the_right_viewers(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    other = await make_site(hub.db, "la-fontaine")
    await make_event(hub.db, casaco, title="Public")
    await make_event(hub.db, casaco, title="Réseau", audience=Audience.NETWORK)
    members_only, _ = await make_event(hub.db, casaco, title="Membres", audience=Audience.MEMBERS)

    async def titles(viewer: Any = None) -> set[str]:
        options = {"viewer": viewer} if viewer else {}
        data = await hub.data(EVENTS, {}, **options)
        return {e["node"]["title"] for e in data["events"]["edges"]}

    assert await titles() == {"Public"}
    assert await titles(await make_coworker(hub.db, other)) == {"Public", "Réseau"}
    assert await titles(await make_coworker(hub.db, casaco)) == {"Public", "Réseau", "Membres"}
    assert await titles(COORDINATOR) == {"Public", "Réseau", "Membres"}
    outsider = await make_coworker(hub.db, other)
    query = "query($id: ID!) { event(id: $id) { id } }"
    assert await hub.error_codes(query, {"id": members_only}, viewer=outsider) == ["NOT_FOUND"]


async def test_a_page_of_100_occurrences_with_spaces_runs_a_bounded_number_of_statements(
    hub: Hub,
) -> None:
    spaces = [await make_site(hub.db, f"space-{n}") for n in range(5)]
    for n, space in enumerate(spaces):
        await make_event(
            hub.db,
            space,
            rrule="FREQ=DAILY;COUNT=25",
            starts_at=soon(1, 8 + n),
            location_site_id=spaces[(n + 1) % 5].id,
        )
    viewer = await make_coworker(hub.db, spaces[0])
    with count_statements(hub.db) as log:
        data = await hub.data(
            EVENTS + "",
            {"from": soon(0).isoformat(), "to": soon(60).isoformat(), "first": 100},
            viewer=viewer,
        )
    assert len(data["events"]["edges"]) == 100
    assert data["events"]["totalCount"] == 125
    # page, count, the spaces (organisers and locations batched)
    assert log.count <= 3, log.statements
    page, count = log.statements[0], log.statements[1]
    # The count reads the occurrences alone (their copies of the events' fields).
    assert "events" not in count.split("FROM", 1)[1], count
    assert "event_occurrences" in page


async def test_cancelling_one_occurrence_of_a_series_keeps_the_others(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_event(hub.db, casaco, rrule="FREQ=WEEKLY;COUNT=3", starts_at=soon(2))
    window = {"from": soon(0).isoformat(), "to": soon(60).isoformat()}
    edges = (await hub.data(EVENTS, window))["events"]["edges"]
    second = edges[1]["node"]["id"]
    cancel = "mutation($id: ID!) { cancelEvent(id: $id, onlyThisOccurrence: true) { id status } }"
    got = await hub.data(cancel, {"id": second}, viewer=manager_of(casaco))
    assert got["cancelEvent"] == {"id": second, "status": "CANCELLED"}
    after = (await hub.data(EVENTS, window))["events"]["edges"]
    assert [e["node"]["status"] for e in after] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert [e["node"]["id"] for e in after] == [e["node"]["id"] for e in edges]


async def test_an_update_moves_a_one_off_event_and_its_registrations_follow(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_site(hub.db, "la-grappe")
    occurrence, _ = await make_event(hub.db, casaco, capacity=5)
    person = await make_coworker(hub.db, casaco)
    await hub.data(REGISTER, {"id": occurrence}, viewer=person)
    moved = soon(9)
    update = """
    mutation($id: ID!, $input: UpdateEventInput!) {
      updateEvent(id: $id, input: $input) {
        id startsAt location { site { slug } } myRegistration { status } sequence
      }
    }
    """
    changes = {
        "startsAt": moved.isoformat(),
        "endsAt": (moved + timedelta(hours=1)).isoformat(),
        "location": {"site": "la-grappe"},
    }
    got = (await hub.data(update, {"id": occurrence, "input": changes}, viewer=manager_of(casaco)))[
        "updateEvent"
    ]
    assert got["id"] == occurrence
    assert got["location"] == {"site": {"slug": "la-grappe"}}
    assert got["sequence"] == 1
    mine = "query($id: ID!) { event(id: $id) { startsAt myRegistration { status } } }"
    seen = (await hub.data(mine, {"id": occurrence}, viewer=person))["event"]
    assert seen["myRegistration"] == {"status": "CONFIRMED"}
    bad = await hub.graphql(
        update, {"id": occurrence, "input": {"capacity": -3}}, viewer=manager_of(casaco)
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
