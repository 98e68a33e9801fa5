"""QR codes: a signed token a kiosk verifies offline with the hub's published keys."""

from __future__ import annotations

import uuid

from joserfc import jwt
from joserfc.jwk import KeySet

from federation.access import Role, Viewer
from federation.db import Database
from federation.keys.service import KeyRing
from federation.passes import service
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import check_in, make_pass, make_product, manager_of
from tests.support import Hub

MY_PASSES = """{ myPasses { id remainingCredits status validUntil qrToken qrSvg
  product { name kind priceTiers { name priceCents } issuer { slug } acceptedAt { slug } }
  checkIns { site { slug } at units } } }"""


def holder(person_id: uuid.UUID) -> Viewer:
    return Viewer(person_id=person_id, roles=frozenset({Role.COWORKER}))


async def test_a_token_verifies_with_the_published_jwks(hub: Hub) -> None:
    home = await make_site(hub.db, "casaco")
    person = await make_person(hub.db, home=home)
    issued = await make_pass(hub.db, await make_product(hub.db, home), person.id)
    data = await hub.data(MY_PASSES, viewer=holder(person.id))
    [mine] = data["myPasses"]
    assert mine["product"]["issuer"]["slug"] == "casaco"
    assert mine["qrSvg"].startswith("<svg")
    jwks = (await hub.get("/oauth/jwks.json")).json()
    token = jwt.decode(mine["qrToken"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert token.header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert token.header["typ"] == "pass+jwt"
    assert token.claims["pass"] == str(issued.id)
    assert token.claims["sub"] == str(person.id)
    assert token.claims["ver"] == 1
    assert token.claims["exp"] == int(issued.valid_until.timestamp())


async def test_a_scanned_code_checks_in(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    keys = KeyRing(db)
    token = await service.qr_token(keys, issued)
    outcome = await check_in(db, keys, home, token=token)
    assert outcome.ok


async def test_revocation_invalidates_old_qr_tokens(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    keys = KeyRing(db)
    old_token = await service.qr_token(keys, issued)
    async with db.transaction() as session:
        revoked = await service.revoke_pass(session, manager_of(home), issued.id)
    assert revoked.version == 2
    outcome = await check_in(db, keys, home, token=old_token)
    assert outcome.check_in.code == "PASS_REVOKED"


async def test_a_token_of_an_older_version_is_invalid(db: Database) -> None:
    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    keys = KeyRing(db)
    claims = service.pass_claims(issued) | {"ver": 0}
    forged_version = await keys.sign(claims, typ=service.PASS_TOKEN_TYPE)
    outcome = await check_in(db, keys, home, token=forged_version)
    assert outcome.check_in.code == "INVALID_PASS_TOKEN"


async def test_a_token_signed_by_another_key_is_invalid(db: Database) -> None:
    from joserfc.jwk import ECKey

    home = await make_site(db)
    person = await make_person(db, home=home)
    issued = await make_pass(db, await make_product(db, home), person.id)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"})
    token = jwt.encode(
        {"alg": "ES256", "typ": "pass+jwt", "kid": "stranger"},
        service.pass_claims(issued),
        stranger,
        algorithms=["ES256"],
    )
    outcome = await check_in(db, KeyRing(db), home, token=token)
    assert outcome.check_in.code == "INVALID_PASS_TOKEN"
