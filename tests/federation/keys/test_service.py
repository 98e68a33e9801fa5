"""The key ring: tokens it signs verify with the published keys alone, and nothing else does."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from federation.db import Database
from federation.keys.service import InvalidToken, KeyRing, rotate_signing_key


async def test_a_signed_token_verifies_with_the_published_jwks_alone(db: Database) -> None:
    ring = KeyRing(db)
    token = await ring.sign({"sub": "pass-1", "v": 1}, typ="pass+jwt")
    published = KeySet.import_key_set(await ring.jwks())
    decoded = jwt.decode(token, published, algorithms=["ES256"])
    assert decoded.claims == {"sub": "pass-1", "v": 1}
    assert decoded.header["kid"] == published.keys[0].kid
    assert all("d" not in key for key in (await ring.jwks())["keys"])  # no private part


async def test_verify_returns_the_claims_of_our_own_tokens(db: Database) -> None:
    ring = KeyRing(db)
    token = await ring.sign({"sub": "x"}, typ="pass+jwt")
    assert await ring.verify(token, typ="pass+jwt") == {"sub": "x"}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "forge",
    [
        lambda good: "not-a-token",
        lambda good: good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),  # tampered
        lambda good: f"{_b64({'alg': 'none', 'typ': 'pass+jwt'})}.{_b64({'sub': 'x'})}.",
        lambda good: f"{_b64({'alg': 'HS256', 'typ': 'pass+jwt'})}.{_b64({'sub': 'x'})}.c2ln",
        lambda good: jwt.encode(
            {"alg": "ES256", "typ": "pass+jwt", "kid": "elsewhere"},
            {"sub": "x"},
            ECKey.generate_key("P-256", parameters={"kid": "elsewhere"}),
        ),
    ],
    ids=["garbage", "tampered", "alg-none", "hmac", "foreign-key"],
)
async def test_anything_we_did_not_sign_is_an_invalid_token(db: Database, forge: object) -> None:
    ring = KeyRing(db)
    good = await ring.sign({"sub": "x"}, typ="pass+jwt")
    with pytest.raises(InvalidToken):
        await ring.verify(forge(good), typ="pass+jwt")  # type: ignore[operator]


async def test_a_token_of_another_type_is_refused(db: Database) -> None:
    ring = KeyRing(db)
    token = await ring.sign({"sub": "x"}, typ="at+jwt")
    with pytest.raises(InvalidToken, match="expected a pass"):
        await ring.verify(token, typ="pass+jwt")


async def test_after_rotation_the_new_key_signs_and_old_tokens_still_verify(db: Database) -> None:
    ring = KeyRing(db)
    old_token = await ring.sign({"sub": "old"}, typ="pass+jwt")
    async with db.transaction() as session:
        new_key = await rotate_signing_key(session)
    # Another process rotated: this ring learns it at its next refresh.
    fresh = KeyRing(db)
    new_token = await fresh.sign({"sub": "new"}, typ="pass+jwt")
    assert (
        jwt.decode(new_token, KeySet.import_key_set(await fresh.jwks())).header["kid"]
        == new_key.kid
    )
    assert await fresh.verify(old_token, typ="pass+jwt") == {"sub": "old"}
    assert len((await fresh.jwks())["keys"]) == 2


async def test_a_ring_looks_again_when_a_token_names_a_key_it_has_not_seen(db: Database) -> None:
    stale = KeyRing(db, refresh_every=3600)
    await stale.jwks()
    assert stale._loaded is not None
    stale._loaded = dataclasses.replace(stale._loaded, at=0.0)  # as if loaded long ago
    async with db.transaction() as session:
        await rotate_signing_key(session)
    token = await KeyRing(db).sign({"sub": "new"}, typ="pass+jwt")
    assert await stale.verify(token, typ="pass+jwt") == {"sub": "new"}
