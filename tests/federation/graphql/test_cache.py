"""The public-read cache: anonymous query answers from memory until the data they read moves."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from federation.access import Viewer
from federation.db import Database
from federation.directory.models import Site
from federation.graphql.cache import ResponseCache, public_tables_of
from tests.factories import make_person, make_site
from tests.federation.calendar.support import make_coworker, make_event, manager_of, soon
from tests.support import Hub, count_statements

SITES = "query($city: String) { sites(city: $city) { totalCount nodes { slug name amenities } } }"
EVENTS = "{ events { totalCount nodes { id title remainingCapacity site { slug } } } }"
CREATE = """
mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }
"""
REGISTER = "mutation($id: ID!) { registerForEvent(eventId: $id) { status } }"


async def ask(hub: Hub, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    response = await hub.post_graphql(query, variables)
    assert response.status_code == 200, response.text
    return response


def cache_of(hub: Hub) -> ResponseCache:
    cache = hub.app.state.response_cache
    assert isinstance(cache, ResponseCache)
    return cache


async def test_a_second_identical_anonymous_query_is_one_statement_from_memory(hub: Hub) -> None:
    await make_site(hub.db, "casaco", city="Agen")
    first = await ask(hub, SITES, {"city": "Agen"})
    assert first.headers["x-cache"] == "miss"
    with count_statements(hub.db) as log:
        second = await ask(hub, SITES, {"city": "Agen"})
    assert second.headers["x-cache"] == "hit"
    assert log.count == 1, log.statements
    assert second.json() == first.json()
    assert second.json()["data"]["sites"]["nodes"][0]["slug"] == "casaco"


async def test_variables_are_part_of_the_key_whatever_their_order(hub: Hub) -> None:
    await make_site(hub.db, "casaco", city="Agen")
    await make_site(hub.db, "la-fontaine", city="Rouen")
    query = (
        "query($city: String, $first: Int) { sites(city: $city, first: $first) { nodes { slug } } }"
    )
    agen = await ask(hub, query, {"city": "Agen", "first": 5})
    rouen = await ask(hub, query, {"city": "Rouen", "first": 5})
    assert (agen.headers["x-cache"], rouen.headers["x-cache"]) == ("miss", "miss")
    assert rouen.json()["data"]["sites"]["nodes"] == [{"slug": "la-fontaine"}]
    again = await ask(hub, query, {"first": 5, "city": "Agen"})
    assert again.headers["x-cache"] == "hit"
    assert again.json()["data"]["sites"]["nodes"] == [{"slug": "casaco"}]
    assert len(cache_of(hub)) == 2


async def test_a_mutation_that_registers_someone_invalidates_the_public_answer(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(hub.db, casaco, capacity=10)
    before = await ask(hub, EVENTS)
    assert before.json()["data"]["events"]["nodes"][0]["remainingCapacity"] == 10
    assert (await ask(hub, EVENTS)).headers["x-cache"] == "hit"

    coworker = await make_coworker(hub.db)
    data = await hub.data(REGISTER, {"id": occurrence}, viewer=coworker)
    assert data["registerForEvent"]["status"] == "CONFIRMED"

    after = await ask(hub, EVENTS)
    assert after.headers["x-cache"] == "miss"
    assert after.json()["data"]["events"]["nodes"][0]["remainingCapacity"] == 9


async def test_a_new_event_published_through_a_mutation_shows_at_once(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await ask(hub, EVENTS)
    start = soon()
    event = {
        "site": "casaco",
        "title": "Casapéro",
        "category": "AFTERWORK",
        "startsAt": start.isoformat(),
        "endsAt": start.replace(hour=21).isoformat(),
    }
    await hub.data(CREATE, {"input": event}, viewer=manager_of(casaco))
    after = await ask(hub, EVENTS)
    assert after.headers["x-cache"] == "miss"
    assert after.json()["data"]["events"]["totalCount"] == 1


async def test_a_core_bulk_statement_invalidates_the_public_answer(hub: Hub) -> None:
    await make_site(hub.db, "casaco", city="Agen", name="Casaco")
    await ask(hub, SITES, {"city": "Agen"})
    async with hub.db.transaction() as session:
        await session.execute(update(Site).where(Site.slug == "casaco").values(name="Casaco 2"))
    after = await ask(hub, SITES, {"city": "Agen"})
    assert after.headers["x-cache"] == "miss"
    assert after.json()["data"]["sites"]["nodes"][0]["name"] == "Casaco 2"


async def test_a_write_by_another_program_straight_to_the_database_invalidates_it(
    hub: Hub,
) -> None:
    await make_site(hub.db, "casaco", city="Agen", name="Casaco")
    await ask(hub, SITES, {"city": "Agen"})
    raw_write(hub.db, "UPDATE sites SET name = 'Casaco (renamed)' WHERE slug = 'casaco'")
    after = await ask(hub, SITES, {"city": "Agen"})
    assert after.headers["x-cache"] == "miss"
    assert after.json()["data"]["sites"]["nodes"][0]["name"] == "Casaco (renamed)"


async def test_a_write_seen_by_one_worker_invalidates_the_answer_another_worker_kept(
    db: Database,
) -> None:
    casaco = await make_site(db, "casaco")
    occurrence, _ = await make_event(db, casaco, capacity=10)
    async with Hub.running(db) as one, Hub.running(db) as other:
        await ask(other, EVENTS)
        assert (await ask(other, EVENTS)).headers["x-cache"] == "hit"
        await one.data(REGISTER, {"id": occurrence}, viewer=await make_coworker(db))
        after = await ask(other, EVENTS)
    assert after.headers["x-cache"] == "miss"
    assert after.json()["data"]["events"]["nodes"][0]["remainingCapacity"] == 9


async def test_writes_to_tables_an_answer_does_not_read_keep_it(hub: Hub) -> None:
    await make_site(hub.db, "casaco", city="Agen")
    await ask(hub, SITES, {"city": "Agen"})
    await make_event(hub.db, None)
    assert (await ask(hub, SITES, {"city": "Agen"})).headers["x-cache"] == "hit"


async def test_signed_in_viewers_are_never_answered_from_memory(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco", city="Agen")
    viewer = Viewer(person_id=(await make_person(hub.db, home=casaco)).id, home_site_id=casaco.id)
    for _ in range(2):
        response = await hub.post_graphql(SITES, {"city": "Agen"}, viewer=viewer)
        assert response.headers["x-cache"] == "bypass"
    assert len(cache_of(hub)) == 0


async def test_a_request_with_credentials_or_a_cookie_is_never_answered_from_memory(
    hub: Hub,
) -> None:
    await make_site(hub.db, "casaco", city="Agen")
    body = {"query": SITES, "variables": {"city": "Agen"}}
    await ask(hub, SITES, {"city": "Agen"})
    for headers in ({"Authorization": "Bearer x"}, {"Cookie": "session=abc"}):
        response = await hub.http.post("/graphql", json=body, headers=headers)
        assert response.headers["x-cache"] == "bypass"


async def test_mutations_are_never_answered_from_memory(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    occurrence, _ = await make_event(hub.db, casaco, capacity=10)
    coworker = await make_coworker(hub.db)
    statuses = []
    for _ in range(2):
        response = await hub.post_graphql(REGISTER, {"id": occurrence}, viewer=coworker)
        statuses.append(response.headers["x-cache"])
    # Anonymous too: the mutation is refused, and refused again, not replayed.
    anonymous = await hub.post_graphql(REGISTER, {"id": occurrence})
    assert [*statuses, anonymous.headers["x-cache"]] == ["bypass"] * 3
    assert len(cache_of(hub)) == 0


async def test_an_answer_with_errors_is_not_kept(hub: Hub) -> None:
    query = '{ event(id: "404") { id } }'
    for _ in range(2):
        response = await ask(hub, query)
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert response.headers["x-cache"] == "miss"
    assert len(cache_of(hub)) == 0


async def test_the_cache_keeps_at_most_its_size_and_forgets_the_least_recent(db: Database) -> None:
    for city in ("Agen", "Rouen", "Brest"):
        await make_site(db, city=city)
    async with Hub.running(db, response_cache_size=2) as hub:
        for city in ("Agen", "Rouen", "Agen", "Brest"):
            await ask(hub, SITES, {"city": city})
        assert len(cache_of(hub)) == 2
        assert (await ask(hub, SITES, {"city": "Agen"})).headers["x-cache"] == "hit"
        assert (await ask(hub, SITES, {"city": "Rouen"})).headers["x-cache"] == "miss"


async def test_answers_expire_after_the_ttl(hub: Hub) -> None:
    now = [1000.0]
    cache_of(hub).clock = lambda: now[0]
    await ask(hub, EVENTS)
    now[0] += cache_of(hub).ttl - 1
    assert (await ask(hub, EVENTS)).headers["x-cache"] == "hit"
    now[0] += 2
    assert (await ask(hub, EVENTS)).headers["x-cache"] == "miss"


async def test_the_cache_can_be_turned_off(db: Database) -> None:
    async with Hub.running(db, response_cache=False) as hub:
        response = await ask(hub, EVENTS)
        assert "x-cache" not in response.headers
        assert hub.app.state.response_cache is None


@pytest.mark.parametrize(
    ("query", "operation", "tables"),
    [
        ("{ sites { nodes { slug } } }", None, ("people", "person_skills")),
        ("query A { me { id } } query B { sites { totalCount } }", "B", ("sites",)),
        ("{ __typename }", None, ()),
    ],
)
def test_public_queries_read_known_tables(
    query: str, operation: str | None, tables: tuple[str, ...]
) -> None:
    found = public_tables_of(query, operation)
    assert found is not None
    assert set(tables) <= set(found)


@pytest.mark.parametrize(
    ("query", "operation"),
    [
        ('mutation { deleteMyAccount(confirmEmail: "a@b.c") }', None),
        ("{ me { id } }", None),
        ("{ sites { totalCount } me { id } }", None),
        ("query A { me { id } } query B { sites { totalCount } }", "A"),
        ("query A { sites { totalCount } } query B { sites { totalCount } }", None),
        ("{ ...F } fragment F on Query { sites { totalCount } }", None),
        ("{ sites { ", None),
    ],
)
def test_private_fields_mutations_and_broken_queries_are_not_cacheable(
    query: str, operation: str | None
) -> None:
    assert public_tables_of(query, operation) is None


def raw_write(db: Database, statement: str) -> None:
    """A write through the bare driver, as another program (or a psql session) would."""
    url = make_url(db.url)
    if db.is_sqlite:
        assert url.database is not None
        with sqlite3.connect(url.database) as connection:
            connection.execute(statement)
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as connection:
        connection.execute(statement)
