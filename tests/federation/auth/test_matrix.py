"""Who may do what: every mutation and every protected field × every kind of viewer.

The schema is introspected: a mutation, or a field carrying a permission (`allow(...)`),
that has no entry in MATRIX fails `test_every_mutation_and_protected_field_is_in_the_matrix`.
A domain adding one adds its Case here, saying what each viewer gets:
OK, UNAUTHENTICATED or FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from strawberry.permission import PermissionExtension
from strawberry.types.base import StrawberryObjectDefinition

from federation.access import Role, Viewer
from federation.auth.models import GrantKind
from federation.directory.models import Site
from federation.schema import build_schema
from tests.factories import make_site
from tests.federation.auth.support import MadeAccount, make_account, make_client
from tests.support import Hub

OK, UNAUTHENTICATED, FORBIDDEN = "OK", "UNAUTHENTICATED", "FORBIDDEN"
KINDS = (
    "anonymous",
    "coworker",
    "manager_here",
    "manager_elsewhere",
    "coordinator",
    "space_client",
)


@dataclass
class World:
    """Two spaces; a person of each kind; the software of the first space."""

    here: Site
    elsewhere: Site
    accounts: dict[str, MadeAccount]
    viewers: dict[str, Viewer]
    space_client_id: str
    extra: dict[str, Any] = field(default_factory=dict)


async def make_world(hub: Hub) -> World:
    here = await make_site(hub.db, "here")
    elsewhere = await make_site(hub.db, "elsewhere")
    accounts = {
        "coworker": await make_account(hub.db, role=Role.COWORKER, sites=["here"]),
        "manager_here": await make_account(hub.db, role=Role.MANAGER, sites=["here"]),
        "manager_elsewhere": await make_account(hub.db, role=Role.MANAGER, sites=["elsewhere"]),
        "coordinator": await make_account(hub.db, role=Role.COORDINATOR),
    }
    client = await make_client(
        hub.db,
        grant=GrantKind.CLIENT_CREDENTIALS,
        site="here",
        scope="sync:write checkin:write stats:read",
    )
    # As their tokens would make them: first-party people have every scope their roles use.
    viewers = {
        "anonymous": Viewer(),
        "coworker": Viewer(
            person_id=accounts["coworker"].person_id,
            home_site_id=here.id,
            roles=frozenset({Role.COWORKER}),
        ),
        "manager_here": Viewer(
            person_id=accounts["manager_here"].person_id,
            home_site_id=here.id,
            roles=frozenset({Role.MANAGER}),
            managed_site_ids=frozenset({here.id}),
        ),
        "manager_elsewhere": Viewer(
            person_id=accounts["manager_elsewhere"].person_id,
            home_site_id=elsewhere.id,
            roles=frozenset({Role.MANAGER}),
            managed_site_ids=frozenset({elsewhere.id}),
        ),
        "coordinator": Viewer(
            person_id=accounts["coordinator"].person_id, roles=frozenset({Role.COORDINATOR})
        ),
        "space_client": Viewer(
            client_id=client.client_id,
            client_site_id=here.id,
            scopes=frozenset({"sync:write", "checkin:write", "stats:read"}),
        ),
    }
    return World(here, elsewhere, accounts, viewers, client.client_id)


Variables = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    operation: str
    expect: dict[str, str]
    variables: Variables | None = None
    setup: Callable[[Hub, World], Awaitable[None]] | None = None


def people_only(**overrides: str) -> dict[str, str]:
    """Any signed-in person may; nobody else."""
    expect = dict.fromkeys(KINDS, OK)
    expect.update(anonymous=UNAUTHENTICATED, space_client=FORBIDDEN, **overrides)
    return expect


def own_email(world: World, kind: str) -> dict[str, Any]:
    account = world.accounts.get(kind)
    return {"email": account.email if account else "nobody@example.org"}


MATRIX: dict[str, Case] = {
    "Query.me": Case("{ me { id } }", people_only()),
    "Query.exportMyData": Case("{ exportMyData }", people_only()),
    "Mutation.updateMyProfile": Case(
        'mutation { updateMyProfile(input: {bio: "Bonjour"}) { bio } }', people_only()
    ),
    "Mutation.deleteMyAccount": Case(
        "mutation($email: String!) { deleteMyAccount(confirmEmail: $email) }",
        people_only(),
        variables=own_email,
    ),
    "Query.syncRuns": Case(
        '{ syncRuns(site: "here") { totalCount } }',
        {
            "anonymous": UNAUTHENTICATED,
            "coworker": FORBIDDEN,
            "manager_here": OK,
            "manager_elsewhere": FORBIDDEN,
            "coordinator": OK,
            "space_client": FORBIDDEN,
        },
    ),
}


# --- passes -----------------------------------------------------------------------------


async def _pass_world(hub: Hub, world: World) -> None:
    """A carnet sold by `here`, and a pass of it held by the coworker."""
    from federation.passes import service as passes

    async with hub.db.transaction() as session:
        product = await passes.create_product(
            session,
            passes.ProductData(
                name="Carnet 10 jours",
                kind=passes.ProductKind.CARNET,
                credits=10,
                unit=passes.CreditUnit.DAY,
                validity_days=365,
                tiers=[passes.TierLine("standard", 15000)],
                issuer_site_id=world.here.id,
            ),
        )
        seller = Viewer(
            person_id=world.accounts["manager_here"].person_id,
            roles=frozenset({Role.MANAGER}),
            managed_site_ids=frozenset({world.here.id}),
        )
        issued = await passes.issue_pass(
            session,
            seller,
            product_id=product.id,
            holder_id=world.accounts["coworker"].person_id,
            tier="standard",
        )
    world.extra.update(product_id=str(product.id), pass_id=str(issued.id))


def _issue(world: World, kind: str) -> dict[str, Any]:
    return {
        "input": {
            "productId": world.extra["product_id"],
            "holderId": str(world.accounts["coworker"].person_id),
            "tier": "standard",
        }
    }


def _check_in(world: World, kind: str) -> dict[str, Any]:
    return {
        "input": {
            "passId": world.extra["pass_id"],
            "site": "here",
            "kind": "HALF_DAY",
            "idempotencyKey": f"matrix-{kind}",
        }
    }


def _pass_id(world: World, kind: str) -> dict[str, Any]:
    return {"id": world.extra["pass_id"]}


def _new_product(world: World, kind: str) -> dict[str, Any]:
    return {
        "input": {
            "name": f"Carnet {kind}",
            "kind": "CARNET",
            "credits": 10,
            "unit": "DAY",
            "validityDays": 365,
            "priceTiers": [{"name": "standard", "priceCents": 15000}],
            "issuer": "here",
        }
    }


def _new_programme(world: World, kind: str) -> dict[str, Any]:
    return {
        "input": {
            "name": f"Programme {kind}",
            "funders": ["Région"],
            "coveragePercent": 100,
            "budgetCents": 100_000,
            "startsOn": "2026-01-01",
            "endsOn": "2026-06-30",
            "sites": ["here"],
        }
    }


MANAGERS_HERE = {
    "anonymous": UNAUTHENTICATED,
    "coworker": FORBIDDEN,
    "manager_here": OK,
    "manager_elsewhere": FORBIDDEN,
    "coordinator": OK,
    "space_client": FORBIDDEN,
}

MATRIX |= {
    "Query.myPasses": Case("{ myPasses { id qrToken } }", people_only()),
    "Query.passOverUses": Case(
        "{ passOverUses { id } }", people_only(coworker=FORBIDDEN, manager_elsewhere=OK)
    ),
    "Query.failedCheckIns": Case('{ failedCheckIns(site: "here") { id } }', MANAGERS_HERE),
    "Query.settlement": Case(
        '{ settlement(month: "2026-01") { lines { amountCents } } }',
        {
            "anonymous": UNAUTHENTICATED,
            "coworker": FORBIDDEN,
            "manager_here": OK,
            "manager_elsewhere": OK,
            "coordinator": OK,
            "space_client": OK,
        },
    ),
    "Mutation.issuePass": Case(
        "mutation($input: IssuePassInput!) { issuePass(input: $input) { id } }",
        {**MANAGERS_HERE, "coordinator": FORBIDDEN},
        variables=_issue,
        setup=_pass_world,
    ),
    "Mutation.revokePass": Case(
        "mutation($id: UUID!) { revokePass(id: $id) { id } }",
        MANAGERS_HERE,
        variables=_pass_id,
        setup=_pass_world,
    ),
    "Mutation.createPassProduct": Case(
        "mutation($input: CreatePassProductInput!) { createPassProduct(input: $input) { id } }",
        MANAGERS_HERE,
        variables=_new_product,
    ),
    "Mutation.createProgramme": Case(
        "mutation($input: CreateProgrammeInput!) { createProgramme(input: $input) { id } }",
        {**dict.fromkeys(KINDS, FORBIDDEN), "anonymous": UNAUTHENTICATED, "coordinator": OK},
        variables=_new_programme,
    ),
    "Mutation.setAcceptedPassProducts": Case(
        'mutation { setAcceptedPassProducts(site: "here", accepting: true) { accepting } }',
        {**MANAGERS_HERE, "coordinator": FORBIDDEN},
    ),
    "Mutation.reissuePassCode": Case(
        "mutation($id: UUID!) { reissuePassCode(id: $id) { id } }",
        {**MANAGERS_HERE, "coworker": OK, "coordinator": FORBIDDEN},
        variables=_pass_id,
        setup=_pass_world,
    ),
    "Mutation.checkIn": Case(
        "mutation($input: CheckInInput!) { checkIn(input: $input) { ok code } }",
        {**MANAGERS_HERE, "coordinator": FORBIDDEN, "space_client": OK},
        variables=_check_in,
        setup=_pass_world,
    ),
}


def managers_and_coordinators() -> dict[str, str]:
    """A manager of `here` or a coordinator may; other signed-in people may not."""
    return people_only(coworker=FORBIDDEN, manager_elsewhere=FORBIDDEN)


async def an_event_here(hub: Hub, world: World) -> None:
    from tests.federation.calendar.support import make_event

    occurrence, _ = await make_event(hub.db, world.here, capacity=10)
    world.extra["event"] = occurrence


def the_event(world: World, kind: str) -> dict[str, Any]:
    return {"id": world.extra["event"]}


async def registered_everyone(hub: Hub, world: World) -> None:
    from federation.calendar import service

    await an_event_here(hub, world)
    async with hub.db.transaction() as session:
        for account in world.accounts.values():
            await service.register_person(session, account.person_id, int(world.extra["event"]))


_NEW_EVENT = (
    'mutation { createEvent(input: {site: "here", title: "Atelier", category: WORKSHOP, '
    'startsAt: "2030-01-08T18:00:00+01:00", endsAt: "2030-01-08T20:00:00+01:00"}) { id } }'
)

MATRIX.update(
    {
        "Mutation.createEvent": Case(_NEW_EVENT, managers_and_coordinators()),
        "Mutation.updateEvent": Case(
            'mutation($id: ID!) { updateEvent(id: $id, input: {title: "Nouveau"}) { id } }',
            managers_and_coordinators(),
            variables=the_event,
            setup=an_event_here,
        ),
        "Mutation.cancelEvent": Case(
            "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
            managers_and_coordinators(),
            variables=the_event,
            setup=an_event_here,
        ),
        "Mutation.registerForEvent": Case(
            "mutation($id: ID!) { registerForEvent(eventId: $id) { status } }",
            people_only(),
            variables=the_event,
            setup=an_event_here,
        ),
        "Mutation.cancelRegistration": Case(
            "mutation($id: ID!) { cancelRegistration(eventId: $id) { status } }",
            people_only(),
            variables=the_event,
            setup=registered_everyone,
        ),
        "Mutation.resetMyCalendarFeed": Case(
            "mutation { resetMyCalendarFeed { url } }", people_only()
        ),
    }
)


def protected_operations() -> set[str]:
    """Every mutation, and every field of every type that carries a permission."""
    schema = build_schema()
    names = schema.config.name_converter
    found: set[str] = set()
    for type_name in schema._schema.type_map:
        definition = schema.get_type_by_name(type_name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for strawberry_field in definition.fields:
            guarded = any(isinstance(e, PermissionExtension) for e in strawberry_field.extensions)
            if type_name == "Mutation" or guarded:
                found.add(f"{type_name}.{names.get_graphql_name(strawberry_field)}")
    return found


def test_every_mutation_and_protected_field_is_in_the_matrix() -> None:
    missing = sorted(protected_operations() - MATRIX.keys())
    assert not missing, f"add these to the authorization MATRIX: {missing}"
    assert all(set(case.expect) == set(KINDS) for case in MATRIX.values())


@pytest.mark.parametrize("name", sorted(MATRIX))
async def test_each_viewer_gets_what_the_matrix_says(hub: Hub, name: str) -> None:
    case = MATRIX[name]
    world = await make_world(hub)
    if case.setup is not None:
        await case.setup(hub, world)
    got: dict[str, str] = {}
    for kind in KINDS:
        variables = case.variables(world, kind) if case.variables else {}
        body = await hub.graphql(case.operation, variables, viewer=world.viewers[kind])
        errors = body.get("errors") or []
        got[kind] = errors[0]["extensions"]["code"] if errors else OK
    assert got == case.expect
