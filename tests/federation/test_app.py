"""The HTTP surface: JSON errors, health, GraphiQL, and GraphQL's limits and error codes."""

from __future__ import annotations

import pytest

from federation.db import Database
from tests.factories import make_site
from tests.support import Hub


async def test_unknown_paths_get_a_json_404(hub: Hub) -> None:
    response = await hub.http.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "NOT_FOUND", "message": "Not Found"}


async def test_a_wrong_method_gets_a_json_405(hub: Hub) -> None:
    response = await hub.http.delete("/graphql")
    assert response.status_code == 405
    assert response.json()["error"] == "METHOD_NOT_ALLOWED"


async def test_health_checks_the_database(hub: Hub) -> None:
    response = await hub.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_says_503_in_json_when_the_database_is_gone(tmp_path: object) -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    async with Hub.running(db) as hub:
        response = await hub.http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_responses_carry_security_headers(hub: Hub) -> None:
    response = await hub.http.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_browser_gets_graphiql_and_can_be_refused_it(db: Database) -> None:
    browser = {"accept": "text/html"}
    async with Hub.running(db) as hub:
        page = await hub.http.get("/graphql", headers=browser)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
    async with Hub.running(db, graphiql=False) as hub:
        page = await hub.http.get("/graphql", headers=browser)
        assert page.status_code == 404
        assert page.json()["error"] == "NOT_FOUND"


async def test_malformed_json_gets_a_json_400(hub: Hub) -> None:
    response = await hub.http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "BAD_REQUEST"


async def test_queries_work_over_get_but_mutations_never_do(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    response = await hub.http.get("/graphql", params={"query": '{ site(slug: "casaco") { slug } }'})
    assert response.json() == {"data": {"site": {"slug": "casaco"}}}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ sites { edges { node { slug } } ", "GRAPHQL_PARSE_FAILED"),
        ("{ nonsense }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ sites(amenity: SWIMMING_POOL) { totalCount } }", "BAD_USER_INPUT"),
        ('{ sites(first: "ten") { totalCount } }', "BAD_USER_INPUT"),
    ],
)
async def test_every_graphql_error_carries_a_code(hub: Hub, query: str, code: str) -> None:
    assert await hub.error_codes(query) == [code]


async def test_a_variable_of_the_wrong_type_is_bad_user_input(hub: Hub) -> None:
    codes = await hub.error_codes(
        "query($n: Int) { sites(first: $n) { totalCount } }", {"n": "ten"}
    )
    assert codes == ["BAD_USER_INPUT"]


async def test_queries_deeper_than_the_limit_are_refused(db: Database) -> None:
    async with Hub.running(db, max_query_depth=3) as hub:
        deep = "{ members { edges { node { homeSite { plans { name } } } } } }"
        assert await hub.error_codes(deep) == ["GRAPHQL_VALIDATION_FAILED"]
        assert await hub.graphql("{ sites { totalCount } }") == {
            "data": {"sites": {"totalCount": 0}}
        }


async def test_too_many_aliases_are_refused(db: Database) -> None:
    async with Hub.running(db, max_aliases=3) as hub:
        query = "{ " + " ".join(f"a{i}: sites {{ totalCount }}" for i in range(4)) + " }"
        assert await hub.error_codes(query) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_too_many_tokens_are_refused(db: Database) -> None:
    async with Hub.running(db, max_tokens=50) as hub:
        query = "{ sites { edges { node { " + " ".join(["slug"] * 60) + " } } } }"
        assert await hub.error_codes(query) == ["GRAPHQL_PARSE_FAILED"]


async def test_introspection_can_be_turned_off(db: Database) -> None:
    introspect = "{ __schema { queryType { name } } }"
    async with Hub.running(db) as hub:
        assert (await hub.data(introspect))["__schema"]["queryType"]["name"] == "Query"
    async with Hub.running(db, introspection=False) as hub:
        assert set(await hub.error_codes(introspect)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_graphiqls_own_introspection_query_fits_the_default_limits(hub: Hub) -> None:
    from graphql import get_introspection_query

    data = await hub.data(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"
