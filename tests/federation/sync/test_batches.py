"""POST /sync/v1/batches: what a space's adapter gets for each kind of batch."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from federation.directory.models import Site
from federation.sync.contract import export_json
from federation.sync.models import Booking, SyncRecord, SyncRun
from federation.usage.models import Membership, Use, UsesByPeriod
from federation.usage.service import drain, rebuild_rollups
from tests.factories import make_site
from tests.federation.passes.helpers import manager_of
from tests.federation.sync.support import batch, delete, membership, post, space_client, use
from tests.support import Hub

ROOT = Path(__file__).resolve().parents[3]


async def counts(hub: Hub) -> dict[str, int]:
    async with hub.db.reading() as session:
        return {
            "memberships": await session.scalar(select(func.count()).select_from(Membership)) or 0,
            "uses": await session.scalar(select(func.count()).select_from(Use)) or 0,
            "runs": await session.scalar(select(func.count()).select_from(SyncRun)) or 0,
        }


async def rollup_rows(hub: Hub) -> list[Any]:
    await drain(hub.db)  # the queue, applied as before statistics are read
    async with hub.db.reading() as session:
        rows = await session.execute(select(UsesByPeriod).order_by(UsesByPeriod.period))
        return sorted((r.period, r.starts_on, r.site_id, r.kind, r.uses) for r in rows.scalars())


def test_the_published_json_schema_is_exactly_what_the_code_says() -> None:
    on_disk = (ROOT / "schema" / "sync-batch.schema.json").read_text(encoding="utf-8")
    assert on_disk == export_json(), "schema/sync-batch.schema.json is stale: run `make schema`"


async def test_a_batch_creates_memberships_and_uses_and_their_statistics(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    answer = await post(
        hub,
        batch(
            "casaco",
            membership("m-1"),
            use("u-1", "m-1", "2026-02-02", half_days=2),
            use("u-2", "m-1", "2026-02-03"),
        ),
        space_client(site.id),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["applied"] == {"created": 3, "updated": 0, "deleted": 0, "unchanged": 0}
    assert body["rejected"] == []
    assert await counts(hub) == {"memberships": 1, "uses": 2, "runs": 1}
    kept = await rollup_rows(hub)
    assert ("MONTH", __import__("datetime").date(2026, 2, 1), site.id, "OPEN_SPACE", 3) in kept
    async with hub.db.transaction() as session:
        await rebuild_rollups(session)
    assert await rollup_rows(hub) == kept


async def test_a_replayed_batch_gets_the_first_answer_and_applies_nothing(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    body = batch("casaco", membership("m-1"), use("u-1", "m-1"), batch_id="b-42")
    first = await post(hub, body, space_client(site.id))
    async with hub.db.transaction() as session:
        (await session.scalars(select(Use))).one().units = 1  # untouched by the replay
    again = await post(hub, body, space_client(site.id))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await counts(hub) == {"memberships": 1, "uses": 1, "runs": 1}


async def test_invalid_records_are_rejected_one_by_one_and_the_others_apply(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    records = [
        membership("m-1"),
        {
            "type": "usage",
            "externalId": "u-bad",
            "op": "upsert",
            "updatedAt": "2026-02-02T10:00:00Z",
            "data": {"date": "02/02/2026", "membership": "m-1"},
        },
        use("u-ghost", "nobody"),
        {"type": "booking", "externalId": "b-1", "op": "upsert", "updatedAt": "nope", "data": {}},
        membership("m-2", "2026-03-01", ends_on="2026-02-01"),
        use("u-1", "m-1"),
        {**membership("m-3"), "site": "la-fontaine"},
    ]
    answer = (await post(hub, batch("casaco", *records), space_client(site.id))).json()
    assert answer["applied"]["created"] == 2
    rejected = {r["index"]: r for r in answer["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 6]
    assert rejected[1]["externalId"] == "u-bad"
    assert "records[1].data.date" in rejected[1]["reason"]
    assert "nobody" in rejected[2]["reason"]
    assert "records[3].updatedAt" in rejected[3]["reason"]
    assert "end before" in rejected[4]["reason"]
    assert "la-fontaine" in rejected[6]["reason"]
    assert await counts(hub) == {"memberships": 1, "uses": 1, "runs": 1}


async def test_a_use_naming_both_a_member_and_a_pass_or_neither_is_rejected_alone(
    hub: Hub,
) -> None:
    site = await make_site(hub.db, "casaco")
    both = use("u-both", "m-1")
    both["data"] = {**both["data"], "passToken": "tok"}
    neither = use("u-neither", "m-1")
    del neither["data"]["membership"]
    records = [membership("m-1"), use("u-1", "m-1"), both, neither, use("u-2", "m-1")]
    answer = (await post(hub, batch("casaco", *records), space_client(site.id))).json()
    assert answer["applied"]["created"] == 3
    assert [(r["index"], r["externalId"]) for r in answer["rejected"]] == [
        (2, "u-both"),
        (3, "u-neither"),
    ]
    assert all("records[" in r["reason"] for r in answer["rejected"])


async def test_an_older_update_never_overwrites_newer_data(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    await post(
        hub,
        batch("casaco", membership("m-1", plan="Régulier", updated_at="2026-05-01T10:00:00Z")),
        client,
    )
    older = await post(
        hub,
        batch("casaco", membership("m-1", plan="Occasionnel", updated_at="2026-04-01T10:00:00Z")),
        client,
    )
    assert older.json()["applied"] == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 1}
    newer = await post(
        hub,
        batch("casaco", membership("m-1", plan="Occasionnel", updated_at="2026-06-01T10:00:00Z")),
        client,
    )
    assert newer.json()["applied"]["updated"] == 1
    async with hub.db.reading() as session:
        assert (await session.scalars(select(Membership.plan))).one() == "Occasionnel"


async def test_a_delete_leaves_a_tombstone_that_an_older_upsert_cannot_undo(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    await post(hub, batch("casaco", membership("m-1"), use("u-1", "m-1")), client)
    gone = await post(hub, batch("casaco", delete("usage", "u-1", "2026-03-01T00:00:00Z")), client)
    assert gone.json()["applied"]["deleted"] == 1
    late = await post(
        hub, batch("casaco", use("u-1", "m-1", updated_at="2026-02-10T00:00:00Z")), client
    )
    assert late.json()["applied"]["unchanged"] == 1
    assert (await counts(hub))["uses"] == 0
    assert await rollup_rows(hub) == []


async def test_a_snapshot_removes_the_records_it_does_not_carry(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    await post(
        hub,
        batch("casaco", membership("m-1"), use("u-1", "m-1"), use("u-2", "m-1"), use("u-3", "m-1")),
        client,
    )
    answer = await post(hub, batch("casaco", use("u-2", "m-1"), snapshot=["usage"]), client)
    assert answer.json()["applied"] == {"created": 0, "updated": 0, "deleted": 2, "unchanged": 1}
    async with hub.db.reading() as session:
        assert (await session.scalars(select(Use.external_id))).all() == ["u-2"]
        ledger = (
            await session.scalars(select(SyncRecord.external_id).where(SyncRecord.type == "usage"))
        ).all()
    assert ledger == ["u-2"]
    async with hub.db.transaction() as session:
        kept = await rollup_rows(hub)
        await rebuild_rollups(session)
    assert await rollup_rows(hub) == kept


async def test_a_changed_use_moves_its_statistics(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    await post(hub, batch("casaco", membership("m-1"), use("u-1", "m-1", "2026-02-02")), client)
    answer = await post(
        hub,
        batch(
            "casaco",
            use("u-1", "m-1", "2026-03-02", half_days=2, updated_at="2026-03-02T18:00:00Z"),
        ),
        client,
    )
    assert answer.json()["applied"]["updated"] == 1
    kept = await rollup_rows(hub)
    async with hub.db.transaction() as session:
        await rebuild_rollups(session)
    assert await rollup_rows(hub) == kept
    assert all(row[1].month == 3 or row[0] in ("YEAR", "QUARTER") for row in kept)


async def test_bookings_are_mirrored(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    record = {
        "type": "booking",
        "externalId": "bk-1",
        "op": "upsert",
        "updatedAt": "2026-02-01T10:00:00Z",
        "data": {
            "room": "Salle du jardin",
            "startsAt": "2026-02-03T09:00:00+01:00",
            "endsAt": "2026-02-03T12:00:00+01:00",
        },
    }
    answer = await post(hub, batch("casaco", record), space_client(site.id))
    assert answer.json()["applied"]["created"] == 1
    async with hub.db.reading() as session:
        booking = (await session.scalars(select(Booking))).one()
    assert booking.room == "Salle du jardin"


async def test_a_space_profile_updates_the_directory(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    record = {
        "type": "site_profile",
        "externalId": "casaco",
        "op": "upsert",
        "updatedAt": "2026-02-01T10:00:00Z",
        "data": {"desks": 45, "surfaceM2": 460},
    }
    answer = await post(hub, batch("casaco", record), space_client(site.id))
    assert answer.json()["applied"]["created"] == 1, answer.text
    found = await hub.data('{ site(slug: "casaco") { desks } }')
    assert found["site"]["desks"] == 45


def _profile(updated_at: str, **data: Any) -> dict[str, Any]:
    return {
        "type": "site_profile",
        "externalId": "casaco",
        "op": "upsert",
        "updatedAt": updated_at,
        "data": data,
    }


async def test_a_synced_profile_older_than_a_managers_pass_policy_leaves_the_policy_alone(
    hub: Hub,
) -> None:
    site = await make_site(hub.db, "casaco")
    policy = 'mutation { setAcceptedPassProducts(site: "casaco", accepting: false) { accepting } }'
    assert (await hub.data(policy, viewer=manager_of(site)))["setAcceptedPassProducts"] == {
        "accepting": False
    }
    async with hub.db.reading() as session:
        set_at = await session.scalar(select(Site.network_passes_set_at))
    assert set_at is not None
    older = _profile("2026-02-01T10:00:00Z", desks=45, acceptsNetworkPasses=True)
    answer = await post(hub, batch("casaco", older), space_client(site.id))
    assert answer.json()["applied"]["created"] == 1, answer.text
    found = await hub.data('{ site(slug: "casaco") { desks acceptsNetworkPasses } }')
    assert found["site"] == {"desks": 45, "acceptsNetworkPasses": False}
    # The space's tool changing its profile afterwards is newer: it wins.
    later = (set_at + timedelta(minutes=1)).isoformat()
    newer = _profile(later, desks=46, acceptsNetworkPasses=True)
    answer = await post(hub, batch("casaco", newer), space_client(site.id))
    assert answer.json()["applied"]["updated"] == 1, answer.text
    found = await hub.data('{ site(slug: "casaco") { desks acceptsNetworkPasses } }')
    assert found["site"] == {"desks": 46, "acceptsNetworkPasses": True}


async def test_a_batch_for_another_space_is_forbidden(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_site(hub.db, "la-fontaine")
    answer = await post(hub, batch("la-fontaine", membership("m-1")), space_client(casaco.id))
    assert answer.status_code == 403
    assert answer.json()["error"] == "FORBIDDEN"
    wrong_scope = await post(
        hub, batch("casaco", membership("m-1")), space_client(casaco.id, scopes="checkin:write")
    )
    assert wrong_scope.status_code == 403
    anonymous = await hub.http.post("/sync/v1/batches", json=batch("casaco"))
    assert anonymous.status_code == 401
    assert (await counts(hub))["memberships"] == 0


async def test_a_malformed_batch_gets_400_naming_the_path(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    not_json = await post(hub, b"{nope", client)
    assert not_json.status_code == 400
    assert not_json.json()["error"] == "BAD_USER_INPUT"
    no_records = await post(hub, {"site": "casaco", "batchId": "x"}, client)
    assert no_records.status_code == 400
    assert "records" in no_records.json()["message"]
    bad_snapshot = await post(hub, batch("casaco", snapshot=["people"]), client)
    assert bad_snapshot.status_code == 400
    assert bad_snapshot.json()["details"]["path"] == "snapshot[0]"


async def test_too_large_a_batch_gets_413(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    many = [membership(f"m-{i}") for i in range(10_001)]
    answer = await post(hub, json.dumps(batch("casaco", *many)), client)
    assert answer.status_code == 413
    assert answer.json()["error"] == "PAYLOAD_TOO_LARGE"
    huge = await post(
        hub, b'{"site": "casaco", "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}', client
    )
    assert huge.status_code == 413
    assert (await counts(hub))["memberships"] == 0


def event(external_id: str, title: str, starts_at: str = "2026-02-05T17:30:00Z") -> dict[str, Any]:
    return {
        "type": "event",
        "externalId": external_id,
        "op": "upsert",
        "updatedAt": "2026-01-02T09:00:00Z",
        "data": {
            "title": title,
            "startsAt": starts_at,
            "endsAt": "2026-02-05T20:00:00Z",
            "timezone": "Europe/Paris",
            "category": "AFTERWORK",
            "audience": "PUBLIC",
        },
    }


EVENTS = """{ events(site: "casaco", from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z",
  first: 10) {
  nodes { title status } } }"""


async def test_an_event_snapshot_cancels_the_events_it_does_not_carry(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    client = space_client(site.id)
    first = await post(
        hub, batch("casaco", event("e-1", "Casapéro"), event("e-2", "Codev")), client
    )
    assert first.json()["applied"]["created"] == 2, first.text
    again = await post(hub, batch("casaco", event("e-1", "Casapéro"), snapshot=["event"]), client)
    assert again.json()["applied"] == {"created": 0, "updated": 0, "deleted": 1, "unchanged": 1}
    found = {e["title"]: e["status"] for e in (await hub.data(EVENTS))["events"]["nodes"]}
    assert found == {"Casapéro": "CONFIRMED", "Codev": "CANCELLED"}


async def test_an_event_the_calendar_refuses_is_rejected_alone(hub: Hub) -> None:
    site = await make_site(hub.db, "casaco")
    bad = event("e-2", "Codev")
    bad["data"]["category"] = "NOT_A_CATEGORY"
    answer = await post(hub, batch("casaco", event("e-1", "Casapéro"), bad), space_client(site.id))
    body = answer.json()
    assert body["applied"]["created"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]
    assert "category" in body["rejected"][0]["reason"]
