"""Recording and removing uses and memberships, and keeping the statistics' rollups.

Every write of a use or a membership goes through here. Each one is staged on the
session; just before the transaction (or a savepoint) commits, the staged uses are
appended to the queue `usage_pending`, in that same transaction, and a rolled back
savepoint takes its staged changes with it. `catch_up` applies the queue to the rollups,
netted and in one global row order (no deadlocks), many uses per statement: the server
does it every second (`keep_rollups_current`) and statistics do it before they read
(`drain`), so what they show counts every committed use. Memberships' rollup is written
in their own transaction (rare, and not shared by every check-in).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar, TypeVarTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    bindparam,
    cast,
    delete,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from federation.db import Database
from federation.errors import BadUserInput
from federation.kit.arrays import text_array, text_array_param
from federation.kit.clock import utcnow
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
from federation.usage.periods import Period, period_end, period_start, periods_of
from federation.usage.rollups import (
    ANY_HOME,
    NETWORK,
    Deltas,
    UseFact,
    people_changes,
    stripe,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class UseRecord:
    site_id: int
    day: date
    kind: UseKind
    units: int
    subject: str
    home_site_id: int | None
    source: UseSource
    external_id: str | None = None


def person_subject(person_id: object) -> str:
    return f"person:{person_id}"


def membership_subject(membership_id: int) -> str:
    return f"membership:{membership_id}"


# --- uses ---------------------------------------------------------------------------------


def _check(record: UseRecord) -> None:
    if record.units <= 0:
        raise BadUserInput("a use counts at least one unit", argument="units")
    if not record.subject or len(record.subject) > 64:
        raise BadUserInput("a use needs a subject of 1-64 characters", argument="subject")


async def record_use(session: AsyncSession, record: UseRecord) -> Use:
    """Add one use (within the caller's transaction); its rollups follow at commit."""
    _check(record)
    use = Use(
        site_id=record.site_id,
        day=record.day,
        kind=record.kind,
        units=record.units,
        subject=record.subject,
        home_site_id=record.home_site_id,
        source=record.source,
        external_id=record.external_id,
    )
    session.add(use)
    await session.flush()
    _stage(session, _fact(use), +1)
    return use


async def remove_use(session: AsyncSession, use: Use) -> None:
    """Remove one use (within the caller's transaction); its rollups follow at commit."""
    fact = _fact(use)
    await session.delete(use)
    await session.flush()
    _stage(session, fact, -1)


async def find_synced_use(session: AsyncSession, site_id: int, external_id: str) -> Use | None:
    query = select(Use).where(Use.site_id == site_id, Use.external_id == external_id)
    return await session.scalar(query)


async def import_uses(session: AsyncSession, records: Sequence[UseRecord]) -> int:
    """Bulk-load uses (history, the demo): those whose external id the space already has
    are skipped; the rollups of the days covered are then rebuilt. Returns how many were
    added. Not for everyday writes: the rebuild covers whole years of every space."""
    for record in records:
        _check(record)
        if record.external_id is None:
            raise BadUserInput("imported uses need an external id", argument="externalId")
    known: set[tuple[int, str]] = set()
    for site_id in {r.site_id for r in records}:
        ids = await session.scalars(
            select(Use.external_id).where(Use.site_id == site_id, Use.external_id.is_not(None))
        )
        known.update((site_id, external_id) for external_id in ids if external_id is not None)
    fresh = [r for r in records if (r.site_id, r.external_id) not in known]
    if not fresh:
        return 0
    table = Use.__table__
    assert isinstance(table, Table)
    for batch in _chunks(fresh, 2000):
        await session.execute(insert(table), [_use_row(r, r.site_id) for r in batch])
    await rebuild_rollups(session, min(r.day for r in fresh), max(r.day for r in fresh))
    return len(fresh)


def _use_row(record: UseRecord, site_id: int) -> dict[str, Any]:
    """The `uses` row of a record, for Core inserts."""
    return {
        "site_id": site_id,
        "day": record.day,
        "kind": record.kind,
        "units": record.units,
        "subject": record.subject,
        "home_site_id": record.home_site_id,
        "source": record.source,
        "external_id": record.external_id,
    }


async def sync_uses(session: AsyncSession, records: Sequence[UseRecord]) -> dict[str, Saved]:
    """Create or change a space's synced uses by external id, set-based (a fixed number of
    statements whatever the number of records), their rollups staged for the commit. All
    records are of one space and carry distinct external ids. Says for each external id
    what happened."""
    if not records:
        return {}
    site_ids = {r.site_id for r in records}
    external_ids = [r.external_id for r in records if r.external_id is not None]
    if len(site_ids) != 1 or len(external_ids) != len(records):
        raise BadUserInput("synced uses are of one space and carry external ids")
    if len(set(external_ids)) != len(external_ids):
        raise BadUserInput("synced uses carry distinct external ids")
    for record in records:
        _check(record)
    site_id = site_ids.pop()
    inserted: set[str] = set()
    rest = records
    if session.get_bind().dialect.name == "postgresql":
        # Insert first, leaving out the ids the space has: its unique index answers for
        # each record, at the cost of the batch (a read of the ids would hash every use
        # the space ever synced). Only the records it already had are read and compared.
        inserted = await _insert_uses(session, site_id, records)
        rest = [r for r in records if r.external_id not in inserted]
    held = await _synced_uses(session, site_id, [r.external_id for r in rest if r.external_id])
    outcome: dict[str, Saved] = {}
    fresh: list[UseRecord] = []
    changed: list[tuple[int, UseRecord]] = []
    facts: list[tuple[UseFact, int]] = []
    for record in records:
        assert record.external_id is not None
        new = UseFact(
            record.site_id,
            record.day,
            record.kind,
            record.units,
            record.subject,
            record.home_site_id,
        )
        old = held.get(record.external_id)
        if record.external_id in inserted:
            facts.append((new, +1))
            outcome[record.external_id] = "created"
        elif old is None:
            fresh.append(record)
            facts.append((new, +1))
            outcome[record.external_id] = "created"
        elif old[1] == new:
            outcome[record.external_id] = "unchanged"
        else:
            changed.append((old[0], record))
            facts += [(old[1], -1), (new, +1)]
            outcome[record.external_id] = "updated"
    _stage_all(session, facts)
    if fresh:
        await _insert_uses(session, site_id, fresh)
    if changed:
        await _update_uses(session, changed)
    return outcome


def _stage_all(session: AsyncSession, facts: Sequence[tuple[UseFact, int]]) -> None:
    """`_stage` for many uses at once (the transaction looked up once)."""
    if facts:
        transaction = _current_transaction(session)
        staged = session.sync_session.info.setdefault(_STAGED, [])
        staged.extend(_Staged(transaction, sign, use=fact) for fact, sign in facts)


def _uses_table() -> Table:
    table = Use.__table__
    assert isinstance(table, Table)
    return table


async def _insert_uses(
    session: AsyncSession, site_id: int, records: Sequence[UseRecord]
) -> set[str]:
    """One statement; the external ids it inserted. PostgreSQL: an INSERT from a JSON rowset
    (one parameter, no per-row round trip or plan) that skips the ids the space already
    has; SQLite: an executemany of one compiled INSERT."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        rows = [
            {
                "day": r.day.isoformat(),
                "kind": r.kind.value,
                "units": r.units,
                "subject": r.subject,
                "home_site_id": r.home_site_id,
                "source": r.source.value,
                "external_id": r.external_id,
            }
            for r in records
        ]
        inserted = await session.scalars(
            text(
                "INSERT INTO uses (site_id, day, kind, units, subject, home_site_id, source,"
                " external_id, created_at)"
                " SELECT :site_id, r.day, r.kind, r.units, r.subject, r.home_site_id, r.source,"
                " r.external_id, :now"
                " FROM json_to_recordset(CAST(:rows AS json)) AS r(day date, kind text,"
                " units integer, subject text, home_site_id integer, source text,"
                " external_id text)"
                " ON CONFLICT (site_id, external_id) DO NOTHING RETURNING external_id"
            ),
            {"site_id": site_id, "now": now, "rows": json.dumps(rows)},
        )
        return set(inserted)
    await session.execute(
        insert(_uses_table()), [{**_use_row(r, site_id), "created_at": now} for r in records]
    )
    return {r.external_id for r in records if r.external_id is not None}


async def _update_uses(session: AsyncSession, changed: Sequence[tuple[int, UseRecord]]) -> None:
    """One statement: an UPDATE joined to a JSON rowset (PostgreSQL), an executemany
    (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = [
            {
                "id": use_id,
                "day": r.day.isoformat(),
                "kind": r.kind.value,
                "units": r.units,
                "subject": r.subject,
                "home_site_id": r.home_site_id,
            }
            for use_id, r in changed
        ]
        await session.execute(
            text(
                "UPDATE uses SET day = r.day, kind = r.kind, units = r.units,"
                " subject = r.subject, home_site_id = r.home_site_id"
                " FROM json_to_recordset(CAST(:rows AS json)) AS r(id bigint, day date,"
                " kind text, units integer, subject text, home_site_id integer)"
                " WHERE uses.id = r.id"
            ),
            {"rows": json.dumps(rows)},
        )
        return
    table = _uses_table()
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            day=bindparam("day"),
            kind=bindparam("kind"),
            units=bindparam("units"),
            subject=bindparam("subject"),
            home_site_id=bindparam("home_site_id"),
        )
    )
    await session.execute(
        statement,
        [
            {
                "b_id": use_id,
                "day": r.day,
                "kind": r.kind,
                "units": r.units,
                "subject": r.subject,
                "home_site_id": r.home_site_id,
            }
            for use_id, r in changed
        ],
    )


async def remove_synced_uses(
    session: AsyncSession, site_id: int, external_ids: Sequence[str]
) -> int:
    """Remove a space's synced uses by external id (set-based: one read, one delete);
    returns how many were."""
    held = await _synced_uses(session, site_id, external_ids)
    if not held:
        return 0
    ids = [use_id for use_id, _ in held.values()]
    if session.get_bind().dialect.name == "postgresql":
        doomed: ColumnElement[bool] = Use.id == func.any(
            bindparam("ids", ids, type_=postgresql.ARRAY(BigInteger))
        )
    else:
        doomed = Use.id.in_(select(_json_values(ids).c.value))
    await session.execute(delete(Use).where(doomed))
    _stage_all(session, [(fact, -1) for _, fact in held.values()])
    return len(held)


def _json_values(values: Sequence[Any]) -> Any:
    """`values` as SQLite's one-column table `value`, from one JSON parameter."""
    payload = bindparam("wanted", json.dumps(list(values)), type_=String)
    return func.json_each(payload).table_valued("value")


def _among(
    session: AsyncSession, query: Select[*Ts], column: Any, values: Sequence[str]
) -> Select[*Ts]:
    """`query` kept to the rows whose `column` is among `values`, whatever their number, in
    one statement with one parameter. PostgreSQL: joined to `unnest` of an array, which
    the planner sizes right (never `IN (...)`: its statistics stale after a bulk load, it
    would filter every row of the space against the whole list, quadratic); SQLite: `IN`
    a JSON table, which it runs as one index lookup per value."""
    if session.get_bind().dialect.name == "postgresql":
        ids = cast(text_array_param("wanted", values), postgresql.ARRAY(String))
        wanted = func.unnest(ids).table_valued("value").render_derived("wanted")
        return query.join(wanted, column == wanted.c.value)
    return query.where(column.in_(select(_json_values(values).c.value)))


async def _synced_uses(
    session: AsyncSession, site_id: int, external_ids: Sequence[str]
) -> dict[str, tuple[int, UseFact]]:
    """The space's uses among `external_ids`, in one statement."""
    held: dict[str, tuple[int, UseFact]] = {}
    if not external_ids:
        return held
    query = select(
        Use.id, Use.external_id, Use.day, Use.kind, Use.units, Use.subject, Use.home_site_id
    ).where(Use.site_id == site_id)
    rows = await session.execute(_among(session, query, Use.external_id, sorted(set(external_ids))))
    for use_id, external_id, day, kind, units, subject, home in rows:
        assert external_id is not None
        held[external_id] = (use_id, UseFact(site_id, day, kind, units, subject, home))
    return held


async def find_memberships(
    session: AsyncSession, site_id: int, external_ids: Sequence[str]
) -> dict[str, Membership]:
    """A space's memberships by external id (those it holds among `external_ids`)."""
    if not external_ids:
        return {}
    query = select(Membership).where(Membership.site_id == site_id)
    found = await session.scalars(
        _among(session, query, Membership.external_id, sorted(set(external_ids)))
    )
    return {membership.external_id: membership for membership in found}


async def membership_ids(
    session: AsyncSession, site_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """The ids of a space's memberships by external id, in one statement (no objects)."""
    if not external_ids:
        return {}
    query = select(Membership.external_id, Membership.id).where(Membership.site_id == site_id)
    rows = await session.execute(
        _among(session, query, Membership.external_id, sorted(set(external_ids)))
    )
    return {external_id: membership_id for external_id, membership_id in rows}  # noqa: C416


def _fact(use: Use) -> UseFact:
    return UseFact(use.site_id, use.day, use.kind, use.units, use.subject, use.home_site_id)


# --- memberships --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    site_id: int
    external_id: str
    starts_on: date
    source_updated_at: datetime
    plan: str = ""
    ends_on: date | None = None


Saved = Literal["created", "updated", "unchanged", "stale"]


async def save_membership(
    session: AsyncSession, record: MembershipRecord
) -> tuple[Membership, Saved]:
    """Create or update a space's membership by its external id; a change older than the
    one already held is ignored ("stale"). New members per period follow at commit."""
    if record.ends_on is not None and record.ends_on < record.starts_on:
        raise BadUserInput("a membership cannot end before it starts", argument="endsOn")
    if not record.external_id or len(record.external_id) > 128:
        raise BadUserInput("a membership needs an external id of 1-128 characters")
    membership = await session.scalar(
        select(Membership).where(
            Membership.site_id == record.site_id, Membership.external_id == record.external_id
        )
    )
    if membership is None:
        membership = Membership(
            site_id=record.site_id,
            external_id=record.external_id,
            plan=record.plan,
            starts_on=record.starts_on,
            ends_on=record.ends_on,
            source_updated_at=record.source_updated_at,
        )
        session.add(membership)
        await session.flush()
        _stage_membership(session, record.site_id, record.starts_on, +1)
        return membership, "created"
    if record.source_updated_at < membership.source_updated_at:
        return membership, "stale"
    wanted = (record.plan, record.starts_on, record.ends_on)
    if (membership.plan, membership.starts_on, membership.ends_on) == wanted:
        return membership, "unchanged"
    if membership.starts_on != record.starts_on:
        _stage_membership(session, membership.site_id, membership.starts_on, -1)
        _stage_membership(session, membership.site_id, record.starts_on, +1)
    membership.plan, membership.starts_on, membership.ends_on = wanted
    membership.source_updated_at = record.source_updated_at
    await session.flush()
    return membership, "updated"


async def import_memberships(
    session: AsyncSession, records: Sequence[MembershipRecord]
) -> dict[tuple[int, str], int]:
    """Bulk `save_membership` (history, the demo): one read of what the spaces already
    hold, then only the differences are written. Returns every membership's id by
    (site id, external id)."""
    held: dict[tuple[int, str], Membership] = {}
    for site_id in sorted({r.site_id for r in records}):
        for membership in await session.scalars(
            select(Membership).where(Membership.site_id == site_id)
        ):
            held[(membership.site_id, membership.external_id)] = membership
    for record in records:
        if record.ends_on is not None and record.ends_on < record.starts_on:
            raise BadUserInput("a membership cannot end before it starts", argument="endsOn")
        found = held.get((record.site_id, record.external_id))
        if found is None:
            membership = Membership(
                site_id=record.site_id,
                external_id=record.external_id,
                plan=record.plan,
                starts_on=record.starts_on,
                ends_on=record.ends_on,
                source_updated_at=record.source_updated_at,
            )
            session.add(membership)
            held[(record.site_id, record.external_id)] = membership
            _stage_membership(session, record.site_id, record.starts_on, +1)
            continue
        membership = found
        wanted = (record.plan, record.starts_on, record.ends_on)
        if record.source_updated_at < membership.source_updated_at or wanted == (
            membership.plan,
            membership.starts_on,
            membership.ends_on,
        ):
            continue
        if membership.starts_on != record.starts_on:
            _stage_membership(session, membership.site_id, membership.starts_on, -1)
            _stage_membership(session, membership.site_id, record.starts_on, +1)
        membership.plan, membership.starts_on, membership.ends_on = wanted
        membership.source_updated_at = record.source_updated_at
    await session.flush()
    return {key: membership.id for key, membership in held.items()}


async def remove_membership(session: AsyncSession, membership: Membership) -> None:
    """Remove a membership (its uses stay: they happened)."""
    site_id, starts_on = membership.site_id, membership.starts_on
    await session.delete(membership)
    await session.flush()
    _stage_membership(session, site_id, starts_on, -1)


# --- staging and applying rollup changes --------------------------------------------------

_STAGED = "federation.usage.staged"


@dataclass(frozen=True, slots=True)
class _Staged:
    transaction: SessionTransaction
    sign: int
    use: UseFact | None = None
    membership: tuple[int, date] | None = None


def _current_transaction(session: AsyncSession) -> SessionTransaction:
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    assert transaction is not None, "uses are written inside a transaction"
    return transaction


def _stage(session: AsyncSession, use: UseFact, sign: int) -> None:
    staged = session.sync_session.info.setdefault(_STAGED, [])
    staged.append(_Staged(_current_transaction(session), sign, use=use))


def _stage_membership(session: AsyncSession, site_id: int, starts_on: date, sign: int) -> None:
    staged = session.sync_session.info.setdefault(_STAGED, [])
    staged.append(_Staged(_current_transaction(session), sign, membership=(site_id, starts_on)))


async def flush_rollups(session: AsyncSession) -> None:
    """Bring the rollups up to date now, within the caller's transaction: its own staged
    changes and everything queued before (to read them back, or before a rebuild)."""
    await session.run_sync(_apply_staged)
    await catch_up(session, limit=None)


@event.listens_for(Session, "before_commit")
def _apply_on_commit(session: Session) -> None:
    # Fires for the outer commit and for each savepoint released: either way the SQL runs
    # inside what is committing, so a later rollback of an enclosing level undoes it too.
    _apply_staged(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    staged: list[_Staged] | None = session.info.get(_STAGED)
    if staged:
        staged[:] = [s for s in staged if not _within(s.transaction, previous_transaction)]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _apply_staged(session: Session) -> None:
    staged: list[_Staged] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    uses: list[tuple[UseFact, int]] = []
    members = Deltas()
    for entry in staged:
        if entry.use is not None:
            uses.append((entry.use, entry.sign))
        elif entry.membership is not None:
            members.add_membership(*entry.membership, entry.sign)
    queue_uses(session, uses)
    apply_deltas(session, members.netted())


_PENDING_COLUMNS = ("site_id", "day", "kind", "units", "subject", "home_site_id", "sign")
_QUEUE_POSTGRESQL = text(
    f"INSERT INTO usage_pending ({', '.join(_PENDING_COLUMNS)}) "  # noqa: S608 (constants)
    "SELECT * FROM unnest(CAST(:site AS integer[]), CAST(:day AS date[]), "
    "CAST(:kind AS text[]), CAST(:units AS integer[]), CAST(:subject AS text[]), "
    "CAST(:home AS integer[]), CAST(:sign AS smallint[]))"
)


def queue_uses(session: Session, uses: Sequence[tuple[UseFact, int]]) -> None:
    """Append uses to the queue: one statement, however many (and locks nothing shared)."""
    if not uses:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _QUEUE_POSTGRESQL,
            {
                **_use_arrays([use for use, _ in uses]),
                "sign": _pg_array([sign for _, sign in uses]),
            },
        )
        return
    session.execute(
        insert(PendingUse),
        [
            dict(zip(_PENDING_COLUMNS, (*_fact_values(use), sign), strict=True))
            for use, sign in uses
        ],
    )


def _fact_values(use: UseFact) -> tuple[Any, ...]:
    return (use.site_id, use.day, use.kind, use.units, use.subject, use.home_site_id)


_DRAIN_LOCK = 0x75736167  # pg_advisory_xact_lock key of the queue's applier ("usag")
_BATCH = 20_000  # queued uses applied per transaction by `drain`


async def catch_up(session: AsyncSession, *, limit: int | None = _BATCH) -> int:
    """Apply queued uses to the rollups, oldest first, and take them off the queue, within
    the caller's transaction; how many. One applier at a time: on PostgreSQL the others
    wait for it (an advisory lock), so after this call the rollups count every use whose
    transaction committed before it."""
    return await session.run_sync(_catch_up, limit)


def _catch_up(session: Session, limit: int | None) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DRAIN_LOCK})
    oldest = select(PendingUse.id).order_by(PendingUse.id)
    if limit is not None:
        oldest = oldest.limit(limit)
    taken = session.execute(
        delete(PendingUse)
        .where(PendingUse.id.in_(oldest.scalar_subquery()))
        .returning(*(PendingUse.__table__.c[name] for name in _PENDING_COLUMNS))
    ).all()
    facts = [
        (UseFact(site, day, UseKind(kind), units, subject, home), sign)
        for site, day, kind, units, subject, home, sign in taken
    ]
    # Additions first: a use removed in the same batch is then always there to take away.
    apply_use_changes(session, [fact for fact in facts if fact[1] > 0])
    apply_use_changes(session, [fact for fact in facts if fact[1] < 0])
    return len(taken)


async def drain(db: Database, *, batch: int = _BATCH) -> int:
    """Apply the whole queue, `batch` uses per transaction (statistics call it before they
    read, the server every second); how many. Nothing queued costs one small read."""
    async with db.reading() as session:
        if await session.scalar(select(PendingUse.id).limit(1)) is None:
            return 0
    applied = 0
    while True:
        async with db.transaction() as session:
            done = await catch_up(session, limit=batch)
        applied += done
        if done < batch:
            return applied


async def keep_rollups_current(db: Database, *, every: float = 1.0) -> None:
    """Run for the server's life: apply the queue every `every` seconds. A failure is
    logged and retried on the next round; the queue keeps what was not applied."""
    while True:
        await asyncio.sleep(every)
        try:
            await drain(db)
        except Exception:
            log.exception("applying queued uses to the statistics failed; will retry")


def apply_use_changes(session: Session, uses: Sequence[tuple[UseFact, int]]) -> None:
    """Add (+1) or take away (-1) uses in every rollup, netted (the queue's applier calls it
    with the additions, then the removals). Only adding, on PostgreSQL, is set-based (the
    common case: check-ins and new synced uses); removals go through
    `Deltas`, which lock the rows they shrink first (an upsert cannot: PostgreSQL checks a
    negative delta against the CHECK before it finds the row to add it to)."""
    if not uses:
        return
    if session.get_bind().dialect.name == "postgresql" and all(sign > 0 for _, sign in uses):
        _add_uses_postgresql(session, [use for use, _ in uses])
        return
    deltas = Deltas()
    for use, sign in uses:
        deltas.add_use(use, sign)
    apply_deltas(session, deltas.netted())


def apply_deltas(session: Session, deltas: Deltas) -> None:
    """Write netted changes: one table after another, rows in key order within each."""
    _add(session, UsesByPeriod.__table__, deltas.uses, "uses")
    after = _add(session, ActiveSubject.__table__, deltas.subjects, "uses", returning=True)
    _add(session, ActiveCount.__table__, people_changes(deltas.subjects, after), "people")
    _add(session, VisitsByPeriod.__table__, deltas.visits, "uses")
    _add(session, NewMembersByPeriod.__table__, deltas.members, "members")


# PostgreSQL array types of the rollup tables' column types (see _add).
_PG_ARRAY = {
    "Enum": "text[]",
    "String": "text[]",
    "Date": "date[]",
    "Integer": "integer[]",
    "SmallInteger": "smallint[]",
}

_CHUNK = 500  # rows per statement: well under both databases' limits on bound parameters


class RollupsOutOfStep(RuntimeError):
    """A removal found no rollup row to take from: something wrote uses around this
    service. `federation stats rebuild` recomputes the rollups from the raw rows."""


def _add(
    session: Session,
    table: Any,
    deltas: Mapping[Any, int],
    column: str,
    *,
    returning: bool = False,
) -> dict[Any, int]:
    """Add each delta to its row and return the new values when asked. Increments are
    upserts, so concurrent writers never lose one; decrements lock their rows in key order
    first (a CHECK keeps every value >= 0), and rows that fall to zero are deleted."""
    if not deltas:
        return {}
    assert isinstance(table, Table)
    key_names = [c.name for c in table.primary_key.columns]
    key_columns = tuple_(*table.primary_key.columns)
    value = table.c[column]
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    after: dict[Any, int] = {}
    ordered = sorted(deltas.items())

    def run(statement: Any, parameters: Any = None) -> None:
        if returning:
            rows = session.execute(
                statement.returning(*table.primary_key.columns, value), parameters
            )
            after.update({tuple(row[:-1]): row[-1] for row in rows})
        else:
            session.execute(statement, parameters)

    growing = [(key, delta) for key, delta in ordered if delta > 0]
    if growing and dialect == "postgresql":
        # One statement whatever the number of rows: one array per column, unnested. PostgreSQL
        # neither parses a huge VALUES list nor plans thousands of parameters.
        names = [*key_names, column]
        rows_in = [(*key, delta) for key, delta in growing]
        arrays = [list(values) for values in zip(*rows_in, strict=True)]
        arrays = [[v.value if isinstance(v, enum.Enum) else v for v in a] for a in arrays]
        casts = ", ".join(
            f"CAST(:c{i} AS {_PG_ARRAY[type(table.c[n].type).__name__]})"
            for i, n in enumerate(names)
        )
        # Table and column names come from the models, never from input.
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({casts}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(key_names)}) DO UPDATE "
            f"SET {column} = {table.name}.{column} + EXCLUDED.{column}"
        )
        parameters = {f"c{i}": _pg_array(values) for i, values in enumerate(arrays)}
        if returning:
            sql += f" RETURNING {', '.join(names)}"
            rows = session.execute(text(sql), parameters)
            after.update({tuple(row[:-1]): row[-1] for row in rows})
        else:
            session.execute(text(sql), parameters)
        growing = []
    if growing:
        # One statement, compiled once, run as an executemany: the driver batches the rows
        # into multi-row VALUES (SQLAlchemy's insertmanyvalues), in key order.
        upsert = dialect_insert(table)
        upsert = upsert.on_conflict_do_update(
            index_elements=key_names, set_={column: value + upsert.excluded[column]}
        )
        run(
            upsert,
            [{**dict(zip(key_names, key, strict=True)), column: delta} for key, delta in growing],
        )

    shrinking = [key for key, delta in ordered if delta < 0]
    for chunk_keys in _chunks(shrinking, _CHUNK):
        locked = session.execute(
            select(*table.primary_key.columns)
            .where(key_columns.in_(chunk_keys))
            .order_by(*table.primary_key.columns)
            .with_for_update()
        ).all()
        if len(locked) != len(chunk_keys):
            raise RollupsOutOfStep(f"{table.name} lacks rows that uses being removed counted")
    by_delta: dict[int, list[Any]] = {}
    for key in shrinking:
        by_delta.setdefault(deltas[key], []).append(key)
    for delta, keys in sorted(by_delta.items()):
        for chunk_keys in _chunks(keys, _CHUNK):
            run(update(table).where(key_columns.in_(chunk_keys)).values({column: value + delta}))
    for chunk_keys in _chunks(shrinking, _CHUNK):
        session.execute(delete(table).where(value == 0, key_columns.in_(chunk_keys)))
    return after


# --- the same, set-based, on PostgreSQL ---------------------------------------------------
#
# On PostgreSQL, uses being added reach the rollups through the server: they go as six
# arrays (one element per use, not one per rollup row), and each statement expands them into
# their five periods, groups them into rollup rows with the grouping sets of the rebuild and
# adds them in key order. A 10,000-use sync batch built and sent about 50,000 rows from
# Python before (0.4 s of the hub's CPU per batch, profiled); the people counts ride on the
# subjects' upsert, one statement fewer when someone new is counted. These say in SQL what
# `Deltas.add_use` says in Python: the hypothesis test that rebuilds and compares runs on
# both databases, over adding-only transactions (this path) and mixed ones (`Deltas`).

# The staged uses, one row each, then one row per use and period kind (`starts_on` as in
# `period_start`; `home` only for a visit, as in `UseFact.is_visit`).
_FACTS = """
facts AS (
  SELECT f.site_id, f.day, f.kind, f.units, f.subject, usage_stripe(f.subject) AS shard,
         CASE WHEN f.home <> f.site_id THEN f.home END AS home
  FROM unnest(CAST(:site AS integer[]), CAST(:day AS date[]), CAST(:kind AS text[]),
              CAST(:units AS integer[]), CAST(:subject AS text[]), CAST(:home AS integer[]))
       AS f(site_id, day, kind, units, subject, home)
), by_period AS (
  SELECT facts.*, k.period,
         CASE WHEN k.period = 'DAY' THEN facts.day
              ELSE CAST(date_trunc(k.unit, CAST(facts.day AS timestamp)) AS date) END
           AS starts_on
  FROM facts CROSS JOIN (VALUES ('DAY', 'day'), ('WEEK', 'week'), ('MONTH', 'month'),
                                ('QUARTER', 'quarter'), ('YEAR', 'year')) AS k(period, unit)
)"""

# Units per space (and network-wide) and kind.
_USES_ROWS = """
SELECT period, starts_on, coalesce(site_id, 0) AS site_id, kind, shard, sum(units) AS delta
FROM by_period
GROUP BY GROUPING SETS ((period, starts_on, site_id, kind, shard), (period, starts_on, kind, shard))
"""

# Visiting units per home and host, per host, and network-wide.
_VISITS_ROWS = """
SELECT period, starts_on, coalesce(site_id, 0) AS site_id, coalesce(home, 0) AS home_site_id,
       shard, sum(units) AS delta
FROM by_period WHERE home IS NOT NULL
GROUP BY GROUPING SETS ((period, starts_on, site_id, home, shard),
                        (period, starts_on, site_id, shard), (period, starts_on, shard))
"""

# Use rows per subject at a space, network-wide, and at a space from a visiting home (the
# third set also groups uses at home, without a visiting home: HAVING leaves them out).
_SUBJECT_ROWS = """
SELECT period, starts_on, coalesce(site_id, 0) AS site_id, coalesce(home, 0) AS home_site_id,
       subject, count(*) AS delta
FROM by_period
GROUP BY GROUPING SETS ((period, starts_on, site_id, subject), (period, starts_on, subject),
                        (period, starts_on, site_id, home, subject))
HAVING grouping(home) = 1 OR home IS NOT NULL"""


def _upsert(table: str, columns: str, value: str, rows: str) -> str:
    """Add each row's delta to the table's row of the same key, in key order (every writer
    locks rows in one order: no deadlocks)."""
    return (
        f"INSERT INTO {table} ({columns}, {value}) "  # noqa: S608 (names from this module)
        f"SELECT {columns}, delta FROM ({rows}) AS r ORDER BY {columns} "
        f"ON CONFLICT ({columns}) DO UPDATE SET {value} = {table}.{value} + EXCLUDED.{value}"
    )


_USE_COLUMNS = "period, starts_on, site_id, kind, shard"
_SCOPE_COLUMNS = "period, starts_on, site_id, home_site_id, shard"
_SUBJECT_COLUMNS = "period, starts_on, site_id, home_site_id, subject"

_ADD_USES = text(
    f"WITH {_FACTS} " + _upsert("usage_uses_by_period", _USE_COLUMNS, "uses", _USES_ROWS)
)
_ADD_VISITS = text(
    f"WITH {_FACTS} " + _upsert("usage_visits_by_period", _SCOPE_COLUMNS, "uses", _VISITS_ROWS)
)
# The subjects' rows and, from what their upsert did, the people of each scope.
# `xmax = 0` marks a row version that this statement inserted rather than updated
# (PostgreSQL's upsert idiom): a subject row that was not there before is one more person.
_PEOPLE_ROWS = """
SELECT period, starts_on, site_id, home_site_id, usage_stripe(subject) AS shard,
       count(*) AS delta
FROM changed WHERE inserted
GROUP BY 1, 2, 3, 4, 5"""
_ADD_SUBJECTS = text(
    f"WITH {_FACTS}, changed AS ("
    f"{_upsert('usage_active_subjects', _SUBJECT_COLUMNS, 'uses', _SUBJECT_ROWS)}"
    f" RETURNING {_SUBJECT_COLUMNS}, xmax = 0 AS inserted) "
    f"{_upsert('usage_active_counts', _SCOPE_COLUMNS, 'people', _PEOPLE_ROWS)}"
)


def _add_uses_postgresql(session: Session, uses: Sequence[UseFact]) -> None:
    """Add uses to every rollup with two or three statements whatever their number."""

    parameters = _use_arrays(uses)
    session.execute(_ADD_USES, parameters)
    session.execute(_ADD_SUBJECTS, parameters)
    if any(u.is_visit for u in uses):
        session.execute(_ADD_VISITS, parameters)


def _use_arrays(uses: Sequence[UseFact]) -> dict[str, str | list[Any]]:
    return {
        "site": _pg_array([u.site_id for u in uses]),
        "day": _pg_array([u.day for u in uses]),
        "kind": _pg_array([u.kind.value for u in uses]),
        "units": _pg_array([u.units for u in uses]),
        "subject": _pg_array([u.subject for u in uses]),
        "home": _pg_array([u.home_site_id for u in uses]),
    }


def _pg_array(values: list[Any]) -> str | list[Any]:
    """One rollup column's values as the literal of a PostgreSQL array. psycopg dumps a list
    element by element in Python (a tenth of a second per sync batch); dates, integers and
    nulls are a join, strings go through `text_array`."""
    if all(isinstance(v, str) for v in values):
        return text_array(values)
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


# --- rebuilding ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rebuilt:
    first: date | None
    last: date | None
    uses: int
    memberships: int


async def rebuild_rollups(
    session: AsyncSession, first: date | None = None, last: date | None = None
) -> Rebuilt:
    """Recompute from the raw uses and memberships every rollup row of every period that
    meets [first, last], within the caller's transaction. A missing end leaves the range
    open on that side (neither: everything)."""
    if first is not None and last is not None and first > last:
        raise BadUserInput("`from` must not be after `to`", argument="from")
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Writers wait until the rebuild commits, so none is counted twice or missed: the
        # queue is applied under the same locks, then the rebuild recomputes what it covers.
        # The queue's applier lock comes first, as for every applier (no deadlock).
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DRAIN_LOCK})
        await session.execute(text("LOCK TABLE uses, memberships, usage_pending IN SHARE MODE"))
    await flush_rollups(session)
    if postgres:
        await _rebuild_postgresql(session, first, last)
    else:
        for period in Period:
            await _rebuild_period(session, period, first, last, postgres=False)
    uses = select(func.count()).select_from(Use)
    memberships = select(func.count()).select_from(Membership)
    if first is not None:
        uses = uses.where(Use.day >= first)
        memberships = memberships.where(Membership.starts_on >= first)
    if last is not None:
        uses = uses.where(Use.day <= last)
        memberships = memberships.where(Membership.starts_on <= last)
    return Rebuilt(
        first,
        last,
        uses=await session.scalar(uses) or 0,
        memberships=await session.scalar(memberships) or 0,
    )


# Memory for the rebuild's hash aggregates (one per period kind, over every use in the range)
# and for sorting the primary key it builds; set for the rebuild's statements only, then put
# back as they were.
_REBUILD_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "1GB"}
# Temporary tables: uses by day, space, kind, visiting home and stripe; each subject's stripe
# (MD5 once per subject rather than once per use and period kind).
_DAYS = "rollup_rebuild_days"
_STRIPES = "rollup_rebuild_stripes"


def _sql_period_start(period: Period, column: str) -> str:
    if period is Period.DAY:
        return column
    return f"CAST(date_trunc('{period.value.lower()}', {column}) AS date)"


def _bounds(
    period: Period, first: date | None, last: date | None
) -> tuple[date | None, date | None]:
    """The whole periods of kind `period` that meet [first, last]: their first and last day."""
    low = period_start(period, first) if first is not None else None
    high = period_end(period, period_start(period, last)) if last is not None else None
    return low, high


def _between(column: str, low: date | None, high: date | None) -> str:
    conditions = ["TRUE"]
    if low is not None:
        conditions.append(f"{column} >= :low")
    if high is not None:
        conditions.append(f"{column} <= :high")
    return " AND ".join(conditions)


async def _rebuild_postgresql(session: AsyncSession, first: date | None, last: date | None) -> None:
    """Set-based: per period kind, one statement per rollup table, each an INSERT ... SELECT
    of a hash aggregate with grouping sets (a space's rows, the network's and the visitors'
    in one pass). Uses and visits are aggregated from a small per-day table built once; the
    active subjects (6 or 7 rows per use) and their counts come from one statement.

    A rebuild of everything empties the tables with TRUNCATE and builds their primary keys
    once at the end rather than row by row (three times faster for `usage_active_subjects`,
    6 or 7 rows per use; the striped tables hold up to 16 rows per counter); both happen
    inside the caller's transaction, so no one else ever sees them missing: readers and
    writers of the rollups wait until it commits."""
    before = await _settings(session, _REBUILD_SETTINGS)
    tables = [
        table
        for table in (
            UsesByPeriod.__table__,
            ActiveSubject.__table__,
            ActiveCount.__table__,
            VisitsByPeriod.__table__,
            NewMembersByPeriod.__table__,
        )
        if isinstance(table, Table)
    ]
    names = [t.name for t in tables]
    everything = first is None and last is None
    if everything:
        await session.execute(text(f"TRUNCATE {', '.join(names)}"))
        for table in tables:
            await session.execute(
                text(f"ALTER TABLE {table.name} DROP CONSTRAINT {table.primary_key.name}")
            )
    else:
        for period in Period:
            low, high = _bounds(period, first, last)
            starts = {
                "period": period.value,
                "low": low,
                "high": period_start(period, high) if high is not None else None,
            }
            for name in names:
                await session.execute(
                    text(
                        f"DELETE FROM {name} WHERE period = :period AND "  # noqa: S608
                        + _between("starts_on", low, high)
                    ),
                    starts,
                )
    # The widest range any period kind needs: weeks cross the ends of years.
    lows = [_bounds(p, first, last)[0] for p in Period]
    highs = [_bounds(p, first, last)[1] for p in Period]
    low = min(d for d in lows if d is not None) if first is not None else None
    high = max(d for d in highs if d is not None) if last is not None else None
    visiting_home = "CASE WHEN home_site_id <> site_id THEN home_site_id END"
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE {_STRIPES} ON COMMIT DROP AS "  # noqa: S608
            "SELECT subject, usage_stripe(subject) AS shard "
            f"FROM uses WHERE {_between('day', low, high)} GROUP BY subject"
        ),
        {"low": low, "high": high},
    )
    await session.execute(text(f"ANALYZE {_STRIPES}"))
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE {_DAYS} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT day, site_id, kind, {visiting_home} AS home, shard, sum(units) AS units "
            f"FROM uses JOIN {_STRIPES} USING (subject) "
            f"WHERE {_between('day', low, high)} GROUP BY 1, 2, 3, 4, 5"
        ),
        {"low": low, "high": high},
    )
    for period in Period:
        await _rebuild_period_postgresql(session, period, *_bounds(period, first, last))
    await session.execute(text(f"DROP TABLE {_DAYS}, {_STRIPES}"))
    if everything:
        for table in tables:
            columns = ", ".join(c.name for c in table.primary_key.columns)
            await session.execute(
                text(
                    f"ALTER TABLE {table.name} ADD CONSTRAINT {table.primary_key.name} "
                    f"PRIMARY KEY ({columns})"
                )
            )
    await _settings(session, before)


async def _settings(session: AsyncSession, wanted: Mapping[str, str]) -> dict[str, str]:
    """Set PostgreSQL settings for the rest of the transaction; returns what they were."""
    before: dict[str, str] = {}
    for name, value in wanted.items():
        before[name] = await session.scalar(text("SELECT current_setting(:name)"), {"name": name})
        await session.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value}
        )
    return before


async def _rebuild_period_postgresql(
    session: AsyncSession, period: Period, low: date | None, high: date | None
) -> None:
    # Table and column names come from the models and periods from the enum, never from input.
    parameters = {"period": period.value, "low": low, "high": high}
    day = _sql_period_start(period, "day")
    await session.execute(
        text(
            "INSERT INTO usage_uses_by_period (period, starts_on, site_id, kind, shard, uses) "  # noqa: S608
            "SELECT :period, s, coalesce(site_id, 0), kind, shard, sum(units) "
            f"FROM (SELECT {day} AS s, site_id, kind, shard, units FROM {_DAYS} "
            f"WHERE {_between('day', low, high)}) AS d "
            "GROUP BY GROUPING SETS ((s, site_id, kind, shard), (s, kind, shard))"
        ),
        parameters,
    )
    await session.execute(
        text(
            "INSERT INTO usage_visits_by_period"  # noqa: S608
            " (period, starts_on, site_id, home_site_id, shard, uses) "
            "SELECT :period, s, coalesce(site_id, 0), coalesce(home, 0), shard, sum(units) "
            f"FROM (SELECT {day} AS s, site_id, home, shard, units FROM {_DAYS} "
            f"WHERE home IS NOT NULL AND {_between('day', low, high)}) AS d "
            "GROUP BY GROUPING SETS ((s, site_id, home, shard), (s, site_id, shard), (s, shard))"
        ),
        parameters,
    )
    # Each subject per space, network-wide, and per visited space and home; the third set
    # also groups the uses of people at home (no visiting home): HAVING leaves them out.
    # The counts take each subject's stripe from the small table of stripes.
    home = "CASE WHEN home_site_id <> site_id THEN home_site_id END"
    await session.execute(
        text(
            "WITH active AS ("  # noqa: S608
            " SELECT s, coalesce(site, 0) AS site_id, coalesce(home, 0) AS home_site_id,"
            " subject, uses FROM ("
            f"  SELECT {day} AS s, site_id AS site, {home} AS home, subject, count(*) AS uses"
            f"  FROM uses WHERE {_between('day', low, high)}"
            "   GROUP BY GROUPING SETS"
            "   ((1, site_id, subject), (1, subject), (1, site_id, 3, subject))"
            f"  HAVING grouping({home}) = 1 OR {home} IS NOT NULL"
            " ) AS grouped"
            "), added AS ("
            " INSERT INTO usage_active_subjects"
            " (period, starts_on, site_id, home_site_id, subject, uses)"
            " SELECT :period, s, site_id, home_site_id, subject, uses FROM active"
            ") "
            "INSERT INTO usage_active_counts"
            " (period, starts_on, site_id, home_site_id, shard, people) "
            "SELECT :period, s, site_id, home_site_id, shard, count(*) "
            f"FROM active JOIN {_STRIPES} USING (subject) GROUP BY 2, 3, 4, 5"
        ),
        parameters,
    )
    joined = _sql_period_start(period, "starts_on")
    await session.execute(
        text(
            "INSERT INTO usage_new_members_by_period (period, starts_on, site_id, members) "  # noqa: S608
            "SELECT :period, s, coalesce(site_id, 0), count(*) "
            f"FROM (SELECT {joined} AS s, site_id FROM memberships "
            f"WHERE {_between('starts_on', low, high)}) AS m "
            "GROUP BY GROUPING SETS ((s, site_id), (s))"
        ),
        parameters,
    )


def _period_start_sql(period: Period, column: Any, *, postgres: bool) -> ColumnElement[Any]:
    """The first day of `column`'s period, in SQL; literals inline so that the same
    expression in SELECT and GROUP BY renders identically."""
    if period is Period.DAY:
        return column  # type: ignore[no-any-return]
    if postgres:
        unit = {"WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}[period]
        return cast(func.date_trunc(literal_column(f"'{unit}'"), column), Date)
    if period is Period.WEEK:  # back to Monday: strftime('%w') is 0 on Sunday
        shift: ColumnElement[str] = literal_column(
            f"'-' || ((CAST(strftime('%w', {column.name}) AS INTEGER) + 6) % 7) || ' days'"
        )
        return func.date(column, shift)
    if period is Period.MONTH:
        return func.date(column, literal_column("'start of month'"))
    if period is Period.QUARTER:
        months: ColumnElement[str] = literal_column(
            f"'-' || ((CAST(strftime('%m', {column.name}) AS INTEGER) - 1) % 3) || ' months'"
        )
        return func.date(column, literal_column("'start of month'"), months)
    return func.date(column, literal_column("'start of year'"))


async def _rebuild_period(
    session: AsyncSession, period: Period, first: date | None, last: date | None, *, postgres: bool
) -> None:
    name: ColumnElement[str] = literal_column(f"'{period.value}'")
    zero: ColumnElement[int] = literal_column("0", Integer)
    starts = _period_start_sql(period, Use.day, postgres=postgres)
    joined = _period_start_sql(period, Membership.starts_on, postgres=postgres)
    in_range: list[ColumnElement[bool]] = []
    members_in_range: list[ColumnElement[bool]] = []
    kept: dict[Table, list[ColumnElement[bool]]] = {}
    tables = [
        UsesByPeriod.__table__,
        ActiveSubject.__table__,
        ActiveCount.__table__,
        VisitsByPeriod.__table__,
        NewMembersByPeriod.__table__,
    ]
    for table in tables:
        assert isinstance(table, Table)
        kept[table] = [table.c.period == period]
    # Whole periods: from the start of the one holding `first` to the end of the one
    # holding `last`.
    if first is not None:
        low = period_start(period, first)
        in_range.append(Use.day >= low)
        members_in_range.append(Membership.starts_on >= low)
        for table, conditions in kept.items():
            conditions.append(table.c.starts_on >= low)
    if last is not None:
        last_start = period_start(period, last)
        high = period_end(period, last_start)
        in_range.append(Use.day <= high)
        members_in_range.append(Membership.starts_on <= high)
        for table, conditions in kept.items():
            conditions.append(table.c.starts_on <= last_start)
    for table, conditions in kept.items():
        await session.execute(delete(table).where(*conditions))

    visit = [Use.home_site_id.is_not(None), Use.home_site_id != Use.site_id]
    units, rows = func.sum(Use.units), func.count()
    shard = _stripe_sql(Use.subject)
    inserts: list[tuple[Any, list[str], Any]] = [
        (
            UsesByPeriod,
            ["period", "starts_on", "site_id", "kind", "shard", "uses"],
            [
                select(name, starts, Use.site_id, Use.kind, shard, units)
                .where(*in_range)
                .group_by(starts, Use.site_id, Use.kind, shard),
                select(name, starts, zero, Use.kind, shard, units)
                .where(*in_range)
                .group_by(starts, Use.kind, shard),
            ],
        ),
        (
            ActiveSubject,
            ["period", "starts_on", "site_id", "home_site_id", "subject", "uses"],
            [
                select(name, starts, Use.site_id, zero, Use.subject, rows)
                .where(*in_range)
                .group_by(starts, Use.site_id, Use.subject),
                select(name, starts, zero, zero, Use.subject, rows)
                .where(*in_range)
                .group_by(starts, Use.subject),
                select(name, starts, Use.site_id, Use.home_site_id, Use.subject, rows)
                .where(*in_range, *visit)
                .group_by(starts, Use.site_id, Use.home_site_id, Use.subject),
            ],
        ),
        (
            VisitsByPeriod,
            ["period", "starts_on", "site_id", "home_site_id", "shard", "uses"],
            [
                select(name, starts, Use.site_id, Use.home_site_id, shard, units)
                .where(*in_range, *visit)
                .group_by(starts, Use.site_id, Use.home_site_id, shard),
                select(name, starts, Use.site_id, zero, shard, units)
                .where(*in_range, *visit)
                .group_by(starts, Use.site_id, shard),
                select(name, starts, zero, zero, shard, units)
                .where(*in_range, *visit)
                .group_by(starts, shard),
            ],
        ),
        (
            NewMembersByPeriod,
            ["period", "starts_on", "site_id", "members"],
            [
                select(name, joined, Membership.site_id, rows)
                .where(*members_in_range)
                .group_by(joined, Membership.site_id),
                select(name, joined, zero, rows).where(*members_in_range).group_by(joined),
            ],
        ),
    ]
    for model, columns, queries in inserts:
        for query in queries:
            await session.execute(insert(model).from_select(columns, query))
    subjects = ActiveSubject.__table__
    assert isinstance(subjects, Table)
    subject_shard = _stripe_sql(subjects.c.subject)
    await session.execute(
        insert(ActiveCount).from_select(
            ["period", "starts_on", "site_id", "home_site_id", "shard", "people"],
            select(
                subjects.c.period,
                subjects.c.starts_on,
                subjects.c.site_id,
                subjects.c.home_site_id,
                subject_shard,
                func.count(),
            )
            .where(*kept[subjects])
            .group_by(
                subjects.c.period,
                subjects.c.starts_on,
                subjects.c.site_id,
                subjects.c.home_site_id,
                subject_shard,
            ),
        )
    )


def _stripe_sql(subject: Any) -> ColumnElement[int]:
    """`usage.rollups.stripe` in SQL (a function of migration 0010 on PostgreSQL, the
    Python one on SQLite)."""
    return func.usage_stripe(subject, type_=SmallInteger)


# --- personal data ------------------------------------------------------------------------


def _pseudonym_in_stripe(wanted: int) -> str:
    """A random subject of the given stripe: the person's rows in the striped rollups stay
    where they are and their later removal takes from the right ones (16 tries on average)."""
    while True:
        pseudonym = f"erased:{uuid.uuid4().hex}"
        if stripe(pseudonym) == wanted:
            return pseudonym


async def export_person_data(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any]:
    """The memberships linked to a person and every use recorded under them."""
    memberships = (
        await session.scalars(
            select(Membership).where(Membership.person_id == person_id).order_by(Membership.id)
        )
    ).all()
    subjects = [person_subject(person_id), *(membership_subject(m.id) for m in memberships)]
    uses = await session.scalars(
        select(Use).where(Use.subject.in_(subjects)).order_by(Use.day, Use.id)
    )
    return {
        "memberships": [
            {
                "siteId": m.site_id,
                "externalId": m.external_id,
                "plan": m.plan,
                "startsOn": m.starts_on.isoformat(),
                "endsOn": m.ends_on.isoformat() if m.ends_on else None,
            }
            for m in memberships
        ],
        "uses": [
            {
                "siteId": u.site_id,
                "day": u.day.isoformat(),
                "kind": u.kind.value,
                "units": u.units,
                "source": u.source.value,
            }
            for u in uses
        ],
    }


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Unlink the person's memberships and put a random pseudonym in place of their id on
    their uses and in the rollups: every count stays exact, nothing leads back to them."""
    await flush_rollups(session)
    old = person_subject(person_id)
    new = _pseudonym_in_stripe(stripe(old))
    uses = (
        await session.execute(
            select(Use.site_id, Use.day, Use.home_site_id).where(Use.subject == old)
        )
    ).all()
    keys: set[tuple[Period, date, int, int]] = set()
    for site_id, day, home_site_id in uses:
        for period, start in periods_of(day):
            keys.add((period, start, site_id, ANY_HOME))
            keys.add((period, start, NETWORK, ANY_HOME))
            if home_site_id is not None and home_site_id != site_id:
                keys.add((period, start, site_id, home_site_id))
    subjects = ActiveSubject.__table__
    assert isinstance(subjects, Table)
    scope = tuple_(
        subjects.c.period, subjects.c.starts_on, subjects.c.site_id, subjects.c.home_site_id
    )
    for chunk in _chunks(sorted(keys), _CHUNK):
        await session.execute(
            update(subjects).where(subjects.c.subject == old, scope.in_(chunk)).values(subject=new)
        )
    await session.execute(update(Use).where(Use.subject == old).values(subject=new))
    # Uses committed since the catch-up above wait in the queue under the old subject.
    await session.execute(update(PendingUse).where(PendingUse.subject == old).values(subject=new))
    await session.execute(
        update(Membership).where(Membership.person_id == person_id).values(person_id=None)
    )
