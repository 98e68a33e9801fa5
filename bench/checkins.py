"""Check-in scenarios (issue 4): `checkIn` over distinct passes, and on one hot pass.

Before measuring, the scenario adds what a kiosk needs: a host space of its own with no
desk limit (so that the day's capacity never refuses a visit), a carnet product, and passes
sold by that space with enough credits, one per request for the distinct scenario, and one
hot pass with fewer credits than the run will try to take. The kiosk's token is what the
hub issues to a space's client (client credentials, `checkin:write`, bound to the space).
After the hot run, the database must show zero over-spend: credits taken never exceed the
pass's credits, and `remaining` matches what the check-ins took.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from federation.db import Database

HOST_SLUG = "bench-kiosk"
PRODUCT = "Bench carnet"
# Fewer than a run takes by default: exhaustion under concurrency is part of the test. A run
# given many more (`--hot-credits`) measures accepted check-ins on the hot pass instead.
HOT_CREDITS = 100

CHECK_IN = (
    "mutation($input: CheckInInput!) { checkIn(input: $input) {"
    " ok code pass { remainingCredits } } }"
)


def _now() -> datetime:
    return datetime.now(UTC)


async def prepare_passes(
    url: str, count: int, hot_credits: int = HOT_CREDITS
) -> tuple[int, list[str], str]:
    """The host space's id, `count` distinct pass ids and one hot pass id (all new)."""
    db = Database(url)
    sqlite = db.is_sqlite
    now = _now()

    def stamp(value: datetime) -> Any:
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value

    def ident(value: uuid.UUID) -> Any:
        return value.hex if sqlite else value

    try:
        async with db.transaction() as session:
            host = await session.scalar(
                text("SELECT id FROM sites WHERE slug = :s"), {"s": HOST_SLUG}
            )
            if host is None:
                host = await session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM sites"))
                await session.execute(
                    text(
                        "INSERT INTO sites (id, slug, name, legal_form, description, address,"
                        " postcode, city, region, lat, lon, desks, opening_hours,"
                        " accepts_network_passes, joined_at, name_key, city_key, search_text,"
                        " created_at, updated_at) VALUES (:id, :slug, 'Bench kiosk',"
                        " 'ASSOCIATION', '', '1 rue du Banc', '75011', 'Paris', 'Île-de-France',"
                        " 48.86, 2.38, 0, '[]', true, :joined, 'bench kiosk', 'paris',"
                        " 'bench kiosk', :now, :now)"
                    ),
                    {"id": host, "slug": HOST_SLUG, "joined": date(2020, 1, 1), "now": stamp(now)},
                )
                if not sqlite:
                    await session.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence('sites', 'id'),"
                            " (SELECT max(id) FROM sites))"
                        )
                    )
            product = await session.scalar(
                text("SELECT id FROM pass_products WHERE name = :n"), {"n": PRODUCT}
            )
            if product is None:
                await session.execute(
                    text(
                        "INSERT INTO pass_products (name, kind, issuer_site_id, credits, unit,"
                        " validity_days, network_share_bp, created_at) VALUES (:n, 'CARNET',"
                        " :host, 10, 'DAY', 365, 500, :now)"
                    ),
                    {"n": PRODUCT, "host": host, "now": stamp(now)},
                )
                product = await session.scalar(
                    text("SELECT id FROM pass_products WHERE name = :n"), {"n": PRODUCT}
                )
            holders = list(
                (await session.execute(text("SELECT id FROM people LIMIT 1000"))).scalars()
            )
            ids = [uuid.uuid4() for _ in range(count + 1)]
            rows = [
                {
                    "id": ident(pass_id),
                    "product": product,
                    "holder": holders[i % len(holders)] if holders else None,
                    "credits": hot_credits if i == count else 1_000_000,
                    "host": host,
                    "from": stamp(now - timedelta(days=1)),
                    "until": stamp(now + timedelta(days=365)),
                    "now": stamp(now),
                }
                for i, pass_id in enumerate(ids)
            ]
            await session.execute(
                text(
                    "INSERT INTO passes (id, product_id, holder_id, tier, price_cents, credits,"
                    " remaining, sold_by_site_id, network_share_bp, valid_from, valid_until,"
                    " version, created_at) VALUES (:id, :product, :holder, 'standard', 15000,"
                    " :credits, :credits, :host, 500, :from, :until, 1, :now)"
                ),
                rows,
            )
        return int(host), [str(i) for i in ids[:count]], str(ids[count])
    finally:
        await db.dispose()


async def over_spend(url: str, pass_id: str) -> str:
    """One line on the hot pass: what it had, what check-ins took, and the verdict."""
    db = Database(url)
    key: Any = uuid.UUID(pass_id).hex if db.is_sqlite else uuid.UUID(pass_id)
    try:
        async with db.reading() as session:
            credits, remaining = (
                await session.execute(
                    text("SELECT credits, remaining FROM passes WHERE id = :id"), {"id": key}
                )
            ).one()
            taken, accepted = (
                await session.execute(
                    text(
                        "SELECT coalesce(sum(debited), 0), count(*) FROM pass_check_ins"
                        " WHERE pass_id = :id AND ok"
                    ),
                    {"id": key},
                )
            ).one()
    finally:
        await db.dispose()
    fine = taken <= credits and remaining >= 0 and credits - remaining == taken
    verdict = "zero over-spend" if fine else "OVER-SPENT"
    return (
        f"hot pass: {credits} credits, {accepted} accepted check-ins took {taken},"
        f" {remaining} remaining: {verdict}"
    )


def kiosk_claims(issuer: str, host: int) -> dict[str, Any]:
    from federation.auth.tokens import access_token_claims

    return access_token_claims(
        issuer=issuer,
        client_id="bench-kiosk",
        scope="checkin:write",
        now=int(time.time()),
        client_site_id=host,
    )
