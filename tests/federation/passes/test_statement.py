"""The monthly statement from real check-ins: who sees what, the CSV export, the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from federation.db import Database
from federation.errors import BadUserInput, Forbidden
from federation.keys.service import KeyRing
from federation.kit.clock import PARIS
from federation.passes import service
from federation.passes.models import ProductKind
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import (
    check_in,
    coordinator,
    kiosk_of,
    make_pass,
    make_product,
    make_programme,
    manager_of,
)
from tests.support import Hub

MARCH = datetime(2026, 3, 10, 10, tzinfo=PARIS)


async def _month_of_visits(db: Database) -> dict[str, object]:
    casaco = await make_site(db, "casaco", name="Casaco")
    mutualab = await make_site(db, "mutualab", name="Mutualab")
    grappe = await make_site(db, "la-grappe", name="La Grappe")
    keys = KeyRing(db)
    person = await make_person(db, home=casaco)
    carnet = await make_product(db, casaco, credits=10)  # 150 € standard
    bought = await make_pass(db, carnet, person.id, now=MARCH - timedelta(days=5))
    for day in range(3):
        await check_in(db, keys, mutualab, pass_id=bought.id, now=MARCH + timedelta(days=day))
    await check_in(db, keys, casaco, pass_id=bought.id, now=MARCH)
    programme = await make_programme(db, [mutualab, grappe])
    funded_product = await make_product(
        db, None, kind=ProductKind.FUNDED, programme=programme, credits=20
    )
    beneficiary = await make_person(db)
    funded = await make_pass(
        db, funded_product, beneficiary.id, seller=coordinator(), now=MARCH - timedelta(days=5)
    )
    await check_in(db, keys, grappe, pass_id=funded.id, now=MARCH)
    return {"casaco": casaco, "mutualab": mutualab, "grappe": grappe}


def _rows(statement: service.settlement.Statement) -> set[tuple[str, str, int]]:
    return {(line.payer.slug, line.payee.slug, line.amount_cents) for line in statement.lines}


async def test_the_statement_pays_hosts_their_share_of_the_price(db: Database) -> None:
    await _month_of_visits(db)
    async with db.reading() as session:
        statement = await service.monthly_statement(session, coordinator(), "2026-03")
    programme_slug = next(
        line.payer.slug for line in statement.lines if "programme" in line.payer.slug
    )
    # 3 days at Mutualab from a 150 € carnet of 10 days: 45 €, 5 % to the network.
    # The funded pass (150 € over 20 credits): 7,50 € a day, 0,37 € to the network.
    assert _rows(statement) == {
        ("casaco", "mutualab", 4275),
        ("casaco", "network", 225 + 75),
        (programme_slug, "la-grappe", 713),
        (programme_slug, "network", 37),
    }
    assert sum(service.settlement.net_positions(statement.lines).values()) == 0
    async with db.reading() as session:
        april = await service.monthly_statement(session, coordinator(), "2026-04")
    assert april.lines == []


async def test_a_manager_sees_only_their_spaces_lines(db: Database) -> None:
    sites = await _month_of_visits(db)
    async with db.reading() as session:
        mine = await service.monthly_statement(session, manager_of(sites["grappe"]), "2026-03")
        with pytest.raises(Forbidden):  # a kiosk's token lacks the stats:read scope
            await service.monthly_statement(session, kiosk_of(sites["grappe"]), "2026-03")
    assert {line.payee.slug for line in mine.lines} == {"la-grappe"}


async def test_a_month_is_written_yyyy_mm(db: Database) -> None:
    for bad in ("2026-3", "2026-13", "March", "2026-03-01", ""):
        async with db.reading() as session:
            with pytest.raises(BadUserInput):
                await service.monthly_statement(session, coordinator(), bad)


async def test_a_coworker_cannot_read_the_settlement(db: Database) -> None:
    from federation.access import Role, Viewer

    coworker = Viewer(person_id=coordinator().person_id, roles=frozenset({Role.COWORKER}))
    async with db.reading() as session:
        with pytest.raises(Forbidden):
            await service.monthly_statement(session, coworker, "2026-03")


async def test_the_settlement_csv_export(hub: Hub) -> None:
    sites = await _month_of_visits(hub.db)
    answer = await hub.get("/settlement/2026-03.csv", viewer=coordinator())
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeffmonth;section;")
    assert "2026-03;line;SPACE;casaco;Casaco;SPACE;mutualab;Mutualab;4275;42,75" in text
    mine = await hub.get("/settlement/2026-03.csv", viewer=manager_of(sites["mutualab"]))
    assert "la-grappe" not in mine.content.decode("utf-8")
    assert (await hub.get("/settlement/2026-03.csv")).status_code == 401
    bad = await hub.get("/settlement/2026-3.csv", viewer=coordinator())
    assert (bad.status_code, bad.json()["error"]) == (400, "BAD_USER_INPUT")


async def test_the_settlement_query(hub: Hub) -> None:
    await _month_of_visits(hub.db)
    query = """query($m: String!) { settlement(month: $m) {
      lines { payer { kind name slug } payee { kind name slug } amountCents }
      transfers { payer { slug } payee { slug } amountCents } } }"""
    data = await hub.data(query, {"m": "2026-03"}, viewer=coordinator())
    lines = data["settlement"]["lines"]
    assert {"kind": "SPACE", "name": "Casaco", "slug": "casaco"} in [x["payer"] for x in lines]
    assert len(data["settlement"]["transfers"]) <= 4
    codes = await hub.error_codes(query, {"m": "03/2026"}, viewer=coordinator())
    assert codes == ["BAD_USER_INPUT"]
