"""`federation demo`: the demo network, built from the source articles about real spaces.

Every loader is idempotent: stable keys (slugs, uuid5 ids) and writes that happen only
when something differs, so a second run changes nothing.
"""

from __future__ import annotations

from federation.db import Database
from federation.demo import auth, calendar, directory, passes, usage


async def load_demo(db: Database) -> int:
    """Load (or bring up to date) the whole demo network in one transaction."""
    async with db.transaction() as session:
        site_ids = await directory.load(session)
        await auth.load(session, site_ids)
        await usage.load(session, site_ids)
        await passes.load(session, site_ids)
        await calendar.load(session, site_ids)
    return 0
