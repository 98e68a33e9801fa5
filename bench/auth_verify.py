"""Bearer tokens verified into Viewers per second, on one core (issue 3's target: 5,000/s).

    .venv/bin/python bench/auth_verify.py [--seconds 3]

Measures three paths of BearerAuthenticator: distinct tokens (every one a full ES256
verification and claims check), one token again and again (served by the LRU of verified
tokens), and a realistic mix where each token is sent 20 times (a client's requests
during its token's life). Uses a throwaway SQLite file only to create the signing key.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from federation.access import Role
from federation.auth.bearer import BearerAuthenticator
from federation.auth.tokens import Subject, access_token_claims
from federation.db import Database
from federation.keys.service import KeyRing
from federation.migrations import upgrade

ISSUER = "https://hub.example.org"


async def tokens(keys: KeyRing, count: int) -> list[str]:
    now = int(time.time())
    subject = Subject(uuid.uuid4(), frozenset({Role.MANAGER}), frozenset({1, 2}), 1)
    return [
        await keys.sign(
            access_token_claims(
                issuer=ISSUER, client_id="tl_app", scope="profile passes", now=now, subject=subject
            ),
            typ="at+jwt",
        )
        for _ in range(count)
    ]


async def rate(authenticator: BearerAuthenticator, batch: list[str], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for token in batch:
            await authenticator.viewer(token)
        done += len(batch)
    return done / (time.perf_counter() - start)


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        keys = KeyRing(db)
        distinct = await tokens(keys, 4000)
        uncached = BearerAuthenticator(keys, ISSUER, cache_size=1)
        print(
            f"distinct tokens (full verification): {await rate(uncached, distinct, seconds):8.0f}/s"
        )
        print(
            f"one token again (LRU hit):           "
            f"{await rate(BearerAuthenticator(keys, ISSUER), distinct[:1], seconds):8.0f}/s"
        )
        mixed = [token for token in distinct[:200] for _ in range(20)]
        print(
            f"each token 20 times (realistic):     "
            f"{await rate(BearerAuthenticator(keys, ISSUER), mixed, seconds):8.0f}/s"
        )
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(parser.parse_args().seconds))
