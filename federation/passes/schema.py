"""Pass queries and mutations: thin resolvers, arguments -> one service call -> types."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from federation.directory.loaders import sites_by_slug
from federation.errors import NotFound
from federation.graphql.context import Info
from federation.graphql.permissions import (
    Authenticated,
    Coordinator,
    ManagesSite,
    SignedIn,
    allow,
)
from federation.passes import service
from federation.passes.types import (
    CheckInInput,
    CheckInResult,
    CreatePassProductInput,
    CreateProgrammeInput,
    IssuePassInput,
    Pass,
    PassAcceptance,
    PassCheckIn,
    PassProduct,
    Programme,
    Settlement,
)


async def _site_id(info: Info, slug: str) -> int | None:
    row = await info.context.loader(sites_by_slug).load(slug)
    return row.id if row is not None else None


async def _site_of_slug_arg(source: Any, info: Info, args: dict[str, Any]) -> int | None:
    return await _site_id(info, str(args.get("site", "")))


def _product_id(value: str, argument: str = "productId") -> int:
    try:
        return int(value)
    except ValueError:
        raise NotFound("no such pass product", argument=argument) from None


def _programme_id(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise NotFound("no such programme", argument="programmeId") from None


async def _product_data(info: Info, given: CreatePassProductInput) -> service.ProductData:
    issuer = None
    if given.issuer is not None:
        issuer = await _site_id(info, given.issuer)
        if issuer is None:
            raise NotFound("no such space", argument="issuer")
    return service.ProductData(
        name=given.name,
        kind=given.kind,
        credits=given.credits,
        unit=given.unit,
        validity_days=given.validity_days,
        tiers=[service.TierLine(t.name, t.price_cents) for t in given.price_tiers],
        issuer_site_id=issuer,
        programme_id=_programme_id(given.programme_id),
        network_share_bp=round(given.network_share_percent * 100),
        visit_value_cents=given.visit_value_cents,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Every pass product of the network, with where it works.")
    async def pass_products(self, info: Info) -> list[PassProduct]:
        async with info.context.reading() as session:
            rows = await service.list_products(session)
        return [PassProduct.from_model(row) for row in rows]

    @strawberry.field(
        description="Your passes, newest first, with their QR codes. Needs the `passes` scope.",
        extensions=[allow(SignedIn(scope="passes"))],
    )
    async def my_passes(self, info: Info) -> list[Pass]:
        person_id = info.context.viewer.require_person()
        async with info.context.reading() as session:
            rows = await service.my_passes(session, person_id)
        return [Pass.from_model(row) for row in rows]

    @strawberry.field(
        description="Refused check-ins at a space, newest first (its managers and coordinators).",
        extensions=[allow(ManagesSite(_site_of_slug_arg))],
    )
    async def failed_check_ins(self, info: Info, site: str) -> list[PassCheckIn]:
        site_id = await _site_id(info, site)
        assert site_id is not None  # the permission found it
        async with info.context.reading() as session:
            rows = await service.failed_check_ins(session, info.context.viewer, site_id)
        return [PassCheckIn.from_model(row) for row in rows]

    @strawberry.field(
        description="Offline visits beyond a pass's credits, for the managers of the host and "
        "selling spaces and for coordinators.",
        extensions=[allow(SignedIn())],
    )
    async def pass_over_uses(self, info: Info) -> list[PassCheckIn]:
        async with info.context.reading() as session:
            rows = await service.over_uses(session, info.context.viewer)
        return [PassCheckIn.from_model(row) for row in rows]

    @strawberry.field(
        description="A month's settlement (YYYY-MM). Needs the `stats:read` scope: "
        "coordinators see every line, a space's managers and software the lines of that space.",
        extensions=[allow(Authenticated(scope="stats:read"))],
    )
    async def settlement(self, info: Info, month: str) -> Settlement:
        async with info.context.reading() as session:
            statement = await service.monthly_statement(session, info.context.viewer, month)
        return Settlement.of(month, statement)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sell a pass after payment at the desk (a manager of the selling space), or "
        "fund one within a programme's budget (a coordinator).",
        extensions=[allow(SignedIn())],
    )
    async def issue_pass(self, info: Info, input: IssuePassInput) -> Pass:
        async with info.context.transaction() as session:
            row = await service.issue_pass(
                session,
                info.context.viewer,
                product_id=_product_id(input.product_id),
                holder_id=input.holder_id,
                tier=input.tier,
            )
        return Pass.from_model(row)

    @strawberry.mutation(
        description="Define a pass product: a manager of the selling space (or a coordinator); "
        "FUNDED products, paid by a programme, by a coordinator.",
        extensions=[allow(SignedIn())],
    )
    async def create_pass_product(self, info: Info, input: CreatePassProductInput) -> PassProduct:
        data = await _product_data(info, input)
        async with info.context.transaction() as session:
            row = await service.define_product(session, info.context.viewer, data)
        return PassProduct.from_model(row)

    @strawberry.mutation(
        description="Start a funded programme (coordinators).",
        extensions=[allow(Coordinator())],
    )
    async def create_programme(self, info: Info, input: CreateProgrammeInput) -> Programme:
        data = service.ProgrammeData(
            slug=input.slug or "",
            name=input.name,
            funders=input.funders,
            coverage_percent=input.coverage_percent,
            budget_cents=input.budget_cents,
            places=input.places,
            eligibility=input.eligibility,
            starts_on=input.starts_on,
            ends_on=input.ends_on,
            site_slugs=input.sites,
        )
        async with info.context.transaction() as session:
            row = await service.create_programme(session, data)
        return Programme.from_model(row)

    @strawberry.mutation(
        description="Whether a space takes network passes (`accepting`), and if so only of "
        "these products (`productIds`; null or empty: every product). Its managers.",
        extensions=[allow(ManagesSite(_site_of_slug_arg, coordinators=False))],
    )
    async def set_accepted_pass_products(
        self,
        info: Info,
        site: str,
        accepting: bool,
        product_ids: list[strawberry.ID] | None = None,
    ) -> PassAcceptance:
        site_id = await _site_id(info, site)
        assert site_id is not None  # the permission found it
        ids = [_product_id(i, "productIds") for i in product_ids or ()]
        async with info.context.transaction() as session:
            acceptance = await service.set_accepted_products(
                session, site_id, accepting=accepting, product_ids=ids
            )
        return PassAcceptance.of(acceptance)

    @strawberry.mutation(
        description="A new QR code for a pass (the holder, or a manager of the selling "
        "space): older codes give INVALID_PASS_TOKEN.",
        extensions=[allow(SignedIn())],
    )
    async def reissue_pass_code(self, info: Info, id: uuid.UUID) -> Pass:
        async with info.context.transaction() as session:
            row = await service.reissue_pass_code(session, info.context.viewer, id)
        return Pass.from_model(row)

    @strawberry.mutation(
        description="Stop a pass at once; its QR codes stop working.",
        extensions=[allow(SignedIn())],
    )
    async def revoke_pass(self, info: Info, id: uuid.UUID) -> Pass:
        async with info.context.transaction() as session:
            row = await service.revoke_pass(session, info.context.viewer, id)
        return Pass.from_model(row)

    @strawberry.mutation(
        description="Check a pass in at a host space: its kiosk (client credentials with "
        "`checkin:write`, bound to the space) or its managers. Refusals are answers with a code.",
        # Who may is decided with the space, read in the check-in's own first statement:
        # FORBIDDEN unless the viewer manages it or is its kiosk.
        extensions=[allow(Authenticated(scope="checkin:write"))],
    )
    async def check_in(self, info: Info, input: CheckInInput) -> CheckInResult:
        request = service.CheckInRequest(
            site_id=None,
            site_slug=input.site,
            kind=input.kind,
            idempotency_key=input.idempotency_key,
            pass_token=input.pass_token,
            pass_id=input.pass_id,
        )
        async with info.context.transaction() as session:
            outcome = await service.check_in(
                session, info.context.keys, request, viewer=info.context.viewer
            )
        return CheckInResult.of(outcome)
