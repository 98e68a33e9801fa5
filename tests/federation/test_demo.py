"""`federation demo`: the real facts of the seeds, and a second run that changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, select

from federation.db import Database
from federation.demo import load_demo
from tests.support import Hub


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    async with db.engine.connect() as connection:
        tables = MetaData()
        await connection.run_sync(tables.reflect)
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return dump


async def test_loading_the_demo_twice_changes_nothing(db: Database) -> None:
    await load_demo(db)
    first = await snapshot(db)
    await load_demo(db)
    assert await snapshot(db) == first


async def test_the_demo_holds_the_real_spaces_of_the_seeds(hub: Hub) -> None:
    await load_demo(hub.db)
    data = await hub.data(
        """{ casaco: site(slug: "casaco") { name legalForm address postcode city region surfaceM2
               desks amenities plans { name priceCents unit quantity } }
             fontaine: site(slug: "la-fontaine") { city legalForm region description }
             grappe: site(slug: "la-grappe") { address city region }
             mutualab: site(slug: "mutualab") { city }
             lille: sites(city: "Lille", first: 50) { totalCount }
             hdf: sites(region: "Hauts-de-France") { totalCount } }"""
    )
    casaco = data["casaco"]
    assert casaco["address"] == "6 avenue Jean Jaurès"
    assert (casaco["postcode"], casaco["city"], casaco["region"]) == (
        "92240",
        "Malakoff",
        "Île-de-France",
    )
    assert (casaco["legalForm"], casaco["surfaceM2"], casaco["desks"]) == ("SCIC", 460, 45)
    assert {"GARDEN", "FABLAB", "MEETING_ROOM"} <= set(casaco["amenities"])
    prices = {(p["priceCents"], p["unit"], p["quantity"]) for p in casaco["plans"]}
    assert {(25000, "MONTH", 1), (15000, "DAY", 10), (15000, "HALF_DAY", 15)} <= prices
    assert data["fontaine"]["city"] == "Agen"
    assert data["fontaine"]["legalForm"] == "ASSOCIATION"
    assert data["fontaine"]["region"] == "Nouvelle-Aquitaine"
    assert "Canti'net" in data["fontaine"]["description"]
    assert data["grappe"] == {
        "address": "75 rue Léon Gambetta",
        "city": "Lille",
        "region": "Hauts-de-France",
    }
    assert data["mutualab"]["city"] == "Lille"
    assert data["hdf"]["totalCount"] >= 9  # Mutualab, La Grappe and at least four more Lille spaces


async def test_the_demo_has_about_150_people_in_every_visibility(hub: Hub) -> None:
    await load_demo(hub.db)
    from sqlalchemy import func

    from federation.directory.models import Person

    async with hub.db.reading() as session:
        counts = dict(
            (
                await session.execute(
                    select(Person.visibility, func.count()).group_by(Person.visibility)
                )
            ).all()
        )
    assert 140 <= sum(counts.values()) <= 170
    assert all(counts.get(v, 0) > 0 for v in ("PUBLIC", "NETWORK", "SITE", "HIDDEN"))
    public = await hub.data('{ members(skill: "Python") { totalCount } }')
    assert public["members"]["totalCount"] > 0
