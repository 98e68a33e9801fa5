"""Rollups follow the uses and memberships they count (uses through the queue, applied
before statistics read), and always equal what a rebuild from the raw rows gives."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import Database
from federation.directory.models import Site
from federation.usage.models import (
    ActiveCount,
    ActiveSubject,
    Membership,
    NewMembersByPeriod,
    PendingUse,
    Use,
    UseKind,
    UsesByPeriod,
    UseSource,
    VisitsByPeriod,
)
from federation.usage.periods import Period
from federation.usage.rollups import STRIPES, stripe
from federation.usage.service import (
    MembershipRecord,
    UseRecord,
    drain,
    export_person_data,
    flush_rollups,
    forget_person,
    import_uses,
    keep_rollups_current,
    rebuild_rollups,
    record_use,
    remove_membership,
    remove_use,
    save_membership,
)
from tests.factories import make_site
from tests.federation.usage.factories import make_membership, make_use, rollup_rows


async def people(db: Database, period: Period, start: date, site_id: int, home: int = 0) -> int:
    """The counter summed over its stripes, once the queue is applied."""
    await drain(db)
    async with db.reading() as session:
        found = await session.scalar(
            select(func.sum(ActiveCount.people)).where(
                ActiveCount.period == period,
                ActiveCount.starts_on == start,
                ActiveCount.site_id == site_id,
                ActiveCount.home_site_id == home,
            )
        )
    return found or 0


async def uses(db: Database, period: Period, start: date, site_id: int) -> dict[UseKind, int]:
    await drain(db)
    async with db.reading() as session:
        rows = await session.execute(
            select(UsesByPeriod.kind, func.sum(UsesByPeriod.uses))
            .where(
                UsesByPeriod.period == period,
                UsesByPeriod.starts_on == start,
                UsesByPeriod.site_id == site_id,
            )
            .group_by(UsesByPeriod.kind)
        )
        return {kind: int(total) for kind, total in rows}


async def rebuilt(db: Database) -> dict[str, list[tuple[object, ...]]]:
    async with db.transaction() as session:
        await rebuild_rollups(session)
    return await rollup_rows(db)


async def test_a_use_counts_in_its_day_week_month_quarter_and_year_at_its_space_and_network(
    db: Database,
) -> None:
    site = await make_site(db)
    await make_use(db, site, date(2025, 3, 12), units=2)  # a Wednesday, a full day
    for period, start in [
        (Period.DAY, date(2025, 3, 12)),
        (Period.WEEK, date(2025, 3, 10)),
        (Period.MONTH, date(2025, 3, 1)),
        (Period.QUARTER, date(2025, 1, 1)),
        (Period.YEAR, date(2025, 1, 1)),
    ]:
        for scope in (site.id, 0):
            assert await uses(db, period, start, scope) == {UseKind.OPEN_SPACE: 2}
            assert await people(db, period, start, scope) == 1


async def test_a_second_use_by_the_same_person_adds_uses_but_not_people(db: Database) -> None:
    site = await make_site(db)
    await make_use(db, site, date(2025, 3, 12), subject="membership:7")
    await make_use(db, site, date(2025, 3, 13), subject="membership:7", kind=UseKind.OFFICE)
    await make_use(db, site, date(2025, 3, 13), subject="membership:8")
    march = date(2025, 3, 1)
    assert await uses(db, Period.MONTH, march, site.id) == {
        UseKind.OPEN_SPACE: 2,
        UseKind.OFFICE: 1,
    }
    assert await people(db, Period.MONTH, march, site.id) == 2
    assert await people(db, Period.DAY, date(2025, 3, 12), site.id) == 1
    assert await people(db, Period.DAY, date(2025, 3, 13), site.id) == 2


async def test_removing_a_persons_last_use_of_a_period_makes_them_inactive_in_it(
    db: Database,
) -> None:
    site = await make_site(db)
    first = await make_use(db, site, date(2025, 3, 12), subject="membership:7")
    second = await make_use(db, site, date(2025, 3, 20), subject="membership:7")
    async with db.transaction() as session:
        await remove_use(session, await session.get_one(Use, first.id))
    assert await people(db, Period.MONTH, date(2025, 3, 1), site.id) == 1
    assert await people(db, Period.DAY, date(2025, 3, 12), site.id) == 0
    async with db.transaction() as session:
        await remove_use(session, await session.get_one(Use, second.id))
    assert await rollup_rows(db) == {name: [] for name in await rollup_rows(db)}


async def test_a_visit_from_another_home_feeds_the_matrix_and_its_visitors(db: Database) -> None:
    home, host = await make_site(db), await make_site(db)
    await make_use(db, host, date(2025, 3, 12), subject="person:a", home=home, units=2)
    await make_use(db, host, date(2025, 3, 13), subject="person:a", home=home)
    await make_use(db, host, date(2025, 3, 13), subject="person:b", home=None)
    await drain(db)
    async with db.reading() as session:
        rows = await session.execute(
            select(VisitsByPeriod.site_id, VisitsByPeriod.home_site_id, VisitsByPeriod.uses).where(
                VisitsByPeriod.period == Period.MONTH
            )
        )
        assert sorted(tuple(row) for row in rows) == sorted(
            [(host.id, home.id, 3), (host.id, 0, 3), (0, 0, 3)]
        )
    assert await people(db, Period.MONTH, date(2025, 3, 1), host.id, home.id) == 1


async def test_a_rolled_back_savepoint_takes_its_rollup_changes_with_it(db: Database) -> None:
    site = await make_site(db)
    record = UseRecord(
        site.id, date(2025, 3, 12), UseKind.OPEN_SPACE, 1, "membership:1", site.id, UseSource.SYNC
    )

    async def rejected(session: AsyncSession) -> None:
        async with session.begin_nested():
            await record_use(session, record)
            raise RuntimeError("rejected record")

    async with db.transaction() as session:
        await record_use(session, record)
        with pytest.raises(RuntimeError):
            await rejected(session)
        async with session.begin_nested():
            await record_use(session, record)
    assert await uses(db, Period.DAY, date(2025, 3, 12), site.id) == {UseKind.OPEN_SPACE: 2}
    assert await rollup_rows(db) == await rebuilt(db)


async def test_a_failed_transaction_leaves_no_rollup_behind(db: Database) -> None:
    site = await make_site(db)

    async def failing() -> None:
        async with db.transaction() as session:
            await record_use(
                session,
                UseRecord(
                    site.id,
                    date(2025, 3, 12),
                    UseKind.OPEN_SPACE,
                    1,
                    "membership:1",
                    site.id,
                    UseSource.SYNC,
                ),
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    assert all(rows == [] for rows in (await rollup_rows(db)).values())


async def test_rollups_can_be_read_back_within_the_writing_transaction(db: Database) -> None:
    site = await make_site(db)
    async with db.transaction() as session:
        await record_use(
            session,
            UseRecord(
                site.id, date(2025, 3, 12), UseKind.OFFICE, 1, "m:1", site.id, UseSource.SYNC
            ),
        )
        await flush_rollups(session)
        total = await session.scalar(
            select(UsesByPeriod.uses).where(
                UsesByPeriod.period == Period.YEAR, UsesByPeriod.site_id == 0
            )
        )
    assert total == 1


async def test_concurrent_writers_count_each_person_once(db: Database) -> None:
    """Eight transactions at once, on separate connections, half of them by one person."""
    site = await make_site(db)

    async def check_in(n: int) -> None:
        async with db.transaction() as session:
            await record_use(
                session,
                UseRecord(
                    site.id,
                    date(2025, 3, 10 + n % 4),
                    UseKind.OPEN_SPACE,
                    1,
                    "person:shared" if n % 2 else f"person:{n}",
                    site.id if n % 3 else None,
                    UseSource.CHECK_IN,
                ),
            )
            await asyncio.sleep(0.01)  # hold the transaction open while the others start

    await asyncio.gather(*(check_in(n) for n in range(8)))
    assert await people(db, Period.MONTH, date(2025, 3, 1), site.id) == 5
    assert await people(db, Period.MONTH, date(2025, 3, 1), 0) == 5
    assert await uses(db, Period.MONTH, date(2025, 3, 1), 0) == {UseKind.OPEN_SPACE: 8}
    assert await rollup_rows(db) == await rebuilt(db)


async def test_concurrent_batches_touching_the_same_rows_in_opposite_orders_all_commit(
    db: Database,
) -> None:
    """Sync batches that write (and remove) uses across a year's end in opposite orders at
    two spaces: their rollup rows are written in one global order, so none deadlocks."""
    sites = [await make_site(db), await make_site(db)]
    days = [date(2025, 12, 30), date(2026, 1, 2), date(2026, 1, 5)]
    doomed = await make_use(db, sites[0], days[0], subject="person:9")

    async def batch(n: int) -> None:
        async with db.transaction() as session:
            order = days if n % 2 else list(reversed(days))
            for day in order:
                await record_use(
                    session,
                    UseRecord(
                        sites[n % 2].id,
                        day,
                        UseKind.OPEN_SPACE,
                        1,
                        f"person:{n % 3}",
                        sites[(n + 1) % 2].id,
                        UseSource.SYNC,
                    ),
                )
                await asyncio.sleep(0.005)
            if n == 0:
                await remove_use(session, await session.get_one(Use, doomed.id))

    await asyncio.gather(*(batch(n) for n in range(6)))
    assert await uses(db, Period.YEAR, date(2026, 1, 1), 0) == {UseKind.OPEN_SPACE: 12}
    assert await rollup_rows(db) == await rebuilt(db)


async def test_new_members_count_where_a_membership_starts_and_move_with_it(
    db: Database,
) -> None:
    site = await make_site(db)
    membership = await make_membership(db, site, date(2025, 3, 3), external_id="m-1")
    await make_membership(db, site, date(2025, 3, 20))

    async def members(month: date) -> int | None:
        async with db.reading() as session:
            return await session.scalar(
                select(NewMembersByPeriod.members).where(
                    NewMembersByPeriod.period == Period.MONTH,
                    NewMembersByPeriod.starts_on == month,
                    NewMembersByPeriod.site_id == 0,
                )
            )

    assert await members(date(2025, 3, 1)) == 2
    async with db.transaction() as session:
        _, saved = await save_membership(
            session,
            MembershipRecord(
                site.id, "m-1", date(2025, 4, 1), datetime(2026, 2, 1, tzinfo=UTC), plan="Mois"
            ),
        )
        assert saved == "updated"
    assert (await members(date(2025, 3, 1)), await members(date(2025, 4, 1))) == (1, 1)
    async with db.transaction() as session:
        await remove_membership(session, await session.get_one(Membership, membership.id))
    assert await members(date(2025, 4, 1)) is None
    assert await rollup_rows(db) == await rebuilt(db)


async def test_an_older_membership_change_never_overwrites_a_newer_one(db: Database) -> None:
    site = await make_site(db)
    await make_membership(db, site, date(2025, 3, 3), external_id="m-1")
    async with db.transaction() as session:
        _, saved = await save_membership(
            session,
            MembershipRecord(site.id, "m-1", date(2024, 1, 1), datetime(2020, 1, 1, tzinfo=UTC)),
        )
    assert saved == "stale"
    async with db.reading() as session:
        assert await session.scalar(select(Membership.starts_on)) == date(2025, 3, 3)


async def test_forgetting_a_person_keeps_every_count_but_not_their_id(db: Database) -> None:
    home, host = await make_site(db), await make_site(db)
    person_id = uuid.uuid4()
    subject = f"person:{person_id}"
    await make_use(db, host, date(2025, 3, 12), subject=subject, home=home)
    await make_use(db, host, date(2025, 3, 14), subject=subject, home=home)
    await make_use(db, host, date(2025, 3, 14), subject="membership:3")
    async with db.reading() as session:
        exported = await export_person_data(session, person_id)
    assert [u["day"] for u in exported["uses"]] == ["2025-03-12", "2025-03-14"]
    before = await rollup_rows(db)
    async with db.transaction() as session:
        await forget_person(session, person_id)
    after = await rollup_rows(db)
    assert str(person_id) not in repr(after)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert after["usage_active_counts"] == before["usage_active_counts"]
    assert after == await rebuilt(db)
    async with db.reading() as session:
        assert (await export_person_data(session, person_id))["uses"] == []


async def test_importing_uses_skips_known_ones_and_rebuilds_their_rollups(db: Database) -> None:
    site = await make_site(db)
    records = [
        UseRecord(
            site.id,
            date(2025, 1, 1) + timedelta(days=n),
            UseKind.OPEN_SPACE,
            1 + n % 2,
            f"membership:{n % 5}",
            site.id,
            UseSource.SYNC,
            external_id=f"h-{n}",
        )
        for n in range(40)
    ]
    async with db.transaction() as session:
        assert await import_uses(session, records[:30]) == 30
    async with db.transaction() as session:
        assert await import_uses(session, records) == 10
    assert await uses(db, Period.YEAR, date(2025, 1, 1), site.id) == {UseKind.OPEN_SPACE: 60}
    assert await people(db, Period.YEAR, date(2025, 1, 1), 0) == 5
    assert await rollup_rows(db) == await rebuilt(db)


# --- stripes -------------------------------------------------------------------------------


def subject_of_stripe(wanted: int, prefix: str = "person:") -> str:
    return next(f"{prefix}{n}" for n in itertools.count() if stripe(f"{prefix}{n}") == wanted)


async def test_a_subjects_stripe_is_the_same_in_python_and_in_sql(db: Database) -> None:
    subjects = [
        *(f"person:{uuid.UUID(int=n * 7919)}" for n in range(40)),
        *(f"membership:{n}" for n in range(40)),
        f"erased:{uuid.UUID(int=5).hex}",
        "pass:é",  # the SQL function hashes the UTF-8 bytes, as Python does
    ]
    async with db.reading() as session:
        in_sql = [
            await session.scalar(text("SELECT usage_stripe(:subject)"), {"subject": subject})
            for subject in subjects
        ]
    assert in_sql == [stripe(subject) for subject in subjects]
    assert set(in_sql) == set(range(STRIPES))


async def test_removing_a_use_takes_from_the_stripe_its_addition_went_to(db: Database) -> None:
    site = await make_site(db)
    day = date(2025, 3, 12)
    one, two = subject_of_stripe(3), subject_of_stripe(11)
    doomed = await make_use(db, site, day, subject=one, home=None)
    await make_use(db, site, day, subject=two, home=None)
    await make_use(db, site, day, subject=two, home=None)

    async def by_stripe() -> dict[int, tuple[int, int]]:
        await drain(db)
        async with db.reading() as session:
            uses = dict(
                (
                    await session.execute(
                        select(UsesByPeriod.shard, UsesByPeriod.uses).where(
                            UsesByPeriod.period == Period.DAY, UsesByPeriod.site_id == 0
                        )
                    )
                ).all()
            )
            people = dict(
                (
                    await session.execute(
                        select(ActiveCount.shard, ActiveCount.people).where(
                            ActiveCount.period == Period.DAY, ActiveCount.site_id == 0
                        )
                    )
                ).all()
            )
        return {shard: (uses[shard], people[shard]) for shard in uses}

    assert await by_stripe() == {3: (1, 1), 11: (2, 1)}
    async with db.transaction() as session:
        await remove_use(session, await session.get_one(Use, doomed.id))
    assert await by_stripe() == {11: (2, 1)}
    assert await rollup_rows(db) == await rebuilt(db)


async def test_a_check_in_never_waits_for_the_rollups_while_they_are_being_written(
    db: Database,
) -> None:
    """Two connections: A is applying the queue and has not committed (it holds the
    applier's lock and its rollup rows' locks); B, at the same space on the same day for the
    same person, commits at once: it only appends to the queue. Written in B's own
    transaction, B's rollups would wait for A's commit and time out."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers by design")
    site = await make_site(db)
    day = date(2025, 3, 12)
    subject = subject_of_stripe(1)
    # Earlier in the week, so that A adds to existing rows and creates new ones.
    await make_use(db, site, day - timedelta(days=1), subject=subject)

    def check_in() -> UseRecord:
        return UseRecord(site.id, day, UseKind.OPEN_SPACE, 1, subject, None, UseSource.CHECK_IN)

    async with db.transaction() as a:
        await record_use(a, check_in())
        await flush_rollups(a)  # A now holds the rollup rows its use adds to, until it commits
        async with db.transaction() as b:
            await b.execute(text("SET LOCAL lock_timeout = '2s'"))
            await record_use(b, check_in())
    for scope in (site.id, 0):
        assert await uses(db, Period.DAY, day, scope) == {UseKind.OPEN_SPACE: 2}
        assert await people(db, Period.DAY, day, scope) == 1
        assert await uses(db, Period.WEEK, date(2025, 3, 10), scope) == {UseKind.OPEN_SPACE: 3}
        assert await people(db, Period.WEEK, date(2025, 3, 10), scope) == 1
    assert await rollup_rows(db) == await rebuilt(db)


# --- the queue ------------------------------------------------------------------------------


async def queued(db: Database) -> int:
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(PendingUse)) or 0


async def test_a_committed_use_waits_in_the_queue_until_it_is_applied(db: Database) -> None:
    site = await make_site(db)
    await make_use(db, site, date(2025, 3, 12), subject="person:1")
    await make_use(db, site, date(2025, 3, 12), subject="person:2")
    async with db.reading() as session:
        written = await session.scalar(select(func.count()).select_from(UsesByPeriod))
    assert (await queued(db), written) == (2, 0)
    assert await drain(db) == 2
    assert await queued(db) == 0
    assert await uses(db, Period.DAY, date(2025, 3, 12), site.id) == {UseKind.OPEN_SPACE: 2}
    assert await drain(db) == 0  # nothing left: one read, no transaction


async def test_the_queue_is_applied_in_batches_until_it_is_empty(db: Database) -> None:
    site = await make_site(db)
    for n in range(5):
        await make_use(db, site, date(2025, 3, 10 + n), subject=f"person:{n % 2}")
    assert await drain(db, batch=2) == 5
    assert await rollup_rows(db) == await rebuilt(db)


async def test_a_rebuild_applies_the_queue_first_so_each_use_counts_once(db: Database) -> None:
    """Queued uses inside and outside a ranged rebuild: the rebuild takes the queue in
    (under the same locks), so none is counted twice or lost."""
    site = await make_site(db)
    for day in (date(2025, 1, 15), date(2025, 3, 12), date(2025, 3, 13)):
        await make_use(db, site, day, subject="person:1")
    async with db.transaction() as session:
        await rebuild_rollups(session, date(2025, 3, 1), date(2025, 3, 31))
    assert await queued(db) == 0
    assert await uses(db, Period.YEAR, date(2025, 1, 1), site.id) == {UseKind.OPEN_SPACE: 3}
    assert await rollup_rows(db) == await rebuilt(db)


async def test_the_server_applies_the_queue_on_its_own(db: Database) -> None:
    site = await make_site(db)
    applier = asyncio.create_task(keep_rollups_current(db, every=0.01))
    try:
        await make_use(db, site, date(2025, 3, 12), subject="person:1")
        for _ in range(1000):  # until the applier has run: no statistics read drains here
            if not await queued(db):
                break
            await asyncio.sleep(0.01)
        assert await queued(db) == 0
    finally:
        applier.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await applier
    async with db.reading() as session:
        total = await session.scalar(
            select(func.sum(UsesByPeriod.uses)).where(
                UsesByPeriod.period == Period.YEAR, UsesByPeriod.site_id == site.id
            )
        )
    assert total == 1


# --- rebuild equals incremental -----------------------------------------------------------

BASE = date(2025, 12, 20)  # so that random days cross a week, a month, a quarter and a year

step = st.one_of(
    st.tuples(
        st.just("record"),
        st.integers(0, 2),  # host
        st.integers(0, 20),  # day offset
        st.sampled_from(list(UseKind)),
        st.integers(1, 2),  # units
        st.sampled_from([0, 1, 2, 3, 7]),  # who: four stripes, person:7 in person:1's
        st.sampled_from([None, 0, 1, 2, "host"]),  # home
    ),
    st.tuples(st.just("remove"), st.integers(0, 1000)),
    st.tuples(st.just("join"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("leave"), st.integers(0, 1000)),
)
# Transactions of a few steps each, committed, rolled back, or with a rolled-back savepoint.
transactions = st.lists(
    st.tuples(
        st.lists(step, min_size=1, max_size=6),
        st.sampled_from(["commit", "commit", "rollback", "savepoint"]),
    ),
    min_size=1,
    max_size=6,
)


class Rejected(Exception):
    pass


async def _reset(db: Database) -> None:
    async with db.transaction() as session:
        for model in (
            Use,
            Membership,
            UsesByPeriod,
            ActiveSubject,
            ActiveCount,
            VisitsByPeriod,
            NewMembersByPeriod,
        ):
            await session.execute(delete(model))


async def _run(session: AsyncSession, sites: list[Site], steps: list[Any], names: Any) -> None:
    for op in steps:
        if op[0] == "record":
            _, host, offset, kind, units, who, home = op
            home_id = sites[host].id if home == "host" else None if home is None else sites[home].id
            await record_use(
                session,
                UseRecord(
                    sites[host].id,
                    BASE + timedelta(days=offset),
                    kind,
                    units,
                    f"person:{who}",
                    home_id,
                    UseSource.SYNC,
                ),
            )
        elif op[0] == "remove":
            live = (await session.scalars(select(Use).order_by(Use.id))).all()
            if live:
                await remove_use(session, live[op[1] % len(live)])
        elif op[0] == "join":
            await save_membership(
                session,
                MembershipRecord(
                    sites[op[1]].id,
                    f"m-{next(names)}",
                    BASE + timedelta(days=op[2]),
                    datetime(2026, 1, 1, tzinfo=UTC),
                ),
            )
        else:
            held = (await session.scalars(select(Membership).order_by(Membership.id))).all()
            if held:
                await remove_membership(session, held[op[1] % len(held)])


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=transactions, span=st.tuples(st.integers(-3, 24), st.integers(-3, 24)))
async def test_rebuilding_gives_the_same_rollups_as_every_incremental_change(
    db: Database, plan: list[tuple[list[Any], str]], span: tuple[int, int]
) -> None:
    await _reset(db)
    sites = [await make_site(db) for _ in range(3)]
    names = itertools.count()
    for steps, ending in plan:
        try:
            async with db.transaction() as session:
                if ending == "savepoint":
                    await _run(session, sites, steps[:1], names)
                    with contextlib.suppress(Rejected):
                        async with session.begin_nested():
                            await _run(session, sites, steps[1:], names)
                            raise Rejected
                else:
                    await _run(session, sites, steps, names)
                    if ending == "rollback":
                        raise Rejected
        except Rejected:
            pass
    incremental = await rollup_rows(db)
    assert incremental == await rebuilt(db)
    # A range (the periods meeting it) rebuilds to the same rows too: nothing is counted
    # twice at its edges or left out, whichever periods it cuts.
    first, last = (BASE + timedelta(days=offset) for offset in sorted(span))
    async with db.transaction() as session:
        await rebuild_rollups(session, first, last)
    assert await rollup_rows(db) == incremental
