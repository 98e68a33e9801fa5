"""Calendar services called directly: capacity under concurrency, the waiting list, the
sync entry points, the rolling horizon and personal data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from federation.calendar import service
from federation.calendar.models import (
    Event,
    EventStatus,
    Occurrence,
    Registration,
    RegistrationStatus,
)
from federation.db import Database
from federation.errors import BadUserInput
from tests.factories import make_site
from tests.federation.calendar.support import PARIS, make_coworker, make_event, soon


async def test_concurrent_registrations_never_exceed_capacity(db: Database) -> None:
    site = await make_site(db, "casaco")
    occurrence, _ = await make_event(db, site, capacity=3)
    people = [await make_coworker(db, site) for _ in range(8)]
    engines = [Database(db.url) for _ in people]

    async def register(engine: Database, viewer: Any) -> RegistrationStatus:
        async with engine.transaction() as session:
            registration, _, _ = await service.register_for_event(session, viewer, occurrence)
            return registration.status

    try:
        statuses = await asyncio.gather(
            *(register(engine, viewer) for engine, viewer in zip(engines, people, strict=True))
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert statuses.count(RegistrationStatus.CONFIRMED) == 3
    assert statuses.count(RegistrationStatus.WAITLISTED) == 5
    async with db.reading() as session:
        row = await session.get(Occurrence, int(occurrence))
        assert row is not None
        assert row.confirmed == 3


async def test_a_withdrawal_promotes_the_first_waiting_in_order(db: Database) -> None:
    site = await make_site(db, "casaco")
    occurrence, _ = await make_event(db, site, capacity=2)
    people = [await make_coworker(db, site) for _ in range(4)]
    for viewer in people:
        async with db.transaction() as session:
            await service.register_for_event(session, viewer, occurrence)
    async with db.transaction() as session:
        await service.cancel_registration(session, people[0], occurrence)
    async with db.reading() as session:
        rows = {
            r.person_id: r.status
            for r in await session.scalars(
                select(Registration).where(Registration.occurrence_id == int(occurrence))
            )
        }
    assert [rows[v.person_id] for v in people] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
    ]


async def test_raising_the_capacity_confirms_people_waiting(db: Database) -> None:
    site = await make_site(db, "casaco")
    occurrence, _ = await make_event(db, site, capacity=1)
    people = [await make_coworker(db, site) for _ in range(3)]
    for viewer in people:
        async with db.transaction() as session:
            await service.register_for_event(session, viewer, occurrence)
    from tests.federation.calendar.support import COORDINATOR

    async with db.transaction() as session:
        await service.update_event(session, COORDINATOR, occurrence, {"capacity": 2})
    async with db.reading() as session:
        confirmed = await session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.status == RegistrationStatus.CONFIRMED)
        )
    assert confirmed == 2
    async with db.transaction() as session:
        with pytest.raises(BadUserInput, match="capacity"):
            await service.update_event(session, COORDINATOR, occurrence, {"capacity": 1})


SYNCED: dict[str, Any] = {
    "title": "Casapéro",
    "category": "AFTERWORK",
    "startsAt": "2027-01-07T19:00:00+01:00",
    "endsAt": "2027-01-07T22:00:00+01:00",
    "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=10",
    "exdates": ["2027-01-14T19:00:00+01:00"],
    "overrides": [
        {
            "recurrenceId": "2027-01-21T19:00:00+01:00",
            "startsAt": "2027-01-22T19:00:00+01:00",
            "endsAt": "2027-01-22T22:00:00+01:00",
            "title": "Casapéro du vendredi",
        }
    ],
    "uid": "casapero-2027@casaco.fr",
    "location": "6 avenue Jean Jaurès, 92240 Malakoff",
    "keywords": ["afterwork"],
}
T1 = datetime(2026, 12, 1, tzinfo=UTC)


async def save(db: Database, site_id: int, data: dict[str, Any], when: datetime = T1) -> str:
    async with db.transaction() as session:
        return await service.save_synced_event(
            session, site_id=site_id, external_id="ev-1", updated_at=when, data=data
        )


async def test_a_synced_event_is_created_updated_and_older_data_never_wins(db: Database) -> None:
    site = await make_site(db, "casaco")
    assert await save(db, site.id, SYNCED) == "created"
    assert await save(db, site.id, SYNCED) == "unchanged"
    later = T1 + timedelta(hours=1)
    assert await save(db, site.id, {**SYNCED, "title": "Casapéro !"}, later) == "updated"
    assert await save(db, site.id, {**SYNCED, "title": "Ancien"}, T1) == "unchanged"
    async with db.reading() as session:
        event = await session.scalar(select(Event))
        assert event is not None
        assert (event.title, event.uid, event.sequence) == ("Casapéro !", SYNCED["uid"], 1)
        starts = list(
            await session.scalars(
                select(Occurrence.starts_at)
                .where(Occurrence.event_id == event.id)
                .order_by(Occurrence.starts_at)
            )
        )
    assert len(starts) == 9  # ten Thursdays, one excluded
    assert datetime(2027, 1, 22, 19, tzinfo=PARIS) in starts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "PARTY"),
        ("startsAt", "demain"),
        ("rrule", "FREQ=NEVER"),
        ("capacity", -2),
        ("endsAt", "2027-01-07T18:00:00+01:00"),
        ("audience", "EVERYONE"),
    ],
)
async def test_invalid_synced_data_names_the_field(db: Database, field: str, value: Any) -> None:
    site = await make_site(db, "casaco")
    with pytest.raises(BadUserInput) as raised:
        await save(db, site.id, {**SYNCED, field: value})
    assert field in raised.value.message
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_a_snapshot_cancels_the_events_it_no_longer_holds_and_delete_cancels(
    db: Database,
) -> None:
    site = await make_site(db, "casaco")
    for external_id in ("a", "b", "c"):
        async with db.transaction() as session:
            await service.save_synced_event(
                session,
                site_id=site.id,
                external_id=external_id,
                updated_at=T1,
                data={**SYNCED, "uid": f"{external_id}@casaco.fr"},
            )
    async with db.transaction() as session:
        cancelled = await service.cancel_synced_events_except(
            session, site_id=site.id, keep_external_ids={"a"}
        )
    assert cancelled == 2
    async with db.transaction() as session:
        assert await service.delete_synced_event(session, site_id=site.id, external_id="a")
        assert not await service.delete_synced_event(session, site_id=site.id, external_id="zz")
    async with db.reading() as session:
        statuses = set(await session.scalars(select(Event.status)))
        occurrences = set(await session.scalars(select(Occurrence.status)))
    assert statuses == {EventStatus.CANCELLED}  # kept, so feeds tell calendar apps
    assert occurrences == {EventStatus.CANCELLED}


async def test_the_horizon_rolls_forward_for_open_ended_series(db: Database) -> None:
    site = await make_site(db, "casaco")
    await make_event(db, site, rrule="FREQ=WEEKLY", starts_at=soon(1))
    async with db.reading() as session:
        before = await session.scalar(select(func.max(Occurrence.starts_at)))
    async with db.transaction() as session:
        moved = await service.extend_horizon(session, days=service.HORIZON_DAYS + 60)
    async with db.reading() as session:
        after = await session.scalar(select(func.max(Occurrence.starts_at)))
    assert moved == 1
    assert before is not None
    assert after is not None
    assert after - before >= timedelta(days=56)


async def test_forgetting_a_person_frees_their_place_for_someone_waiting(db: Database) -> None:
    site = await make_site(db, "casaco")
    occurrence, _ = await make_event(db, site, capacity=1)
    first, second = await make_coworker(db, site), await make_coworker(db, site)
    for viewer in (first, second):
        async with db.transaction() as session:
            await service.register_for_event(session, viewer, occurrence)
            await service.reset_feed_token(session, viewer.require_person())
    async with db.reading() as session:
        exported = await service.export_person_data(session, first.require_person())
    assert exported["registrations"][0]["status"] == "CONFIRMED"
    assert exported["private_feed"] is True
    async with db.transaction() as session:
        await service.forget_person(session, first.require_person())
    async with db.reading() as session:
        assert await service.export_person_data(session, first.require_person()) == {
            "registrations": [],
            "private_feed": False,
        }
        second_row = await service.registration_of(
            session, second.require_person(), int(occurrence)
        )
    assert second_row is not None
    assert second_row.status is RegistrationStatus.CONFIRMED
