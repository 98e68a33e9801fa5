"""Visits a kiosk recorded offline, synced as uses with a pass token: the passes domain
reconciles them (credits, over-use) and the statistics count them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from federation.keys.service import KeyRing
from federation.kit.clock import utcnow
from federation.passes import service as passes
from federation.usage.models import Use, UseSource
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import make_pass, make_product
from tests.federation.sync.support import batch, post, space_client
from tests.support import Hub


async def test_kiosk_visits_with_a_pass_token_are_reconciled_by_the_passes_domain(
    hub: Hub,
) -> None:
    home = await make_site(hub.db, "la-grappe")
    host = await make_site(hub.db, "casaco")
    person = await make_person(hub.db, home=home)
    start = utcnow() - timedelta(days=3)
    product = await make_product(hub.db, home, credits=2)
    issued = await make_pass(hub.db, product, person.id, now=start - timedelta(days=1))
    token = await passes.qr_token(KeyRing(hub.db), issued)

    def visit(external_id: str, days: int, half_days: int = 2) -> dict[str, object]:
        at = start + timedelta(days=days)
        return {
            "type": "usage",
            "externalId": external_id,
            "op": "upsert",
            "updatedAt": at.isoformat(),
            "data": {
                "date": at.date().isoformat(),
                "halfDays": half_days,
                "passToken": token,
                "at": at.isoformat(),
            },
        }

    forged = {**visit("k-4", 0), "data": {**visit("k-4", 0)["data"], "passToken": "nope"}}
    records = [visit("k-1", 0), visit("k-2", 1), visit("k-3", 2), forged]
    answer = await post(hub, batch("casaco", *records), space_client(host.id))
    body = answer.json()
    assert [r["externalId"] for r in body["rejected"]] == ["k-4"]
    assert "refused" in body["rejected"][0]["reason"]
    assert body["applied"]["created"] == 3  # the third is an over-use: kept and flagged
    async with hub.db.reading() as session:
        kiosk = await session.scalar(
            select(func.count()).select_from(Use).where(Use.source == UseSource.KIOSK)
        )
    assert kiosk == 3
