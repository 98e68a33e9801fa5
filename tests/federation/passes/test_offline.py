"""Offline visits: applied in time order, idempotent, over-use kept and flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from federation.db import Database
from federation.keys.service import KeyRing
from federation.kit.clock import utcnow
from federation.passes import service
from federation.passes.models import CheckIn, Pass
from federation.passes.service import OfflineVisit, record_offline_visits
from federation.usage.models import Use, UseSource
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import coordinator, make_pass, make_product, manager_of


async def test_offline_visits_apply_in_time_order_and_flag_over_use(db: Database) -> None:
    home = await make_site(db)
    host = await make_site(db)
    person = await make_person(db, home=home)
    start = utcnow() - timedelta(days=3)
    product = await make_product(db, home, credits=2)
    issued = await make_pass(db, product, person.id, now=start - timedelta(days=1))
    keys = KeyRing(db)
    token = await service.qr_token(keys, issued)
    # Sent out of order: the latest visit is the one beyond the credits.
    visits = [
        OfflineVisit(token, start + timedelta(days=2), "DAY", "v3"),
        OfflineVisit(token, start, "DAY", "v1"),
        OfflineVisit(token, start + timedelta(days=1), "HALF_DAY", "v2"),
    ]
    async with db.transaction() as session:
        outcomes = await record_offline_visits(session, keys=keys, site_id=host.id, visits=visits)
    assert [(o.external_id, o.ok, o.over_use) for o in outcomes] == [
        ("v3", False, True),
        ("v1", True, False),
        ("v2", True, False),
    ]
    assert outcomes[0].code == "PASS_EXHAUSTED"
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 0
        kiosk_uses = await session.scalar(
            select(func.count()).select_from(Use).where(Use.source == UseSource.KIOSK)
        )
    assert kiosk_uses == 3  # the over-use happened: statistics count it
    # Visible to the managers of both spaces and to coordinators; not to others.
    for viewer in (manager_of(host), manager_of(home), coordinator()):
        async with db.reading() as session:
            flagged = await service.over_uses(session, viewer)
        assert [c.id for c in flagged] == [outcomes[0].check_in_id]
    elsewhere = await make_site(db)
    async with db.reading() as session:
        assert await service.over_uses(session, manager_of(elsewhere)) == []


async def test_offline_visits_are_idempotent_per_external_id(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    keys = KeyRing(db)
    token = await service.qr_token(keys, issued)
    visits = [OfflineVisit(token, utcnow(), "DAY", "same")]
    for _ in range(2):
        async with db.transaction() as session:
            outcomes = await record_offline_visits(
                session, keys=keys, site_id=home.id, visits=visits
            )
    assert outcomes[0].replayed
    async with db.reading() as session:
        assert await session.scalar(select(Pass.remaining).where(Pass.id == issued.id)) == 9
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 1


async def test_per_visit_problems_are_outcomes_not_errors(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    keys = KeyRing(db)
    token = await service.qr_token(keys, issued)
    now = utcnow()
    visits = [
        OfflineVisit("garbage", now, "DAY", "bad-token"),
        OfflineVisit(token, now, "WEEK", "bad-kind"),
        OfflineVisit(token, datetime(2020, 1, 1, tzinfo=UTC), "DAY", "before-valid"),
        OfflineVisit(token, now - timedelta(minutes=1), "DAY", "good"),
    ]
    async with db.transaction() as session:
        outcomes = await record_offline_visits(session, keys=keys, site_id=home.id, visits=visits)
    assert [o.code for o in outcomes] == [
        "INVALID_PASS_TOKEN",
        "BAD_USER_INPUT",
        "PASS_EXPIRED",
        None,
    ]


async def test_a_visit_made_before_a_revocation_still_counts(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    visited = utcnow() - timedelta(hours=3)
    product = await make_product(db, home)
    issued = await make_pass(db, product, person.id, now=visited - timedelta(hours=1))
    keys = KeyRing(db)
    token = await service.qr_token(keys, issued)
    async with db.transaction() as session:
        await service.revoke_pass(session, manager_of(home), issued.id)
    visits = [
        OfflineVisit(token, visited, "DAY", "before"),
        OfflineVisit(token, utcnow(), "DAY", "after"),
    ]
    async with db.transaction() as session:
        outcomes = await record_offline_visits(session, keys=keys, site_id=home.id, visits=visits)
    assert [o.code for o in outcomes] == [None, "PASS_REVOKED"]
