"""Running a network without the demo script: products, programmes, which passes a space
takes, and new QR codes. Bad input is refused with a code and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from federation.access import Role, Viewer
from federation.db import Database
from federation.directory.models import Site
from federation.keys.service import KeyRing
from federation.passes import service
from federation.passes.models import (
    Pass,
    PriceTier,
    Product,
    Programme,
    ProgrammeSite,
    SiteProductLimit,
)
from tests.factories import make_person, make_site
from tests.federation.passes.helpers import (
    check_in,
    coordinator,
    make_pass,
    make_product,
    make_programme,
    manager_of,
)
from tests.support import Hub

CREATE_PRODUCT = """mutation($input: CreatePassProductInput!) {
  createPassProduct(input: $input) {
    id name kind credits unit validityDays networkSharePercent visitValueCents
    priceTiers { name priceCents } issuer { slug } programme { name } acceptedAt { slug } } }"""
CREATE_PROGRAMME = """mutation($input: CreateProgrammeInput!) {
  createProgramme(input: $input) {
    id slug name funders coveragePercent budgetCents places eligibility startsOn endsOn
    sites { slug } } }"""
SET_ACCEPTED = """mutation($site: String!, $accepting: Boolean!, $productIds: [ID!]) {
  setAcceptedPassProducts(site: $site, accepting: $accepting, productIds: $productIds) {
    accepting site { slug } products { name } } }"""
REISSUE = """mutation($id: UUID!) { reissuePassCode(id: $id) { id qrToken } }"""


async def _count(db: Database, table: type) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def _carnet(**overrides: Any) -> dict[str, Any]:
    return {
        "input": {
            "name": "Carnet 10 jours",
            "kind": "CARNET",
            "credits": 10,
            "unit": "DAY",
            "validityDays": 365,
            "priceTiers": [
                {"name": "solidaire", "priceCents": 12000},
                {"name": "standard", "priceCents": 15000},
            ],
            "issuer": "casaco",
        }
        | overrides
    }


def _programme(**overrides: Any) -> dict[str, Any]:
    return {
        "input": {
            "name": "Lille Création",
            "funders": ["Métropole Européenne de Lille", "DIRECCTE"],
            "coveragePercent": 100,
            "budgetCents": 450_000,
            "places": 30,
            "eligibility": "Demandeurs d'emploi créant leur activité",
            "startsOn": "2026-01-01",
            "endsOn": "2026-06-30",
            "sites": ["casaco"],
        }
        | overrides
    }


# --- createPassProduct --------------------------------------------------------------------


async def test_a_manager_defines_a_carnet_their_space_sells(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_site(hub.db, "mutualab")
    data = await hub.data(CREATE_PRODUCT, _carnet(), viewer=manager_of(casaco))
    product = data["createPassProduct"]
    assert (product["kind"], product["credits"], product["unit"]) == ("CARNET", 10, "DAY")
    assert product["networkSharePercent"] == 5.0
    assert product["priceTiers"] == [
        {"name": "solidaire", "priceCents": 12000},
        {"name": "standard", "priceCents": 15000},
    ]
    assert product["issuer"] == {"slug": "casaco"}
    assert {s["slug"] for s in product["acceptedAt"]} == {"casaco", "mutualab"}


async def test_the_product_defined_sells_passes_in_its_tiers(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    person = await make_person(hub.db, home=casaco)
    data = await hub.data(CREATE_PRODUCT, _carnet(), viewer=manager_of(casaco))
    issued = await hub.data(
        "mutation($input: IssuePassInput!) { issuePass(input: $input) { priceCents } }",
        {
            "input": {
                "productId": data["createPassProduct"]["id"],
                "holderId": str(person.id),
                "tier": "solidaire",
            }
        },
        viewer=manager_of(casaco),
    )
    assert issued["issuePass"]["priceCents"] == 12000


async def test_a_membership_and_its_visit_value_are_defined(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    given = _carnet(
        name="Adhésion résident",
        kind="MEMBERSHIP",
        credits=2,
        validityDays=31,
        priceTiers=[{"name": "standard", "priceCents": 25000}],
        visitValueCents=1500,
        networkSharePercent=2.5,
    )
    product = (await hub.data(CREATE_PRODUCT, given, viewer=coordinator()))["createPassProduct"]
    assert (product["kind"], product["visitValueCents"], product["networkSharePercent"]) == (
        "MEMBERSHIP",
        1500,
        2.5,
    )
    assert product["issuer"] == {"slug": casaco.slug}


async def test_a_coordinator_defines_a_funded_product_of_a_programme(hub: Hub) -> None:
    lille = await make_site(hub.db, "lille")
    programme = await make_programme(hub.db, [lille])
    given = _carnet(
        name="Pass Lille Création",
        kind="FUNDED",
        issuer=None,
        programmeId=str(programme.id),
        priceTiers=[{"name": "financé", "priceCents": 15000}],
    )
    product = (await hub.data(CREATE_PRODUCT, given, viewer=coordinator()))["createPassProduct"]
    assert product["programme"] == {"name": programme.name}
    assert product["issuer"] is None
    assert [s["slug"] for s in product["acceptedAt"]] == ["lille"]


async def test_only_coordinators_define_funded_products(hub: Hub) -> None:
    lille = await make_site(hub.db, "casaco")
    programme = await make_programme(hub.db, [lille])
    given = _carnet(kind="FUNDED", programmeId=str(programme.id))
    assert await hub.error_codes(CREATE_PRODUCT, given, viewer=manager_of(lille)) == ["FORBIDDEN"]
    assert await _count(hub.db, Product) == 0


async def test_a_manager_of_another_space_cannot_define_its_products(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    elsewhere = await make_site(hub.db, "mutualab")
    codes = await hub.error_codes(CREATE_PRODUCT, _carnet(), viewer=manager_of(elsewhere))
    assert codes == ["FORBIDDEN"]


async def test_bad_products_are_refused_and_nothing_is_written(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await make_programme(hub.db, [casaco])
    bad = [
        (_carnet(credits=0), "BAD_USER_INPUT"),
        (_carnet(credits=-5), "BAD_USER_INPUT"),
        (_carnet(validityDays=0), "BAD_USER_INPUT"),
        (_carnet(name="  "), "BAD_USER_INPUT"),
        (_carnet(priceTiers=[]), "BAD_USER_INPUT"),
        (_carnet(priceTiers=[{"name": "standard", "priceCents": -1}]), "BAD_USER_INPUT"),
        (
            _carnet(
                priceTiers=[
                    {"name": "standard", "priceCents": 1},
                    {"name": "standard", "priceCents": 2},
                ]
            ),
            "BAD_USER_INPUT",
        ),
        (_carnet(networkSharePercent=120), "BAD_USER_INPUT"),
        (_carnet(kind="MEMBERSHIP"), "BAD_USER_INPUT"),  # no visit value
        (_carnet(issuer=None), "BAD_USER_INPUT"),  # a carnet is sold by a space
        (_carnet(issuer="nowhere"), "NOT_FOUND"),
        (_carnet(kind="FUNDED", issuer=None), "BAD_USER_INPUT"),  # no programme
        (_carnet(kind="FUNDED", issuer=None, programmeId="999999"), "NOT_FOUND"),
        (_carnet(kind="FUNDED", issuer=None, programmeId="nope"), "NOT_FOUND"),
        (_carnet(programmeId="1"), "BAD_USER_INPUT"),  # a carnet names no programme
    ]
    for given, code in bad:
        got = await hub.error_codes(CREATE_PRODUCT, given, viewer=coordinator())
        assert got == [code], given
    assert (await _count(hub.db, Product), await _count(hub.db, PriceTier)) == (0, 0)


async def test_a_product_name_is_taken_once(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    await hub.data(CREATE_PRODUCT, _carnet(), viewer=manager_of(casaco))
    assert await hub.error_codes(CREATE_PRODUCT, _carnet(), viewer=manager_of(casaco)) == [
        "CONFLICT"
    ]
    assert await _count(hub.db, Product) == 1


# --- createProgramme ----------------------------------------------------------------------


async def test_a_coordinator_starts_a_programme(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    data = await hub.data(CREATE_PROGRAMME, _programme(), viewer=coordinator())
    programme = data["createProgramme"]
    assert programme["slug"] == "lille-creation"
    assert programme["funders"] == ["Métropole Européenne de Lille", "DIRECCTE"]
    assert (programme["budgetCents"], programme["places"], programme["endsOn"]) == (
        450_000,
        30,
        "2026-06-30",
    )
    assert programme["sites"] == [{"slug": "casaco"}]


async def test_bad_programmes_are_refused_and_nothing_is_written(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    bad = [
        _programme(coveragePercent=101),
        _programme(budgetCents=-1),
        _programme(places=0),
        _programme(endsOn="2025-12-31"),
        _programme(name=""),
        _programme(slug="Pas un slug"),
        _programme(funders=[""]),
        _programme(sites=["casaco", "nowhere"]),
    ]
    for given in bad:
        got = await hub.error_codes(CREATE_PROGRAMME, given, viewer=coordinator())
        assert got == ["BAD_USER_INPUT"], given
    assert (await _count(hub.db, Programme), await _count(hub.db, ProgrammeSite)) == (0, 0)


async def test_a_programme_slug_is_taken_once(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    await hub.data(CREATE_PROGRAMME, _programme(), viewer=coordinator())
    codes = await hub.error_codes(CREATE_PROGRAMME, _programme(), viewer=coordinator())
    assert codes == ["CONFLICT"]


# --- setAcceptedPassProducts --------------------------------------------------------------


async def _network(db: Database) -> tuple[Site, Site, Product, Product, Pass]:
    """Casaco sells two carnets; a person holds a pass of the first; Mutualab is a host."""
    casaco = await make_site(db, "casaco")
    mutualab = await make_site(db, "mutualab")
    first = await make_product(db, casaco)
    second = await make_product(db, casaco)
    person = await make_person(db, home=casaco)
    return casaco, mutualab, first, second, await make_pass(db, first, person.id)


async def test_a_space_declining_network_passes_refuses_their_check_ins(hub: Hub) -> None:
    casaco, mutualab, _, _, issued = await _network(hub.db)
    given = {"site": "mutualab", "accepting": False}
    data = await hub.data(SET_ACCEPTED, given, viewer=manager_of(mutualab))
    assert data["setAcceptedPassProducts"] == {
        "accepting": False,
        "site": {"slug": "mutualab"},
        "products": [],
    }
    keys = KeyRing(hub.db)
    refused = await check_in(hub.db, keys, mutualab, pass_id=issued.id)
    assert refused.check_in.code == "SITE_NOT_ACCEPTING"
    assert (await check_in(hub.db, keys, casaco, pass_id=issued.id)).ok  # the seller still does


async def test_a_space_limited_to_some_products_refuses_the_others(hub: Hub) -> None:
    _, mutualab, _, second, issued = await _network(hub.db)
    given = {"site": "mutualab", "accepting": True, "productIds": [str(second.id)]}
    data = await hub.data(SET_ACCEPTED, given, viewer=manager_of(mutualab))
    assert data["setAcceptedPassProducts"]["products"] == [{"name": second.name}]
    keys = KeyRing(hub.db)
    refused = await check_in(hub.db, keys, mutualab, pass_id=issued.id)
    assert refused.check_in.code == "SITE_NOT_ACCEPTING"
    given = {"site": "mutualab", "accepting": True, "productIds": None}  # every product again
    await hub.data(SET_ACCEPTED, given, viewer=manager_of(mutualab))
    assert (await check_in(hub.db, keys, mutualab, pass_id=issued.id)).ok
    assert await _count(hub.db, SiteProductLimit) == 0


async def test_unknown_products_to_accept_are_refused_and_nothing_changes(hub: Hub) -> None:
    _, mutualab, first, _, _ = await _network(hub.db)
    for ids in (["999999"], ["nope"], [str(first.id), "999999"]):
        given = {"site": "mutualab", "accepting": False, "productIds": ids}
        codes = await hub.error_codes(SET_ACCEPTED, given, viewer=manager_of(mutualab))
        assert codes == ["NOT_FOUND"]
    async with hub.db.reading() as session:
        assert await session.scalar(
            select(Site.accepts_network_passes).where(Site.slug == "mutualab")
        )
    assert await _count(hub.db, SiteProductLimit) == 0


# --- reissuePassCode ----------------------------------------------------------------------


async def test_a_reissued_code_makes_the_old_one_invalid(hub: Hub) -> None:
    casaco, mutualab, _, _, issued = await _network(hub.db)
    keys = KeyRing(hub.db)
    old = await service.qr_token(keys, issued)
    holder = Viewer(person_id=issued.holder_id, roles=frozenset({Role.COWORKER}))
    data = await hub.data(REISSUE, {"id": str(issued.id)}, viewer=holder)
    new = data["reissuePassCode"]["qrToken"]
    assert new != old
    refused = await check_in(hub.db, keys, mutualab, token=old)
    assert refused.check_in.code == "INVALID_PASS_TOKEN"
    assert (await check_in(hub.db, keys, mutualab, token=new)).ok
    # The seller's manager may too; each reissue retires the code before it.
    again = await hub.data(REISSUE, {"id": str(issued.id)}, viewer=manager_of(casaco))
    refused = await check_in(hub.db, keys, mutualab, token=new)
    assert refused.check_in.code == "INVALID_PASS_TOKEN"
    assert (await check_in(hub.db, keys, mutualab, token=again["reissuePassCode"]["qrToken"])).ok


async def test_only_the_holder_or_the_seller_reissues_a_code(hub: Hub) -> None:
    _, mutualab, _, _, issued = await _network(hub.db)
    stranger = Viewer(person_id=uuid.uuid4(), roles=frozenset({Role.COWORKER}))
    for viewer in (stranger, manager_of(mutualab), coordinator()):
        codes = await hub.error_codes(REISSUE, {"id": str(issued.id)}, viewer=viewer)
        assert codes == ["FORBIDDEN"]
    async with hub.db.reading() as session:
        assert await session.scalar(select(Pass.version).where(Pass.id == issued.id)) == 1


async def test_an_unknown_or_revoked_pass_gets_no_new_code(hub: Hub) -> None:
    casaco, _, _, _, issued = await _network(hub.db)
    manager = manager_of(casaco)
    codes = await hub.error_codes(REISSUE, {"id": str(uuid.uuid4())}, viewer=manager)
    assert codes == ["NOT_FOUND"]
    await hub.data(
        "mutation($id: UUID!) { revokePass(id: $id) { id } }",
        {"id": str(issued.id)},
        viewer=manager,
    )
    assert await hub.error_codes(REISSUE, {"id": str(issued.id)}, viewer=manager) == [
        "PASS_REVOKED"
    ]
