"""Pass GraphQL types. They never touch the database: nested data comes through loaders."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import strawberry

from federation.directory.loaders import sites_by_id
from federation.directory.types import Site, load_site
from federation.graphql.context import Info
from federation.kit.clock import utcnow
from federation.passes import loaders, models, service, settlement

strawberry.enum(
    models.ProductKind,
    name="PassProductKind",
    description="CARNET: N credits for a period; MEMBERSHIP: a home membership with N visit "
    "days a month at each other space; FUNDED: paid by a programme.",
)
strawberry.enum(models.CreditUnit, name="CreditUnit", description="What one credit buys.")
strawberry.enum(models.CheckInKind, name="CheckInKind", description="How long the visit is.")
strawberry.enum(settlement.PartyKind, name="SettlementPartyKind")


@strawberry.enum(description="Where a pass stands now.")
class PassStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXHAUSTED = "EXHAUSTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


@strawberry.type(description="A solidarity price tier: what a person pays depends on their means.")
class PriceTier:
    name: str
    price_cents: int


@strawberry.type(description="A funded programme: who pays, how much, for whom, where.")
class Programme:
    id: strawberry.ID
    slug: str
    name: str
    funders: list[str]
    coverage_percent: int
    budget_cents: int
    spent_cents: int
    places: int | None
    issued: int
    eligibility: str
    starts_on: date
    ends_on: date
    db_id: strawberry.Private[int]

    @strawberry.field(description="The spaces where its funded passes work.")
    async def sites(self, info: Info) -> list[Site]:
        ids = await info.context.loader(loaders.programme_sites).load(self.db_id)
        rows = await info.context.loader(sites_by_id).load_many(ids)
        return [Site.from_model(row) for row in rows if row is not None]

    @classmethod
    def from_model(cls, row: models.Programme) -> Programme:
        return cls(
            id=strawberry.ID(str(row.id)),
            db_id=row.id,
            slug=row.slug,
            name=row.name,
            funders=list(row.funders),
            coverage_percent=row.coverage_percent,
            budget_cents=row.budget_cents,
            spent_cents=row.spent_cents,
            places=row.places,
            issued=row.issued,
            eligibility=row.eligibility,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
        )


@strawberry.type(description="What a space (or a programme) offers as a network pass.")
class PassProduct:
    id: strawberry.ID
    name: str
    kind: models.ProductKind
    credits: int = strawberry.field(
        description="Credits of a pass; for a MEMBERSHIP, visit days a month at each other space."
    )
    unit: models.CreditUnit
    validity_days: int
    network_share_percent: float
    visit_value_cents: int | None
    db_id: strawberry.Private[int]
    issuer_site_id: strawberry.Private[int | None]
    programme_id: strawberry.Private[int | None]

    @strawberry.field
    async def price_tiers(self, info: Info) -> list[PriceTier]:
        rows = await info.context.loader(loaders.tiers_by_product).load(self.db_id)
        return [PriceTier(name=t.name, price_cents=t.price_cents) for t in rows]

    @strawberry.field(description="The selling space; null for a network-wide product.")
    async def issuer(self, info: Info) -> Site | None:
        return await load_site(info, self.issuer_site_id)

    @strawberry.field(description="The spaces where this product's passes work.")
    async def accepted_at(self, info: Info) -> list[Site]:
        rows = await info.context.loader(loaders.accepting_sites_by_product).load(self.db_id)
        return [Site.from_model(row) for row in rows]

    @strawberry.field
    async def programme(self, info: Info) -> Programme | None:
        if self.programme_id is None:
            return None
        row = await info.context.loader(loaders.programmes_by_id).load(self.programme_id)
        return Programme.from_model(row) if row is not None else None

    @classmethod
    def from_model(cls, row: models.Product) -> PassProduct:
        return cls(
            id=strawberry.ID(str(row.id)),
            db_id=row.id,
            name=row.name,
            kind=row.kind,
            credits=row.credits,
            unit=row.unit,
            validity_days=row.validity_days,
            network_share_percent=row.network_share_bp / 100,
            visit_value_cents=row.visit_value_cents,
            issuer_site_id=row.issuer_site_id,
            programme_id=row.programme_id,
        )


async def load_product(info: Info, product_id: int) -> PassProduct:
    row = await info.context.loader(loaders.products_by_id).load(product_id)
    assert row is not None  # a pass's product is never deleted (RESTRICT)
    return PassProduct.from_model(row)


@strawberry.type(description="One check-in at a host space.")
class PassCheckIn:
    id: strawberry.ID
    at: datetime
    kind: models.CheckInKind
    units: int = strawberry.field(description="Credits (or visit days) the visit is worth.")
    ok: bool
    code: str | None
    over_use: bool = strawberry.field(
        description="An offline visit beyond the pass's credits: kept, and paid nothing."
    )
    site_id: strawberry.Private[int]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await load_site(info, self.site_id)

    @classmethod
    def from_model(cls, row: models.CheckIn) -> PassCheckIn:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            kind=row.kind,
            units=row.units,
            ok=row.ok,
            code=row.code,
            over_use=row.over_use,
            site_id=row.site_id,
        )


@strawberry.type(description="A person's network pass.")
class Pass:
    id: uuid.UUID
    tier: str
    price_cents: int
    credits: int
    remaining_credits: int
    valid_from: datetime
    valid_until: datetime
    status: PassStatus
    product_id: strawberry.Private[int]
    model: strawberry.Private[models.Pass]

    @strawberry.field
    async def product(self, info: Info) -> PassProduct:
        return await load_product(info, self.product_id)

    @strawberry.field(
        description="A compact JWS (ES256, `kid` in the header) a kiosk verifies offline with "
        "/oauth/jwks.json; revoking the pass makes older codes invalid."
    )
    async def qr_token(self, info: Info) -> str:
        return await service.qr_token(info.context.keys, self.model)

    @strawberry.field(description="The QR code of `qrToken`, as an SVG document.")
    async def qr_svg(self, info: Info) -> str:
        return service.qr_svg(await service.qr_token(info.context.keys, self.model))

    @strawberry.field(description="Successful check-ins, oldest first.")
    async def check_ins(self, info: Info) -> list[PassCheckIn]:
        rows = await info.context.loader(loaders.check_ins_by_pass).load(self.id)
        return [PassCheckIn.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: models.Pass) -> Pass:
        now = utcnow()
        if row.revoked_at is not None:
            status = PassStatus.REVOKED
        elif now >= row.valid_until:
            status = PassStatus.EXPIRED
        elif row.remaining == 0:
            status = PassStatus.EXHAUSTED
        else:
            status = PassStatus.ACTIVE
        return cls(
            id=row.id,
            tier=row.tier,
            price_cents=row.price_cents,
            credits=row.credits,
            remaining_credits=row.remaining,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status=status,
            product_id=row.product_id,
            model=row,
        )


@strawberry.type(description="A pass's balance after a check-in.")
class PassBalance:
    id: uuid.UUID
    remaining_credits: int


@strawberry.type(description="The answer to a check-in: refused check-ins are answers, not errors.")
class CheckInResult:
    ok: bool
    code: str | None = strawberry.field(
        description="Why it was refused: PASS_EXHAUSTED PASS_EXPIRED PASS_REVOKED "
        "INVALID_PASS_TOKEN SITE_NOT_ACCEPTING VISIT_QUOTA_REACHED CAPACITY_FULL."
    )
    message: str
    replayed: bool = strawberry.field(description="This idempotency key was seen before.")
    check_in: PassCheckIn
    pass_: PassBalance | None = strawberry.field(name="pass")

    @classmethod
    def of(cls, outcome: service.CheckInOutcome) -> CheckInResult:
        row = outcome.check_in
        balance = None
        if row.pass_id is not None and row.remaining_after is not None:
            balance = PassBalance(id=row.pass_id, remaining_credits=row.remaining_after)
        return cls(
            ok=row.ok,
            code=row.code,
            message=row.message,
            replayed=outcome.replayed,
            check_in=PassCheckIn.from_model(row),
            pass_=balance,
        )


@strawberry.input(description="A check-in at the host space `site`: a scanned code or a pass id.")
class CheckInInput:
    site: str
    kind: models.CheckInKind
    idempotency_key: str = strawberry.field(
        description="Unique per attempt at this space (1-128 characters); a retry with the "
        "same key returns the first answer."
    )
    pass_token: str | None = None
    pass_id: uuid.UUID | None = None


@strawberry.input(description="Sell (or fund) a pass to a person in one of the product's tiers.")
class IssuePassInput:
    product_id: strawberry.ID
    holder_id: uuid.UUID
    tier: str


@strawberry.type
class SettlementParty:
    kind: settlement.PartyKind
    name: str
    slug: str

    @classmethod
    def of(cls, party: settlement.Party) -> SettlementParty:
        return cls(kind=party.kind, name=party.name, slug=party.slug)


@strawberry.type
class SettlementLine:
    payer: SettlementParty
    payee: SettlementParty
    amount_cents: int

    @classmethod
    def of(cls, line: settlement.Line) -> SettlementLine:
        return cls(
            payer=SettlementParty.of(line.payer),
            payee=SettlementParty.of(line.payee),
            amount_cents=line.amount_cents,
        )


@strawberry.type(description="A month's settlement between spaces, programmes and the network.")
class Settlement:
    month: str
    lines: list[SettlementLine] = strawberry.field(description="Gross amounts per pair.")
    transfers: list[SettlementLine] = strawberry.field(
        description="Netted payments that settle the month (at most parties − 1)."
    )

    @classmethod
    def of(cls, month: str, statement: settlement.Statement) -> Settlement:
        return cls(
            month=month,
            lines=[SettlementLine.of(line) for line in statement.lines],
            transfers=[SettlementLine.of(line) for line in statement.transfers],
        )


@strawberry.input(description="A price tier of a new product.")
class PriceTierInput:
    name: str
    price_cents: int


@strawberry.input(
    description="A new pass product. CARNET and MEMBERSHIP name their selling space "
    "(`issuer`); FUNDED names its programme and is a coordinator's."
)
class CreatePassProductInput:
    name: str
    kind: models.ProductKind
    credits: int = strawberry.field(
        description="Credits of a pass (> 0); for a MEMBERSHIP, visit days a month at each "
        "other space."
    )
    unit: models.CreditUnit
    validity_days: int
    price_tiers: list[PriceTierInput] = strawberry.field(
        description="Solidarity tiers, in the order shown (e.g. solidaire, standard, soutien)."
    )
    issuer: str | None = strawberry.field(default=None, description="The selling space's slug.")
    programme_id: strawberry.ID | None = None
    network_share_percent: float = strawberry.field(
        default=5.0, description="What the network keeps of each redemption, 0-100 %."
    )
    visit_value_cents: int | None = strawberry.field(
        default=None, description="MEMBERSHIP: what a host earns for one visit day."
    )


@strawberry.input(description="A new funded programme.")
class CreateProgrammeInput:
    name: str
    funders: list[str]
    coverage_percent: int = strawberry.field(description="Share of a pass's price it pays.")
    budget_cents: int = strawberry.field(description="Budget cap, in cents excluding VAT.")
    starts_on: date
    ends_on: date
    places: int | None = strawberry.field(default=None, description="Null: no limit.")
    eligibility: str = ""
    sites: list[str] = strawberry.field(
        default_factory=list, description="Slugs of the participating spaces."
    )
    slug: str | None = strawberry.field(default=None, description="Default: from the name.")


@strawberry.type(description="Which network passes a space takes.")
class PassAcceptance:
    accepting: bool = strawberry.field(description="False: it declines network passes.")
    site_id: strawberry.Private[int]
    product_rows: strawberry.Private[list[models.Product]]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await load_site(info, self.site_id)

    @strawberry.field(description="The only products it takes; empty: every product.")
    def products(self) -> list[PassProduct]:
        return [PassProduct.from_model(row) for row in self.product_rows]

    @classmethod
    def of(cls, acceptance: service.Acceptance) -> PassAcceptance:
        return cls(
            accepting=acceptance.accepting,
            site_id=acceptance.site_id,
            product_rows=list(acceptance.products),
        )
