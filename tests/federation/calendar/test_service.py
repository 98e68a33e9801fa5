"""Calendar services called directly: capacity under concurrency, the waiting list, the
sync entry points, the rolling horizon and personal data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from federation.access import ANONYMOUS
from federation.calendar import service
from federation.calendar.models import (
    Audience,
    Category,
    Event,
    EventStatus,
    Occurrence,
    Registration,
    RegistrationStatus,
)
from federation.db import Database
from federation.errors import BadUserInput
from federation.kit.pagination import PageRequest
from tests.factories import make_site
from tests.federation.calendar.support import (
    COORDINATOR,
    PARIS,
    make_coworker,
    make_event,
    soon,
)


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


# --- the occurrences' copies of their event's space, audience and category ----------------


async def copies_out_of_step(db: Database) -> list[Any]:
    """Occurrences whose copies differ from their event's own fields (none, ever)."""
    async with db.reading() as session:
        rows = await session.execute(
            select(Occurrence.id, Occurrence.site_id, Event.site_id)
            .join(Event, Event.id == Occurrence.event_id)
            .where(
                (Occurrence.audience != Event.audience)
                | (Occurrence.category != Event.category)
                | (func.coalesce(Occurrence.site_id, 0) != func.coalesce(Event.site_id, 0))
            )
        )
        return list(rows)


async def copies(db: Database, event_id: int) -> set[tuple[Any, ...]]:
    async with db.reading() as session:
        rows = await session.execute(
            select(Occurrence.site_id, Occurrence.audience, Occurrence.category).where(
                Occurrence.event_id == event_id
            )
        )
        return {tuple(row) for row in rows}


async def test_occurrences_follow_their_events_audience_category_and_cancellation(
    db: Database,
) -> None:
    site = await make_site(db, "casaco")
    first, event_id = await make_event(db, site, rrule="FREQ=WEEKLY;COUNT=4", starts_at=soon(2))
    assert await copies(db, event_id) == {(site.id, Audience.PUBLIC, Category.WORKSHOP)}
    async with db.transaction() as session:
        await service.update_event(
            session,
            COORDINATOR,
            first,
            {"audience": Audience.MEMBERS, "category": Category.TRAINING},
        )
    assert await copies(db, event_id) == {(site.id, Audience.MEMBERS, Category.TRAINING)}
    async with db.reading() as session:
        public = await service.list_occurrences(
            session,
            ANONYMOUS,
            start=soon(0),
            end=soon(60),
            filters=service.EventFilter(),
            page=PageRequest(first=10, after=None),
        )
        assert public.items == []
        assert await public.count(session) == 0
    async with db.transaction() as session:
        await service.cancel_event(session, COORDINATOR, first)
    async with db.reading() as session:
        statuses = set(
            await session.scalars(select(Occurrence.status).where(Occurrence.event_id == event_id))
        )
    assert statuses == {EventStatus.CANCELLED}
    assert await copies(db, event_id) == {(site.id, Audience.MEMBERS, Category.TRAINING)}
    assert await copies_out_of_step(db) == []


async def test_an_occurrence_kept_for_its_registrations_follows_too(db: Database) -> None:
    site = await make_site(db, "casaco")
    first, event_id = await make_event(db, site, rrule="FREQ=WEEKLY;COUNT=3", starts_at=soon(2))
    person = await make_coworker(db, site)
    async with db.transaction() as session:
        await service.register_for_event(session, person, first)
    async with db.transaction() as session:  # the registered first date leaves the rule
        await service.update_event(
            session,
            COORDINATOR,
            first,
            {"exdates": (soon(2).astimezone(UTC),), "audience": Audience.NETWORK},
        )
    assert await copies(db, event_id) == {(site.id, Audience.NETWORK, Category.WORKSHOP)}
    assert await copies_out_of_step(db) == []


async def test_an_event_moved_to_another_space_takes_its_occurrences_along(
    db: Database,
) -> None:
    casaco, fontaine = await make_site(db, "casaco"), await make_site(db, "la-fontaine")
    data = service.EventData(
        title="Marché",
        category=Category.MARKET,
        starts_at=soon(3),
        ends_at=soon(3) + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=5",
    )
    async with db.transaction() as session:
        assert await service.save_event(session, uid="m@x", site_id=casaco.id, data=data) == (
            "created"
        )
    async with db.transaction() as session:
        assert await service.save_event(session, uid="m@x", site_id=fontaine.id, data=data) == (
            "updated"
        )
    async with db.reading() as session:
        event = await session.scalar(select(Event).where(Event.uid == "m@x"))
        assert event is not None
        assert event.sequence == 1  # its place changed: calendar apps show it again
        listed = await service.list_occurrences(
            session,
            ANONYMOUS,
            start=soon(0),
            end=soon(60),
            filters=service.EventFilter(site="la-fontaine"),
            page=PageRequest(first=10, after=None),
        )
        assert len(listed.items) == 5
    assert await copies(db, event.id) == {(fontaine.id, Audience.PUBLIC, Category.MARKET)}
    assert await copies_out_of_step(db) == []


async def test_synced_edits_and_the_rolling_horizon_keep_the_copies(db: Database) -> None:
    site = await make_site(db, "casaco")
    assert await save(db, site.id, SYNCED) == "created"
    later = T1 + timedelta(hours=1)
    changed = {**SYNCED, "audience": "NETWORK", "category": "TRAINING"}
    assert await save(db, site.id, changed, later) == "updated"
    async with db.reading() as session:
        synced_id = await session.scalar(select(Event.id))
    assert synced_id is not None
    assert await copies(db, synced_id) == {(site.id, Audience.NETWORK, Category.TRAINING)}
    _, weekly = await make_event(
        db, None, rrule="FREQ=WEEKLY", starts_at=soon(1), audience=Audience.MEMBERS
    )
    async with db.transaction() as session:
        await service.extend_horizon(session, days=service.HORIZON_DAYS + 60)
    assert await copies(db, weekly) == {(None, Audience.MEMBERS, Category.WORKSHOP)}
    assert await copies_out_of_step(db) == []
