"""A batch costs a fixed number of SQL statements, whatever its number of records."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from federation.usage.models import Use
from tests.factories import make_site
from tests.federation.sync.support import batch, membership, post, space_client, use
from tests.support import Hub, count_statements

ROLLUPS = "usage_"  # the statistics' tables, written by the usage domain at commit


def uses(count: int, members: int, prefix: str = "u") -> list[dict[str, Any]]:
    start = date(2026, 1, 5)
    return [
        use(f"{prefix}-{n}", f"m-{n % members}", (start + timedelta(days=n % 60)).isoformat())
        for n in range(count)
    ]


def by_table(statements: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for statement in statements:
        words = statement.split()
        verb = words[0].upper()
        table = {"INSERT": words[2], "UPDATE": words[1], "DELETE": words[2]}.get(verb)
        if verb == "SELECT":
            table = next(w for w in words[words.index("FROM") + 1 :] if w not in ("(",))
        key = f"{verb} {table}"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def test_a_thousand_uses_take_the_same_statements_as_ten(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    members = [membership(f"m-{n}") for n in range(50)]
    assert (await post(hub, batch("casaco", *members), client)).status_code == 200

    with count_statements(hub.db) as few:
        small = await post(hub, batch("casaco", *uses(10, 50, "small")), client)
    with count_statements(hub.db) as many:
        large = await post(hub, batch("casaco", *uses(1_000, 50)), client)

    assert small.json()["applied"]["created"] == 10
    assert large.json()["applied"]["created"] == 1_000
    async with hub.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Use)) == 1_010
    # Sync's own work (the space, replay check, ledger read and write, memberships, uses
    # read and insert, the run) is one statement each, for ten records as for a thousand.
    own = [s for s in many.statements if ROLLUPS not in s]
    assert by_table(own) == by_table([s for s in few.statements if ROLLUPS not in s])
    assert len(own) <= 8, own
    # The statistics' rollups follow once per batch, netted: a few statements per table.
    assert many.count - len(own) <= 6, [s[:60] for s in many.statements]


async def test_a_thousand_changed_uses_are_one_update(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    members = [membership(f"m-{n}") for n in range(50)]
    await post(hub, batch("casaco", *members), client)
    first = uses(1_000, 50)
    await post(hub, batch("casaco", *first), client)
    moved = [
        {**record, "updatedAt": "2026-03-01T00:00:00Z", "data": {**record["data"], "halfDays": 2}}
        for record in first
    ]

    with count_statements(hub.db) as log:
        answer = await post(hub, batch("casaco", *moved), client)

    assert answer.json()["applied"]["updated"] == 1_000
    own = by_table([s for s in log.statements if ROLLUPS not in s.split("(")[0]])
    assert own.get("UPDATE uses") == 1, own
    assert own.get("INSERT uses", 0) <= 1, own  # PostgreSQL inserts first, skipping known ids
    assert sum(own.values()) <= 10, own
    async with hub.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Use)) == 1_000
        assert await session.scalar(select(func.sum(Use.units))) == 2_000
