"""Checking in: credits debited atomically, idempotency, and every refusal code."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from federation.db import Database
from federation.directory.models import Site
from federation.errors import BadUserInput
from federation.keys.service import KeyRing
from federation.kit.clock import utcnow
from federation.passes import service
from federation.passes.models import CheckIn, CheckInKind, CreditUnit, Pass, ProductKind
from federation.usage.models import Use
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
from tests.support import Hub, count_statements


async def _setup(db: Database, *, credits: int = 10, desks: int = 100) -> tuple[Site, Site, Pass]:
    home = await make_site(db, desks=desks)
    host = await make_site(db, desks=desks)
    person = await make_person(db, home=home)
    product = await make_product(db, home, credits=credits)
    return home, host, await make_pass(db, product, person.id)


async def test_a_check_in_debits_the_credits_and_records_a_use(db: Database) -> None:
    _, host, issued = await _setup(db)
    keys = KeyRing(db)
    outcome = await check_in(db, keys, host, pass_id=issued.id)
    assert outcome.ok
    assert outcome.check_in.remaining_after == 9
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 9
        use = (await session.scalars(select(Use))).one()
    assert (use.site_id, use.units) == (host.id, 2)


async def test_check_in_never_spends_beyond_credits_under_concurrency(db: Database) -> None:
    _, host, issued = await _setup(db)
    # Separate engines: separate connections, as separate hub processes would have (few
    # each: the test server is shared, and 60 queued check-ins still race).
    engines = [Database(db.url, pool_size=2) for _ in range(5)]
    try:
        keys = [KeyRing(e) for e in engines]

        async def one(n: int) -> service.CheckInOutcome:
            engine = engines[n % len(engines)]
            return await check_in(engine, keys[n % len(engines)], host, pass_id=issued.id)

        outcomes = await asyncio.gather(*(one(n) for n in range(60)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(o.ok for o in outcomes) == 10
    assert {o.check_in.code for o in outcomes if not o.ok} == {service.PASS_EXHAUSTED}
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 0
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 60


async def test_the_same_idempotency_key_returns_the_first_answer(db: Database) -> None:
    _, host, issued = await _setup(db)
    keys = KeyRing(db)
    first = await check_in(db, keys, host, pass_id=issued.id, key="visit-1")
    again = await check_in(db, keys, host, pass_id=issued.id, key="visit-1")
    assert again.replayed
    assert again.check_in.id == first.check_in.id
    assert again.check_in.remaining_after == 9
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 9
        assert await session.scalar(select(func.count()).select_from(Use)) == 1


async def test_concurrent_retries_of_one_key_debit_once(db: Database) -> None:
    _, host, issued = await _setup(db)
    engines = [Database(db.url, pool_size=2) for _ in range(4)]
    try:
        outcomes = await asyncio.gather(
            *(
                check_in(e, KeyRing(e), host, pass_id=issued.id, key="same")
                for e in engines
                for _ in range(2)
            )
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert len({o.check_in.id for o in outcomes}) == 1
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 9


async def test_an_exhausted_pass_is_refused_and_the_refusal_recorded(db: Database) -> None:
    _, host, issued = await _setup(db, credits=1)
    keys = KeyRing(db)
    assert (await check_in(db, keys, host, pass_id=issued.id)).ok
    refused = await check_in(db, keys, host, pass_id=issued.id)
    assert (refused.ok, refused.check_in.code) == (False, "PASS_EXHAUSTED")
    async with db.reading() as session:
        codes = (await session.scalars(select(CheckIn.code).order_by(CheckIn.id))).all()
    assert codes == [None, "PASS_EXHAUSTED"]


async def test_an_expired_pass_is_refused(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    product = await make_product(db, home, validity_days=30)
    issued = await make_pass(db, product, person.id, now=utcnow() - timedelta(days=31))
    refused = await check_in(db, KeyRing(db), home, pass_id=issued.id)
    assert refused.check_in.code == "PASS_EXPIRED"


async def test_a_revoked_pass_stops_working_at_once(db: Database) -> None:
    home, host, issued = await _setup(db)
    keys = KeyRing(db)
    async with db.transaction() as session:
        await service.revoke_pass(session, manager_of(home), issued.id)
    refused = await check_in(db, keys, host, pass_id=issued.id)
    assert refused.check_in.code == "PASS_REVOKED"


async def test_a_made_up_token_is_an_invalid_pass(db: Database) -> None:
    _, host, _ = await _setup(db)
    refused = await check_in(db, KeyRing(db), host, token="not.a.token")
    assert refused.check_in.code == "INVALID_PASS_TOKEN"
    assert refused.check_in.pass_id is None


async def test_a_space_declining_network_passes_refuses_them(db: Database) -> None:
    home = await make_site(db)
    declining = await make_site(db, accepts_network_passes=False)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    refused = await check_in(db, KeyRing(db), declining, pass_id=issued.id)
    assert refused.check_in.code == "SITE_NOT_ACCEPTING"


async def test_a_space_limiting_products_refuses_the_others(db: Database) -> None:
    home, host, issued = await _setup(db)
    other = await make_product(db, home)
    async with db.transaction() as session:
        await service.limit_site_to_products(session, host.id, [other.id])
    refused = await check_in(db, KeyRing(db), host, pass_id=issued.id)
    assert refused.check_in.code == "SITE_NOT_ACCEPTING"
    person = await make_person(db, home=home)
    accepted = await make_pass(db, other, person.id)
    assert (await check_in(db, KeyRing(db), host, pass_id=accepted.id)).ok


async def test_a_funded_pass_works_only_at_participating_spaces(db: Database) -> None:
    inside = await make_site(db)
    outside = await make_site(db)
    programme = await make_programme(db, [inside])
    product = await make_product(db, None, kind=ProductKind.FUNDED, programme=programme)
    person = await make_person(db)
    funded = await make_pass(db, product, person.id, seller=coordinator())
    keys = KeyRing(db)
    assert (await check_in(db, keys, inside, pass_id=funded.id)).ok
    refused = await check_in(db, keys, outside, pass_id=funded.id)
    assert refused.check_in.code == "SITE_NOT_ACCEPTING"


async def test_a_membership_allows_its_quota_of_visits_a_month_per_host(db: Database) -> None:
    home = await make_site(db)
    host = await make_site(db)
    person = await make_person(db, home=home)
    membership = await make_product(
        db, home, kind=ProductKind.MEMBERSHIP, credits=2, visit_value_cents=1500
    )
    issued = await make_pass(db, membership, person.id)
    keys = KeyRing(db)
    assert (await check_in(db, keys, host, pass_id=issued.id)).ok
    assert (await check_in(db, keys, host, pass_id=issued.id, kind=CheckInKind.HALF_DAY)).ok
    refused = await check_in(db, keys, host, pass_id=issued.id)
    assert refused.check_in.code == "VISIT_QUOTA_REACHED"
    # At home the membership is simply a membership: no quota.
    assert (await check_in(db, keys, home, pass_id=issued.id)).ok


async def test_a_full_space_refuses_check_ins(db: Database) -> None:
    home = await make_site(db)
    host = await make_site(db, desks=2)
    keys = KeyRing(db)
    product = await make_product(db, home)
    codes = []
    for _ in range(3):
        person = await make_person(db, home=home)
        issued = await make_pass(db, product, person.id)
        codes.append((await check_in(db, keys, host, pass_id=issued.id)).check_in.code)
    assert codes == [None, None, "CAPACITY_FULL"]


async def test_a_half_day_carnet_spends_two_credits_for_a_day(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    product = await make_product(db, home, credits=15, unit=CreditUnit.HALF_DAY)
    issued = await make_pass(db, product, person.id)
    keys = KeyRing(db)
    day = await check_in(db, keys, home, pass_id=issued.id, kind=CheckInKind.DAY)
    half = await check_in(db, keys, home, pass_id=issued.id, kind=CheckInKind.HALF_DAY)
    assert (day.check_in.remaining_after, half.check_in.remaining_after) == (13, 12)


async def test_a_check_in_takes_few_statements_and_locks_no_shared_rollup_row(hub: Hub) -> None:
    home = await make_site(hub.db, "home", desks=20)
    host = await make_site(hub.db, "host", desks=20)  # desks: today's check-ins are counted
    person = await make_person(hub.db, home=home)
    issued = await make_pass(hub.db, await make_product(hub.db, home), person.id)
    keys = KeyRing(hub.db)
    token = await service.qr_token(keys, issued)
    query = "mutation($input: CheckInInput!) { checkIn(input: $input) { ok } }"

    def given(key: str) -> dict[str, Any]:
        return {"input": {"passToken": token, "site": "host", "kind": "DAY", "idempotencyKey": key}}

    await hub.data(query, given("warm-up"), viewer=kiosk_of(host))  # keys loaded, once
    with count_statements(hub.db) as log:
        data = await hub.data(query, given("counted"), viewer=kiosk_of(host))
    assert data["checkIn"]["ok"]
    # The space (with the permission), the pass and today's count in one read; the key
    # claimed; the check-in's answer; the debit; the use; then, at commit, the use queued
    # for the statistics. No separate read session, and no rollup row: rows every check-in
    # of the day shares are written later, many check-ins at a time.
    assert log.count <= 6, "\n".join(log.statements)
    assert not [s for s in log.statements if "usage_" in s and "usage_pending" not in s]
    with count_statements(hub.db) as log:
        data = await hub.data(query, given("counted"), viewer=kiosk_of(host))  # a retry
    assert log.count <= 3, "\n".join(log.statements)


async def test_a_check_in_needs_one_pass_and_a_key(db: Database) -> None:
    _, host, issued = await _setup(db)
    keys = KeyRing(db)
    with pytest.raises(BadUserInput):
        await check_in(db, keys, host, pass_id=issued.id, token="x.y.z")
    request = service.CheckInRequest(host.id, CheckInKind.DAY, "", pass_id=issued.id)
    with pytest.raises(BadUserInput):
        async with db.transaction() as session:
            await service.check_in(session, keys, request)
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0


async def test_a_membership_quota_holds_under_concurrency(db: Database) -> None:
    home = await make_site(db)
    host = await make_site(db)
    person = await make_person(db, home=home)
    membership = await make_product(
        db, home, kind=ProductKind.MEMBERSHIP, credits=2, visit_value_cents=1500
    )
    issued = await make_pass(db, membership, person.id)
    engines = [Database(db.url, pool_size=2) for _ in range(3)]
    try:
        outcomes = await asyncio.gather(
            *(
                check_in(engines[n % 3], KeyRing(engines[n % 3]), host, pass_id=issued.id)
                for n in range(12)
            )
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(o.ok for o in outcomes) == 2
    assert {o.check_in.code for o in outcomes if not o.ok} == {service.VISIT_QUOTA_REACHED}
