"""A batch interrupted by the database leaves nothing behind; runs are readable by managers."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from federation.access import Role, Viewer
from federation.sync.models import SyncRecord, SyncRun
from federation.usage.models import Membership, Use, UsesByPeriod
from tests.conftest import _libpq
from tests.factories import make_site
from tests.federation.sync.support import batch, membership, post, space_client, use
from tests.support import Hub


async def test_a_connection_killed_mid_batch_leaves_nothing_half_applied(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    body = batch("casaco", membership("m-1"), use("u-1", "m-1"), use("u-2", "m-1"))
    killed: list[str] = []

    def kill(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if killed or not statement.lstrip().upper().startswith("INSERT INTO USES"):
            return
        killed.append(statement)
        if hub.db.is_sqlite:
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(_libpq(hub.db.url), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    event.listen(hub.db.engine.sync_engine, "before_cursor_execute", kill)
    try:
        answer = await post(hub, body, client)
    finally:
        event.remove(hub.db.engine.sync_engine, "before_cursor_execute", kill)
    assert killed
    assert answer.status_code == 503
    assert answer.json()["error"] == "UNAVAILABLE"
    async with hub.db.reading() as session:
        for table in (Membership, Use, UsesByPeriod, SyncRecord, SyncRun):
            assert await session.scalar(select(func.count()).select_from(table)) == 0
    again = await post(hub, body, client)
    assert again.json()["applied"]["created"] == 3


RUNS = """
query($site: String!, $after: String) {
  syncRuns(site: $site, first: 1, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { batchId clientId source created updated deleted unchanged rejectedCount
            rejections { index externalId type reason } }
  }
}
"""


async def test_managers_read_their_space_s_sync_runs_newest_first(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    await post(hub, batch("casaco", membership("m-1"), batch_id="first"), client)
    await post(hub, batch("casaco", use("u-1", "nobody"), batch_id="second"), client)
    manager = Viewer(
        roles=frozenset({Role.MANAGER}),
        managed_site_ids=frozenset({site.id}),
        person_id=__import__("uuid").uuid4(),
    )
    page = (await hub.data(RUNS, {"site": "casaco"}, viewer=manager))["syncRuns"]
    assert page["totalCount"] == 2
    [latest] = page["nodes"]
    assert latest["batchId"] == "second"
    assert latest["clientId"] == client.client_id
    assert latest["rejectedCount"] == 1
    assert latest["rejections"][0]["externalId"] == "u-1"
    cursor = page["pageInfo"]["endCursor"]
    older = await hub.data(RUNS, {"site": "casaco", "after": cursor}, viewer=manager)
    [first] = older["syncRuns"]["nodes"]
    assert (first["batchId"], first["created"]) == ("first", 1)
    assert older["syncRuns"]["pageInfo"]["hasNextPage"] is False
