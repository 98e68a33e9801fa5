"""Applying a sync batch (one transaction), and reading the runs it leaves.

A batch goes through three steps: each record is checked on its own (a bad one is
rejected with its index, external id and reason, the others go on); each valid record is
compared with the ledger of what the space already synced (an older `updatedAt` or an
identical digest changes nothing); then each type's records are written set-based by
the domain that owns them (usage for memberships and uses, directory for the profile,
calendar for events). The run, with its whole answer, is written last, in the same
transaction: a replayed batch id gets that answer back and applies nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast

import fastjsonschema
from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from federation.calendar import service as calendar
from federation.directory import service as directory
from federation.directory.loaders import amenities_by_site, plans_by_site
from federation.directory.models import Site
from federation.errors import BadUserInput, FederationError
from federation.keys.service import KeyRing
from federation.kit.arrays import text_array
from federation.kit.pagination import Page, PageRequest, decode_cursor, page_of
from federation.passes import service as passes
from federation.sync import contract
from federation.sync.models import Booking, SyncRecord, SyncRun
from federation.usage import service as usage
from federation.usage.models import UseKind, UseSource

Action = Literal["created", "updated", "deleted", "unchanged"]

_envelope = fastjsonschema.compile(contract.ENVELOPE)
_batch_envelope = fastjsonschema.compile(contract.RECORDS_AS_OBJECTS)
_data = {kind: fastjsonschema.compile(schema) for kind, schema in contract.DATA_SCHEMAS.items()}


def _upserts_schema(kind: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A list of upserts of one type, envelope and data together: what `_envelope` then
    `_data[kind]` check record by record, checked in one call. A data `oneOf` of single
    required keys (a use's member or pass token) is left out of the schema and returned
    as those keys, checked in Python: fastjsonschema runs `oneOf` by raising an exception
    for each failing branch of each record, three times the cost of the rest."""
    envelope, data = contract.ENVELOPE, dict(contract.DATA_SCHEMAS[kind])
    exactly_one: tuple[str, ...] = ()
    branches = data.get("oneOf", [])
    if branches and all(list(b) == ["required"] and len(b["required"]) == 1 for b in branches):
        del data["oneOf"]
        exactly_one = tuple(b["required"][0] for b in branches)
    schema = {
        "type": "array",
        "items": {
            **envelope,
            "properties": {
                **envelope["properties"],
                "type": {"const": kind},
                "op": {"const": "upsert"},
                "data": data,
            },
            "required": [*envelope["required"], "data"],
        },
    }
    return schema, exactly_one


# The fast path: all of a batch's upserts of one type in one call. Only when one fails are
# they checked one by one, for each rejection's index and reason.
_upserts = {
    kind: (fastjsonschema.compile(schema), exactly_one)
    for kind in contract.DATA_SCHEMAS
    for schema, exactly_one in [_upserts_schema(kind)]
}


# Memberships before the uses and bookings that name them.
_ORDER = ("site_profile", "membership", "usage", "booking", "event")


def check_batch(payload: Any) -> dict[str, Any]:
    """The batch's envelope, or BAD_USER_INPUT naming the first wrong path."""
    try:
        checked: dict[str, Any] = _batch_envelope(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        path, message = _described(error, "")
        raise BadUserInput(message, path=path or "(batch)") from None
    return checked


def _described(error: fastjsonschema.JsonSchemaValueException, prefix: str) -> tuple[str, str]:
    """(the path of what is wrong, a sentence naming it), from fastjsonschema's error."""
    path = prefix
    parts: Sequence[object] = list(error.path)[1:]  # the first is fastjsonschema's root name
    for part in parts:
        path += f"[{part}]" if str(part).isdigit() else (f".{part}" if path else str(part))
    name, message = str(error.name), str(error.message)
    if message.startswith(name):
        message = (path or "the batch") + message[len(name) :]
    return path, message


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    external_id: str | None
    type: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "externalId": self.external_id,
            "type": self.type,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Item:
    """A record that passed its checks, and what the ledger says it changes."""

    index: int
    type: str
    external_id: str
    op: str
    updated_at: datetime
    data: dict[str, Any]
    digest: str
    action: Action = "unchanged"


@dataclass(slots=True)
class Outcome:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("created", "updated", "deleted", "unchanged"), 0)
    )
    rejected: list[Rejection] = field(default_factory=list)


Reject = Callable[[Item, str], None]


@dataclass(frozen=True, slots=True)
class BatchContext:
    """Who sent the batch (a space's client), and the hub's keys to check pass tokens."""

    site: Site
    client_id: str | None
    keys: KeyRing | None = None


async def apply_batch(
    session: AsyncSession, context: BatchContext, batch: dict[str, Any]
) -> dict[str, Any]:
    """Apply one checked batch (`check_batch`) for `context.site` and return the answer; a
    replayed batch id returns the first answer and changes nothing."""
    site_id = context.site.id
    batch_id = batch["batchId"]
    first = await session.scalar(
        select(SyncRun.answer).where(SyncRun.site_id == site_id, SyncRun.batch_id == batch_id)
    )
    if first is not None:
        return dict(first)
    outcome = Outcome()
    items = _checked_items(batch, context.site.slug, outcome)
    await _compare_with_ledger(session, site_id, items)
    rejected_indexes: set[int] = set()

    def reject(item: Item, reason: str) -> None:
        outcome.rejected.append(Rejection(item.index, item.external_id, item.type, reason))
        rejected_indexes.add(item.index)

    removed: dict[str, list[str]] = {}
    carried = {(i.type, i.external_id) for i in items}
    for kind in _ORDER:
        of_kind = [i for i in items if i.type == kind and i.action != "unchanged"]
        gone: list[str] = []
        if kind in (batch.get("snapshot") or []):
            gone = await _not_carried(session, site_id, kind, carried)
            removed[kind] = gone
        if of_kind or gone:
            await _HANDLERS[kind](session, context, of_kind, gone, reject)
    applied = [i for i in items if i.index not in rejected_indexes]
    for item in applied:
        outcome.counts[item.action] += 1
    outcome.counts["deleted"] += sum(len(ids) for ids in removed.values())
    await _write_ledger(session, site_id, applied, removed)
    outcome.rejected.sort(key=lambda r: r.index)
    answer = {
        "batchId": batch_id,
        "applied": outcome.counts,
        "rejected": [r.as_json() for r in outcome.rejected],
    }
    session.add(
        SyncRun(
            site_id=site_id,
            batch_id=batch_id,
            client_id=context.client_id,
            source=str(batch.get("source") or "")[:200],
            created=outcome.counts["created"],
            updated=outcome.counts["updated"],
            deleted=outcome.counts["deleted"],
            unchanged=outcome.counts["unchanged"],
            rejected=len(outcome.rejected),
            answer=answer,
        )
    )
    await session.flush()
    return answer


async def replayed_answer(
    session: AsyncSession, site_id: int, batch_id: str
) -> dict[str, Any] | None:
    """The answer a batch id already got (for a replay that raced the first run)."""
    answer = await session.scalar(
        select(SyncRun.answer).where(SyncRun.site_id == site_id, SyncRun.batch_id == batch_id)
    )
    return dict(answer) if answer is not None else None


def digest_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _checked_items(batch: dict[str, Any], site_slug: str, outcome: Outcome) -> list[Item]:
    records = batch["records"]
    checked = _checked_in_bulk(records)
    items: list[Item] = []
    seen: dict[tuple[str, str], int] = {}
    moments: dict[str, datetime] = {}  # a batch's records often share their `updatedAt`
    for index, record in enumerate(records):
        external_id = (
            record.get("externalId") if isinstance(record.get("externalId"), str) else None
        )
        kind = record.get("type") if isinstance(record.get("type"), str) else None

        def reject(
            reason: str,
            index: int = index,
            kind: str | None = kind,
            external_id: str | None = external_id,
        ) -> None:
            outcome.rejected.append(Rejection(index, external_id, kind, reason))

        data = record.get("data") or {}
        if index not in checked:
            try:
                _envelope(record)
            except fastjsonschema.JsonSchemaValueException as error:
                reject(_described(error, f"records[{index}]")[1])
                continue
            if record["op"] == "upsert":
                if "data" not in record:
                    reject(f"records[{index}]: an upsert carries `data`")
                    continue
                try:
                    _data[record["type"]](data)
                except fastjsonschema.JsonSchemaValueException as error:
                    reject(_described(error, f"records[{index}].data")[1])
                    continue
        assert external_id is not None
        assert kind is not None
        if record.get("site") not in (None, site_slug):
            reject(f"this record names the space {record['site']!r}, not {site_slug!r}")
            continue
        upsert = record["op"] == "upsert"
        if upsert:
            problem = _semantic_problem(kind, data)
            if problem:
                reject(problem)
                continue
        if (kind, external_id) in seen:
            reject(f"the batch already carries this {kind} at index {seen[(kind, external_id)]}")
            continue
        seen[(kind, external_id)] = index
        stamp = record["updatedAt"]
        updated_at = moments.get(stamp)
        if updated_at is None:
            updated_at = moments[stamp] = _datetime(stamp)
        items.append(
            Item(
                index=index,
                type=kind,
                external_id=external_id,
                op=record["op"],
                updated_at=updated_at,
                data=data,
                digest=digest_of(data) if upsert else "",
            )
        )
    return items


def _checked_in_bulk(records: list[Any]) -> set[int]:
    """The indexes of the upserts that pass their schema, each type's checked in one call
    (a type with a failing record is left to the record-by-record checks)."""
    by_kind: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        kind = record.get("type")
        if record.get("op") == "upsert" and isinstance(kind, str) and kind in _upserts:
            by_kind.setdefault(kind, []).append(index)
    passed: set[int] = set()
    for kind, indexes in by_kind.items():
        validate, exactly_one = _upserts[kind]
        of_kind = [records[i] for i in indexes]
        try:
            validate(of_kind)
        except fastjsonschema.JsonSchemaValueException:
            continue
        if exactly_one and any(
            sum(key in record["data"] for key in exactly_one) != 1 for record in of_kind
        ):
            continue
        passed.update(indexes)
    return passed


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))


def _semantic_problem(kind: str, data: dict[str, Any]) -> str | None:
    """What JSON Schema cannot say: orders of dates."""
    if kind == "membership" and data.get("endsOn"):  # noqa: SIM102
        if date.fromisoformat(data["endsOn"]) < date.fromisoformat(data["startsOn"]):
            return "a membership cannot end before it starts"
    if kind == "booking" and _datetime(data["endsAt"]) <= _datetime(data["startsAt"]):
        return "a booking ends after it starts"
    if kind == "event" and data.get("endsAt"):  # noqa: SIM102
        if _datetime(data["endsAt"]) < _datetime(data["startsAt"]):
            return "an event cannot end before it starts"
    return None


async def _compare_with_ledger(session: AsyncSession, site_id: int, items: list[Item]) -> None:
    """Decide each item's action from what the space synced before (one statement)."""
    held: dict[tuple[str, str], tuple[datetime, str, bool]] = {}
    if items:
        rows = await session.execute(_ledger_rows(session, site_id, items))
        for kind, external_id, updated_at, digest, deleted in rows:
            held[(kind, external_id)] = (updated_at, digest, deleted)
    for item in items:
        known = held.get((item.type, item.external_id))
        if known is None:
            item.action = "created" if item.op == "upsert" else "unchanged"
            continue
        updated_at, digest, deleted = known
        if item.updated_at < updated_at:
            item.action = "unchanged"  # older than what the hub holds: never overwrites
        elif item.op == "delete":
            item.action = "unchanged" if deleted else "deleted"
        elif deleted:
            item.action = "created" if item.updated_at > updated_at else "unchanged"
        else:
            item.action = "unchanged" if item.digest == digest else "updated"


def _ledger_rows(session: AsyncSession, site_id: int, items: list[Item]) -> Any:
    """The ledger rows of the items' (type, external id) pairs, in one statement whatever
    the batch's size, as one primary-key lookup per pair: the cost of the batch, not of
    the space's history. PostgreSQL: the pairs unnested from two arrays, each looked up
    LATERAL (a plain join or `IN` lets the planner hash every ledger row of the space, or
    worse, with statistics stale after a bulk load, filter them all against the whole
    list). SQLite: the pairs as one JSON parameter, looped over first (CROSS JOIN fixes
    the order)."""
    if session.get_bind().dialect.name == "postgresql":
        source = (
            "unnest(CAST(:types AS text[]), CAST(:ids AS text[])) AS wanted(type, external_id)"
            " CROSS JOIN LATERAL (SELECT * FROM sync_records r WHERE r.site_id = :site_id"
            " AND r.type = wanted.type AND r.external_id = wanted.external_id LIMIT 1) r"
        )
        parameters: dict[str, Any] = {
            "types": text_array([item.type for item in items]),
            "ids": text_array([item.external_id for item in items]),
        }
    else:
        source = (
            "json_each(:pairs) AS wanted CROSS JOIN sync_records r ON r.site_id = :site_id"
            " AND r.type = json_extract(wanted.value, '$[0]')"
            " AND r.external_id = json_extract(wanted.value, '$[1]')"
        )
        parameters = {"pairs": json.dumps([[item.type, item.external_id] for item in items])}
    return (
        text(
            "SELECT r.type, r.external_id, r.updated_at, r.digest, r.deleted FROM "  # noqa: S608
            + source
        )
        .bindparams(site_id=site_id, **parameters)
        .columns(
            SyncRecord.type,
            SyncRecord.external_id,
            SyncRecord.updated_at,
            SyncRecord.digest,
            SyncRecord.deleted,
        )
    )


async def _not_carried(
    session: AsyncSession, site_id: int, kind: str, carried: set[tuple[str, str]]
) -> list[str]:
    held = await session.scalars(
        select(SyncRecord.external_id).where(
            SyncRecord.site_id == site_id,
            SyncRecord.type == kind,
            SyncRecord.deleted.is_(False),
        )
    )
    return sorted(external_id for external_id in held if (kind, external_id) not in carried)


async def _write_ledger(
    session: AsyncSession, site_id: int, applied: list[Item], removed: dict[str, list[str]]
) -> None:
    written = [
        item
        for item in applied
        # A delete of something never synced still leaves a tombstone: a late upsert
        # older than the delete must not bring the record back.
        if item.action != "unchanged" or item.op == "delete"
    ]
    if written and session.get_bind().dialect.name == "postgresql":
        # One statement from a JSON rowset: no per-row round trip, parameter or plan.
        rows = [
            [item.type, item.external_id, item.updated_at.isoformat(), item.digest, item.op]
            for item in written
        ]
        await session.execute(
            text(
                "INSERT INTO sync_records (site_id, type, external_id, updated_at, digest,"
                " deleted)"
                " SELECT :site_id, r.value ->> 0, r.value ->> 1,"
                " CAST(r.value ->> 2 AS timestamptz), r.value ->> 3, r.value ->> 4 = 'delete'"
                " FROM json_array_elements(CAST(:rows AS json)) AS r"
                " ON CONFLICT (site_id, type, external_id) DO UPDATE SET"
                " updated_at = EXCLUDED.updated_at, digest = EXCLUDED.digest,"
                " deleted = EXCLUDED.deleted"
                # Never move a ledger row back in time (a delete older than what is held).
                " WHERE sync_records.updated_at <= EXCLUDED.updated_at"
            ),
            {"site_id": site_id, "rows": json.dumps(rows)},
        )
    elif written:
        # SQLite: one compiled statement, run as an executemany.
        statement = sqlite.insert(_LEDGER)
        statement = statement.on_conflict_do_update(
            index_elements=["site_id", "type", "external_id"],
            set_={
                "updated_at": statement.excluded.updated_at,
                "digest": statement.excluded.digest,
                "deleted": statement.excluded.deleted,
            },
            where=statement.table.c.updated_at <= statement.excluded.updated_at,
        )
        await session.execute(
            statement,
            [
                {
                    "site_id": site_id,
                    "type": item.type,
                    "external_id": item.external_id,
                    "updated_at": item.updated_at,
                    "digest": item.digest,
                    "deleted": item.op == "delete",
                }
                for item in written
            ],
        )
    for kind, external_ids in removed.items():
        for id_chunk in _chunks(external_ids, 1000):
            await session.execute(
                delete(SyncRecord).where(
                    SyncRecord.site_id == site_id,
                    SyncRecord.type == kind,
                    SyncRecord.external_id.in_(id_chunk),
                )
            )


_LEDGER = cast(Table, SyncRecord.__table__)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- per type -----------------------------------------------------------------------------

Handler = Callable[[AsyncSession, BatchContext, list[Item], list[str], Reject], Awaitable[None]]


async def _memberships(
    session: AsyncSession,
    context: BatchContext,
    items: list[Item],
    gone: list[str],
    reject: Reject,
) -> None:
    site_id = context.site.id
    upserts = [i for i in items if i.op == "upsert"]
    await usage.import_memberships(
        session,
        [
            usage.MembershipRecord(
                site_id=site_id,
                external_id=i.external_id,
                starts_on=date.fromisoformat(i.data["startsOn"]),
                ends_on=date.fromisoformat(i.data["endsOn"]) if i.data.get("endsOn") else None,
                plan=i.data.get("plan", ""),
                source_updated_at=i.updated_at,
            )
            for i in upserts
        ],
    )
    removals = [i.external_id for i in items if i.op == "delete"] + gone
    for membership in (await usage.find_memberships(session, site_id, removals)).values():
        await usage.remove_membership(session, membership)


async def _uses(
    session: AsyncSession,
    context: BatchContext,
    items: list[Item],
    gone: list[str],
    reject: Reject,
) -> None:
    site_id = context.site.id
    upserts = [i for i in items if i.op == "upsert"]
    members = await usage.membership_ids(
        session, site_id, [i.data["membership"] for i in upserts if "membership" in i.data]
    )
    records: list[usage.UseRecord] = []
    visits: list[tuple[Item, passes.OfflineVisit]] = []
    days: dict[str, date] = {}  # a batch's uses share few days: parse each once
    kinds = {kind.value: kind for kind in UseKind}
    for item in upserts:
        data = item.data
        if "passToken" in data:
            at = _datetime(data["at"]) if "at" in data else None
            if at is None:
                reject(item, "a visit with a pass token needs `at`, when the kiosk saw it")
                continue
            kind = "DAY" if int(data.get("halfDays", 1)) >= 2 else "HALF_DAY"
            visits.append(
                (item, passes.OfflineVisit(data["passToken"], at, kind, item.external_id))
            )
            continue
        membership_id = members.get(data["membership"])
        if membership_id is None:
            reject(
                item,
                f"no membership {data['membership']!r} at this space: sync the membership first",
            )
            continue
        day = days.get(data["date"])
        if day is None:
            day = days[data["date"]] = date.fromisoformat(data["date"])
        records.append(
            usage.UseRecord(
                site_id=site_id,
                day=day,
                kind=kinds[data.get("kind", "OPEN_SPACE")],
                units=int(data.get("halfDays", 1)),
                subject=usage.membership_subject(membership_id),
                home_site_id=site_id,
                source=UseSource.SYNC,
                external_id=item.external_id,
            )
        )
    await usage.sync_uses(session, records)
    if visits:
        if context.keys is None:
            for item, _ in visits:
                reject(item, "this hub cannot check pass tokens here")
        else:
            outcomes = await passes.record_offline_visits(
                session, keys=context.keys, site_id=site_id, visits=[v for _, v in visits]
            )
            for (item, _), outcome in zip(visits, outcomes, strict=True):
                if not outcome.ok and not outcome.over_use:
                    reject(item, f"the pass refused this visit ({outcome.code})")
    removals = [i.external_id for i in items if i.op == "delete"] + gone
    if removals:
        await usage.remove_synced_uses(session, site_id, removals)


async def _bookings(
    session: AsyncSession,
    context: BatchContext,
    items: list[Item],
    gone: list[str],
    reject: Reject,
) -> None:
    site_id = context.site.id
    held = {
        b.external_id: b
        for b in await session.scalars(
            select(Booking).where(
                Booking.site_id == site_id,
                Booking.external_id.in_([i.external_id for i in items] + gone),
            )
        )
    }
    for item in items:
        booking = held.get(item.external_id)
        if item.op == "delete":
            if booking is not None:
                await session.delete(booking)
            continue
        values = {
            "room": item.data["room"],
            "starts_at": _datetime(item.data["startsAt"]),
            "ends_at": _datetime(item.data["endsAt"]),
            "membership": item.data.get("membership"),
        }
        if booking is None:
            session.add(Booking(site_id=site_id, external_id=item.external_id, **values))
        else:
            for key, value in values.items():
                setattr(booking, key, value)
    for external_id in gone:
        if external_id in held:
            await session.delete(held[external_id])
    await session.flush()


_PROFILE_FIELDS = {
    "name": "name",
    "description": "description",
    "address": "address",
    "postcode": "postcode",
    "city": "city",
    "website": "website",
    "email": "email",
    "desks": "desks",
    "surfaceM2": "surface_m2",
    "acceptsNetworkPasses": "accepts_network_passes",
    "openingHours": "opening_hours",
}


async def _site_profile(
    session: AsyncSession,
    context: BatchContext,
    items: list[Item],
    gone: list[str],
    reject: Reject,
) -> None:
    site = context.site
    for item in items:
        if item.op == "delete":
            reject(item, "a space's profile cannot be deleted through sync")
            continue
        [amenities] = await amenities_by_site(session, [site.id])
        [plans] = await plans_by_site(session, [site.id])
        profile = directory.SiteProfile(
            slug=site.slug,
            name=site.name,
            legal_form=site.legal_form,
            address=site.address,
            postcode=site.postcode,
            city=site.city,
            region=site.region,
            lat=site.lat,
            lon=site.lon,
            joined_at=site.joined_at,
            description=site.description,
            surface_m2=site.surface_m2,
            desks=site.desks,
            opening_hours=list(site.opening_hours),
            website=site.website,
            email=site.email,
            accepts_network_passes=site.accepts_network_passes,
            amenities=amenities,
            plans=[
                directory.PlanLine(p.name, p.price_cents, p.unit, p.quantity, p.vat_rate)
                for p in plans
            ],
        )
        # A manager who set the network-pass policy through the hub after the space's tool
        # last changed its profile wins over that older record (newer wins, field by field).
        set_at = site.network_passes_set_at
        kept = (
            {"acceptsNetworkPasses"} if set_at is not None and item.updated_at < set_at else set()
        )
        for key, attribute in _PROFILE_FIELDS.items():
            if key in item.data and key not in kept:
                setattr(profile, attribute, item.data[key])
        try:
            async with session.begin_nested():
                await directory.save_site(session, profile)
        except BadUserInput as error:
            reject(item, error.message)


async def _events(
    session: AsyncSession,
    context: BatchContext,
    items: list[Item],
    gone: list[str],
    reject: Reject,
) -> None:
    site_id = context.site.id
    for item in items:
        try:
            # One savepoint per event: a refused one leaves the others applied.
            async with session.begin_nested():
                if item.op == "delete":
                    await calendar.delete_synced_event(
                        session, site_id=site_id, external_id=item.external_id
                    )
                else:
                    await calendar.save_synced_event(
                        session,
                        site_id=site_id,
                        external_id=item.external_id,
                        updated_at=item.updated_at,
                        data=item.data,
                    )
        except FederationError as error:
            reject(item, error.message)
    for external_id in gone:
        # Snapshot: an event the feed no longer carries is cancelled, never erased.
        await calendar.delete_synced_event(session, site_id=site_id, external_id=external_id)


_HANDLERS: dict[str, Handler] = {
    "site_profile": _site_profile,
    "membership": _memberships,
    "usage": _uses,
    "booking": _bookings,
    "event": _events,
}


# --- reading runs -------------------------------------------------------------------------


async def list_runs(session: AsyncSession, site_id: int, request: PageRequest) -> Page[SyncRun]:
    """A space's sync runs, newest first."""
    query = select(SyncRun).where(SyncRun.site_id == site_id)
    if request.after is not None:
        [last_id] = decode_cursor(request.after, types=[int])
        query = query.where(SyncRun.id < last_id)
    rows = (await session.scalars(query.order_by(SyncRun.id.desc()).limit(request.first + 1))).all()

    async def count(counting: AsyncSession) -> int:
        total = await counting.scalar(
            select(func.count()).select_from(SyncRun).where(SyncRun.site_id == site_id)
        )
        return int(total or 0)

    return page_of(rows, request, key=lambda run: [run.id], count=count)
