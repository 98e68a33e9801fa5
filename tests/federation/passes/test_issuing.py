"""Issuing passes: who may, at what price, within which budget; bad input writes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from federation.db import Database
from federation.errors import BadUserInput, Forbidden, Refused
from federation.passes import service
from federation.passes.models import CreditUnit, Pass, Product, ProductKind, Programme
from federation.passes.service import ProductData, TierLine
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import (
    make_pass,
    make_product,
    make_programme,
    manager_of,
)
from tests.support import Hub

ISSUE = """mutation($input: IssuePassInput!) {
  issuePass(input: $input) { id tier priceCents remainingCredits status product { name } } }"""
CHECK_IN = """mutation($input: CheckInInput!) { checkIn(input: $input) {
  ok code message checkIn { id units at } pass { id remainingCredits } } }"""


async def _count(db: Database, table: type) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_manager_sells_a_pass_in_the_tier_chosen(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    person = await make_person(hub.db, home=casaco)
    product = await make_product(hub.db, casaco)
    variables = {
        "input": {"productId": str(product.id), "holderId": str(person.id), "tier": "solidaire"}
    }
    data = await hub.data(ISSUE, variables, viewer=manager_of(casaco))
    issued = data["issuePass"]
    assert (issued["tier"], issued["priceCents"], issued["remainingCredits"]) == (
        "solidaire",
        12000,
        10,
    )
    assert issued["status"] == "ACTIVE"


async def test_bad_input_is_refused_and_writes_nothing(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    person = await make_person(hub.db, home=casaco)
    product = await make_product(hub.db, casaco)
    manager = manager_of(casaco)
    cases = [
        ({"productId": "999999", "holderId": str(person.id), "tier": "standard"}, "NOT_FOUND"),
        ({"productId": "nope", "holderId": str(person.id), "tier": "standard"}, "NOT_FOUND"),
        (
            {"productId": str(product.id), "holderId": str(uuid.uuid4()), "tier": "standard"},
            "NOT_FOUND",
        ),
        (
            {"productId": str(product.id), "holderId": str(person.id), "tier": "gratuit"},
            "BAD_USER_INPUT",
        ),
    ]
    for given, code in cases:
        assert await hub.error_codes(ISSUE, {"input": given}, viewer=manager) == [code]
    assert await _count(hub.db, Pass) == 0


async def test_a_product_needs_positive_credits(db: Database) -> None:
    site = await make_site(db)
    for credits in (0, -3):
        with pytest.raises(BadUserInput):
            async with db.transaction() as session:
                await service.create_product(
                    session,
                    ProductData(
                        name="Carnet vide",
                        kind=ProductKind.CARNET,
                        credits=credits,
                        unit=CreditUnit.DAY,
                        validity_days=30,
                        tiers=[TierLine("standard", 1000)],
                        issuer_site_id=site.id,
                    ),
                )
    assert await _count(db, Product) == 0


async def test_only_the_selling_space_sells_its_passes(db: Database) -> None:
    casaco = await make_site(db)
    other = await make_site(db)
    person = await make_person(db, home=casaco)
    product = await make_product(db, casaco)
    with pytest.raises(Forbidden):
        await make_pass(db, product, person.id, seller=manager_of(other))


async def test_funded_passes_stay_within_the_budget_and_places(db: Database) -> None:
    lille = await make_site(db)
    programme = await make_programme(db, [lille], budget_cents=30000, places=5)
    product = await make_product(
        db, None, kind=ProductKind.FUNDED, programme=programme, tiers=[TierLine("financé", 15000)]
    )
    person = await make_person(db)
    for _ in range(2):
        await make_pass(db, product, person.id, tier="financé")
    with pytest.raises(Refused) as refused:
        await make_pass(db, product, person.id, tier="financé")
    assert refused.value.code == "PROGRAMME_BUDGET_EXHAUSTED"
    with pytest.raises(Forbidden):
        await make_pass(db, product, person.id, tier="financé", seller=manager_of(lille))
    async with db.reading() as session:
        row = await session.get(Programme, programme.id)
    assert row is not None
    assert (row.spent_cents, row.issued) == (30000, 2)


async def test_the_kiosk_checks_in_through_graphql(hub: Hub) -> None:
    from tests.federation.passes.helpers import kiosk_of

    casaco = await make_site(hub.db, "casaco")
    mutualab = await make_site(hub.db, "mutualab")
    person = await make_person(hub.db, home=casaco)
    issued = await make_pass(hub.db, await make_product(hub.db, casaco), person.id)
    given = {"passId": str(issued.id), "site": "mutualab", "kind": "DAY", "idempotencyKey": "k1"}
    data = await hub.data(CHECK_IN, {"input": given}, viewer=kiosk_of(mutualab))
    answer = data["checkIn"]
    assert answer["ok"]
    assert answer["pass"] == {"id": str(issued.id), "remainingCredits": 9}
    assert answer["checkIn"]["units"] == 1
    again = await hub.data(CHECK_IN, {"input": given}, viewer=kiosk_of(mutualab))
    assert again["checkIn"] == answer
    elsewhere = {**given, "site": "casaco"}
    codes = await hub.error_codes(CHECK_IN, {"input": elsewhere}, viewer=kiosk_of(mutualab))
    assert codes == ["FORBIDDEN"]
    refused = {**given, "passToken": "nope", "passId": None, "idempotencyKey": "k2"}
    data = await hub.data(CHECK_IN, {"input": refused}, viewer=kiosk_of(mutualab))
    assert (data["checkIn"]["ok"], data["checkIn"]["code"]) == (False, "INVALID_PASS_TOKEN")
    failed = await hub.data(
        '{ failedCheckIns(site: "mutualab") { code } }', viewer=manager_of(mutualab)
    )
    assert failed["failedCheckIns"] == [{"code": "INVALID_PASS_TOKEN"}]


async def test_pass_products_show_where_they_work(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_site(hub.db, "declines", accepts_network_passes=False)
    await make_site(hub.db, "mutualab")
    await make_product(hub.db, casaco, name="Carnet 10 jours")
    data = await hub.data(
        "{ passProducts { name kind credits unit validityDays priceTiers { name priceCents } "
        "issuer { slug } acceptedAt { slug } programme { name } } }"
    )
    [product] = data["passProducts"]
    assert product["issuer"] == {"slug": "casaco"}
    assert sorted(s["slug"] for s in product["acceptedAt"]) == ["casaco", "mutualab"]
    assert [t["name"] for t in product["priceTiers"]] == ["solidaire", "standard", "soutien"]


async def test_a_person_exports_and_erases_their_passes(db: Database) -> None:
    casaco = await make_site(db)
    person = await make_person(db, home=casaco)
    issued = await make_pass(db, await make_product(db, casaco), person.id)
    async with db.reading() as session:
        exported = await service.export_person_data(session, person.id)
    assert [p["id"] for p in exported["passes"]] == [str(issued.id)]
    async with db.transaction() as session:
        await service.forget_person(session, person.id)
    async with db.reading() as session:
        kept = await session.get(Pass, issued.id)
        assert kept is not None
        assert kept.holder_id is None
        assert (await service.export_person_data(session, person.id))["passes"] == []
