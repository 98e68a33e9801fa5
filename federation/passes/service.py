"""Pass use cases: products and programmes, issuing and revoking, checking in (online and
reconciled offline), QR tokens, the monthly settlement, and people's pass data.

Every function runs inside the caller's transaction and never commits. The invariants
that concurrency could break are conditional UPDATEs: credits (`remaining >= :cost`),
membership quotas (`used + :cost <= :quota`) and programme budgets
(`spent_cents + :price <= budget_cents`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Viewer
from federation.directory.models import Person, Site
from federation.directory.service import require_site_ids
from federation.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    Unauthenticated,
)
from federation.keys.service import InvalidToken, KeyRing
from federation.kit.clock import PARIS, utcnow
from federation.kit.text import fold
from federation.passes import settlement
from federation.passes.models import (
    CheckIn,
    CheckInKind,
    CheckInSource,
    CreditUnit,
    Pass,
    PriceTier,
    Product,
    ProductKind,
    Programme,
    ProgrammeSite,
    SiteProductLimit,
    VisitCounter,
)
from federation.passes.settlement import Party, PartyKind
from federation.usage.models import UseKind, UseSource
from federation.usage.service import UseRecord, person_subject, record_use

PASS_TOKEN_TYPE = "pass+jwt"  # noqa: S105 (a JWT type, not a secret)

# Refusal codes (names of rules, not secrets).
PASS_EXHAUSTED = "PASS_EXHAUSTED"  # noqa: S105
PASS_EXPIRED = "PASS_EXPIRED"  # noqa: S105
PASS_REVOKED = "PASS_REVOKED"  # noqa: S105
INVALID_PASS_TOKEN = "INVALID_PASS_TOKEN"  # noqa: S105
SITE_NOT_ACCEPTING = "SITE_NOT_ACCEPTING"
VISIT_QUOTA_REACHED = "VISIT_QUOTA_REACHED"
CAPACITY_FULL = "CAPACITY_FULL"
_PENDING = "PENDING"

MESSAGES = {
    PASS_EXHAUSTED: "This pass has no credits left.",
    PASS_EXPIRED: "This pass is not valid at this date.",
    PASS_REVOKED: "This pass was revoked.",
    INVALID_PASS_TOKEN: "This code is not a valid pass of the network.",
    SITE_NOT_ACCEPTING: "This space does not accept this pass.",
    VISIT_QUOTA_REACHED: "This membership's visits at this space are used up for the month.",
    CAPACITY_FULL: "This space is full today.",
}


# --- products and programmes --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierLine:
    name: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class ProgrammeData:
    slug: str
    name: str
    funders: Sequence[str]
    coverage_percent: int
    budget_cents: int
    places: int | None
    eligibility: str
    starts_on: date
    ends_on: date
    site_ids: Sequence[int] = ()
    site_slugs: Sequence[str] = ()  # participating spaces named by slug (looked up)


@dataclass(frozen=True, slots=True)
class ProductData:
    name: str
    kind: ProductKind
    credits: int
    unit: CreditUnit
    validity_days: int
    tiers: Sequence[TierLine]
    issuer_site_id: int | None = None
    programme_id: int | None = None
    network_share_bp: int = 500
    visit_value_cents: int | None = None


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slug_of(name: str) -> str:
    """'Lille Création 2026' -> 'lille-creation-2026'."""
    return "-".join(re.findall(r"[a-z0-9]+", fold(name)))[:64].strip("-")


def _check_name(name: str, *, argument: str = "name") -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise BadUserInput("a name has 1-200 characters", argument=argument)
    return name


async def create_programme(session: AsyncSession, data: ProgrammeData) -> Programme:
    """A funded programme, with the spaces where its passes work (by id or by slug)."""
    name = _check_name(data.name)
    slug = data.slug.strip() or slug_of(name)
    if not (2 <= len(slug) <= 64 and _SLUG.match(slug)):
        raise BadUserInput(
            f"a programme's slug is 2-64 lowercase letters, digits and dashes (got {slug!r})",
            argument="slug",
        )
    if data.budget_cents < 0 or not 0 <= data.coverage_percent <= 100:
        raise BadUserInput("a programme needs a budget ≥ 0 and a coverage of 0-100 %")
    if data.places is not None and data.places < 1:
        raise BadUserInput("a programme has at least one place (or no limit)", argument="places")
    if data.ends_on < data.starts_on:
        raise BadUserInput("a programme ends after it starts", argument="endsOn")
    funders = [funder.strip() for funder in data.funders]
    if not all(1 <= len(funder) <= 200 for funder in funders):
        raise BadUserInput("a funder's name has 1-200 characters", argument="funders")
    if await session.scalar(select(Programme.id).where(Programme.slug == slug)) is not None:
        raise Conflict(f"a programme with the slug {slug!r} already exists", argument="slug")
    site_ids = set(data.site_ids)
    site_ids.update((await require_site_ids(session, data.site_slugs)).values())
    programme = Programme(
        slug=slug,
        name=name,
        funders=funders,
        coverage_percent=data.coverage_percent,
        budget_cents=data.budget_cents,
        places=data.places,
        eligibility=data.eligibility,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
    )
    session.add(programme)
    await _flush_unique(session, f"a programme with the slug {slug!r} already exists")
    for site_id in sorted(site_ids):
        session.add(ProgrammeSite(programme_id=programme.id, site_id=site_id))
    await session.flush()
    return programme


async def _flush_unique(session: AsyncSession, message: str) -> None:
    """Flush; a unique constraint taken meanwhile by a concurrent writer is a CONFLICT."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(message) from None


async def create_product(session: AsyncSession, data: ProductData) -> Product:
    name = _check_name(data.name)
    if data.credits <= 0:
        raise BadUserInput("a product has at least one credit", argument="credits")
    if data.validity_days <= 0:
        raise BadUserInput("a product is valid at least one day", argument="validityDays")
    if not data.tiers or any(t.price_cents < 0 for t in data.tiers):
        raise BadUserInput("a product needs price tiers of 0 cents or more", argument="tiers")
    tier_names = [t.name.strip() for t in data.tiers]
    if not all(1 <= len(n) <= 40 for n in tier_names) or len(set(tier_names)) < len(tier_names):
        raise BadUserInput("price tiers have distinct names of 1-40 characters", argument="tiers")
    if not 0 <= data.network_share_bp <= settlement.BASIS_POINTS:
        raise BadUserInput("the network share is 0-100 %", argument="networkShare")
    if (data.kind is ProductKind.FUNDED) != (data.programme_id is not None):
        raise BadUserInput("a FUNDED product, and only one, names its programme")
    if data.kind is not ProductKind.FUNDED and data.issuer_site_id is None:
        raise BadUserInput("a sold product names its selling space", argument="issuer")
    if data.kind is ProductKind.MEMBERSHIP and data.visit_value_cents is None:
        raise BadUserInput("a membership says what a visit day earns its host")
    if data.visit_value_cents is not None and data.visit_value_cents < 0:
        raise BadUserInput("a visit earns 0 cents or more", argument="visitValueCents")
    if data.programme_id is not None and await session.get(Programme, data.programme_id) is None:
        raise NotFound("no such programme", argument="programmeId")
    if await session.scalar(select(Product.id).where(Product.name == name)) is not None:
        raise Conflict(f"a pass product named {name!r} already exists", argument="name")
    product = Product(
        name=name,
        kind=data.kind,
        credits=data.credits,
        unit=data.unit,
        validity_days=data.validity_days,
        issuer_site_id=data.issuer_site_id,
        programme_id=data.programme_id,
        network_share_bp=data.network_share_bp,
        visit_value_cents=data.visit_value_cents,
    )
    session.add(product)
    await _flush_unique(session, f"a pass product named {name!r} already exists")
    for position, (tier, tier_name) in enumerate(zip(data.tiers, tier_names, strict=True)):
        session.add(
            PriceTier(
                product_id=product.id,
                name=tier_name,
                position=position,
                price_cents=tier.price_cents,
            )
        )
    await session.flush()
    return product


async def define_product(session: AsyncSession, viewer: Viewer, data: ProductData) -> Product:
    """A new product: a manager of the selling space (or a coordinator) defines what it
    sells; a FUNDED product, paid by a programme, is a coordinator's."""
    if data.kind is ProductKind.FUNDED or data.issuer_site_id is None:
        if not viewer.is_coordinator:
            raise Forbidden("network-wide and funded products are defined by coordinators")
    elif not (viewer.is_coordinator or viewer.manages(data.issuer_site_id)):
        raise Forbidden("only the selling space's managers define its products")
    return await create_product(session, data)


async def limit_site_to_products(
    session: AsyncSession, site_id: int, product_ids: Sequence[int]
) -> None:
    """From now on the space accepts only these products (none listed: every product)."""
    await session.execute(delete(SiteProductLimit).where(SiteProductLimit.site_id == site_id))
    for product_id in product_ids:
        session.add(SiteProductLimit(site_id=site_id, product_id=product_id))
    await session.flush()


@dataclass(frozen=True, slots=True)
class Acceptance:
    site_id: int
    accepting: bool
    products: Sequence[Product]  # empty: every product (when accepting)


async def set_accepted_products(
    session: AsyncSession,
    site_id: int,
    *,
    accepting: bool,
    product_ids: Sequence[int] | None,
) -> Acceptance:
    """Whether the space takes network passes, and if so of which products (None or none
    listed: all). A space always takes the passes it sells itself."""
    wanted = sorted(set(product_ids or ()))
    products = (
        (await session.scalars(select(Product).where(Product.id.in_(wanted)))).all()
        if wanted
        else []
    )
    if len(products) != len(wanted):
        missing = sorted(set(wanted) - {p.id for p in products})
        raise NotFound(f"no such pass product {missing[0]}", argument="productIds")
    # The flag lives on the space's row, but only passes read it: the pass rules own it.
    await session.execute(
        update(Site)
        .where(Site.id == site_id)
        .values(accepts_network_passes=accepting, network_passes_set_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await limit_site_to_products(session, site_id, wanted)
    return Acceptance(site_id, accepting, sorted(products, key=lambda p: (p.name, p.id)))


async def list_products(session: AsyncSession) -> Sequence[Product]:
    return (await session.scalars(select(Product).order_by(Product.name, Product.id))).all()


# --- issuing ------------------------------------------------------------------------------


async def issue_pass(
    session: AsyncSession,
    viewer: Viewer,
    *,
    product_id: int,
    holder_id: uuid.UUID,
    tier: str,
    now: datetime | None = None,
) -> Pass:
    """Sell (or fund) a pass: a manager of the selling space after payment at their desk,
    or a coordinator for a programme's funded pass, within its budget and places."""
    now = now or utcnow()
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("no such pass product", argument="productId")
    if product.kind is ProductKind.FUNDED:
        if not viewer.is_coordinator:
            raise Forbidden("funded passes are issued by the programme's coordinators")
    elif product.issuer_site_id is None or not viewer.manages(product.issuer_site_id):
        raise Forbidden("only the selling space's managers issue its passes")
    if await session.get(Person, holder_id) is None:
        raise NotFound("no such person", argument="holderId")
    price = await session.scalar(
        select(PriceTier.price_cents).where(
            PriceTier.product_id == product_id, PriceTier.name == tier
        )
    )
    if price is None:
        raise BadUserInput(f"this product offers no tier {tier!r}", argument="tier")
    valid_until = now + timedelta(days=product.validity_days)
    if product.programme_id is not None:
        programme = await session.get(Programme, product.programme_id)
        assert programme is not None
        price = price * programme.coverage_percent // 100  # what the programme pays
        if not programme.starts_on <= now.astimezone(PARIS).date() <= programme.ends_on:
            raise Refused("PROGRAMME_CLOSED", "the programme is not running at this date")
        taken = await session.execute(
            update(Programme)
            .where(
                Programme.id == programme.id,
                Programme.spent_cents + price <= Programme.budget_cents,
                or_(Programme.places.is_(None), Programme.issued < Programme.places),
            )
            .values(spent_cents=Programme.spent_cents + price, issued=Programme.issued + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused(
                "PROGRAMME_BUDGET_EXHAUSTED", "the programme's budget or places are used up"
            )
        end = datetime.combine(programme.ends_on + timedelta(days=1), datetime.min.time(), PARIS)
        valid_until = min(valid_until, end.astimezone(UTC))
    issued = Pass(
        id=uuid.uuid4(),
        product_id=product.id,
        holder_id=holder_id,
        tier=tier,
        price_cents=price,
        credits=product.credits,
        remaining=product.credits,
        sold_by_site_id=product.issuer_site_id,
        programme_id=product.programme_id,
        network_share_bp=product.network_share_bp,
        valid_from=now,
        valid_until=valid_until,
        version=1,
        issued_by=viewer.person_id,
        created_at=now,
    )
    session.add(issued)
    await session.flush()
    return issued


async def revoke_pass(
    session: AsyncSession, viewer: Viewer, pass_id: uuid.UUID, *, now: datetime | None = None
) -> Pass:
    """Stop a pass at once: the check-in UPDATE refuses it and its QR codes stop matching."""
    found = await session.get(Pass, pass_id, with_for_update=True)
    if found is None:
        raise NotFound("no such pass", argument="id")
    if not (
        viewer.is_coordinator
        or (found.sold_by_site_id is not None and viewer.manages(found.sold_by_site_id))
    ):
        raise Forbidden("only the selling space's managers or a coordinator revoke a pass")
    if found.revoked_at is None:
        found.revoked_at = now or utcnow()
        found.version += 1
        await session.flush()
    return found


async def reissue_pass_code(session: AsyncSession, viewer: Viewer, pass_id: uuid.UUID) -> Pass:
    """A new QR code for a pass (a lost or copied one): the holder or a manager of the
    selling space; the version goes up, so older codes give INVALID_PASS_TOKEN."""
    found = await session.get(Pass, pass_id, with_for_update=True)
    if found is None:
        raise NotFound("no such pass", argument="id")
    holder = found.holder_id is not None and found.holder_id == viewer.person_id
    seller = found.sold_by_site_id is not None and viewer.manages(found.sold_by_site_id)
    if not (holder or seller):
        raise Forbidden("only the holder or the selling space's managers reissue a pass's code")
    if found.revoked_at is not None:
        raise Refused(PASS_REVOKED, MESSAGES[PASS_REVOKED])
    found.version += 1
    await session.flush()
    return found


# --- QR tokens ----------------------------------------------------------------------------


def pass_claims(found: Pass) -> dict[str, Any]:
    return {
        "pass": str(found.id),
        "sub": str(found.holder_id) if found.holder_id else None,
        "ver": found.version,
        "exp": int(found.valid_until.timestamp()),
        "nbf": int(found.valid_from.timestamp()),
    }


async def qr_token(keys: KeyRing, found: Pass) -> str:
    """A compact JWS (ES256, kid in the header) a kiosk verifies with /oauth/jwks.json."""
    return await keys.sign(pass_claims(found), typ=PASS_TOKEN_TYPE)


def qr_svg(token: str) -> str:
    import segno

    svg: str = segno.make(token, error="m").svg_inline(scale=3)
    return svg


@dataclass(frozen=True, slots=True)
class TokenClaims:
    pass_id: uuid.UUID
    version: int


async def read_pass_token(keys: KeyRing, token: str) -> TokenClaims | None:
    """The pass a token names, if the hub signed it; None for anything else. Expiry and
    version are judged against the pass itself (an expired pass is PASS_EXPIRED)."""
    try:
        claims = await keys.verify(token, typ=PASS_TOKEN_TYPE)
        return TokenClaims(uuid.UUID(str(claims["pass"])), int(claims["ver"]))
    except (InvalidToken, KeyError, ValueError, TypeError):
        return None


# --- checking in --------------------------------------------------------------------------


def cost_of(unit: CreditUnit, kind: CheckInKind) -> int:
    """Credits a visit takes: a day carnet spends a day even for a half-day; a half-day
    carnet spends two half-days for a day."""
    if unit is CreditUnit.HALF_DAY and kind is CheckInKind.DAY:
        return 2
    return 1


def _use_units(kind: CheckInKind) -> int:
    return 2 if kind is CheckInKind.DAY else 1  # open-space half-days, as statistics count


@dataclass(frozen=True, slots=True)
class CheckInRequest:
    site_id: int | None  # the host space, by id or (None) by `site_slug`
    kind: CheckInKind
    idempotency_key: str
    pass_token: str | None = None
    pass_id: uuid.UUID | None = None
    site_slug: str | None = None


@dataclass(frozen=True, slots=True)
class CheckInOutcome:
    check_in: CheckIn
    replayed: bool

    @property
    def ok(self) -> bool:
        return self.check_in.ok


def _validate(request: CheckInRequest) -> None:
    if request.site_id is None and not request.site_slug:
        raise BadUserInput("name the host space", argument="site")
    if not 1 <= len(request.idempotency_key) <= 128:
        raise BadUserInput("idempotencyKey has 1-128 characters", argument="idempotencyKey")
    if (request.pass_token is None) == (request.pass_id is None):
        raise BadUserInput("give a passToken or a passId, not both", argument="passToken")


def _dialect(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def _insert(session: AsyncSession) -> Any:
    dialect = _dialect(session)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CheckIn)


async def _claim(
    session: AsyncSession,
    request: CheckInRequest,
    site_id: int,
    *,
    at: datetime,
    source: CheckInSource,
) -> int | None:
    """Take the idempotency key before any debit: a concurrent or later retry finds it
    taken (on PostgreSQL it waits for this transaction), so only one attempt ever debits."""
    statement = (
        _insert(session)
        .values(
            site_id=site_id,
            idempotency_key=request.idempotency_key,
            source=source,
            kind=request.kind,
            at=at,
            day=at.astimezone(PARIS).date(),
            code=_PENDING,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["site_id", "idempotency_key"])
        .returning(CheckIn.id)
    )
    claimed: int | None = await session.scalar(statement)
    return claimed


@dataclass(slots=True)
class _Found:
    """The host space, and the pass with what the rules need about it (row None: no such
    pass). Read in one statement, before anything is written."""

    site_id: int
    desks: int
    site_accepts: bool
    taken_today: int  # successful check-ins at the space today (0 when not counted)
    row: Pass | None
    product: Product | None
    home_site_id: int | None
    limited: bool
    allowed: bool
    participates: bool


async def _find(
    session: AsyncSession,
    request: CheckInRequest,
    pass_id: uuid.UUID | None,
    *,
    day: date,
    count_today: bool,
) -> _Found | None:
    """One statement: the space (by id or slug), the pass, its product and holder's home,
    the space's product limits and programme participation, and today's check-ins there
    (for CAPACITY_FULL). None when there is no such space."""
    limited = exists().where(SiteProductLimit.site_id == Site.id)
    allowed = exists().where(
        SiteProductLimit.site_id == Site.id, SiteProductLimit.product_id == Pass.product_id
    )
    participates = exists().where(
        ProgrammeSite.site_id == Site.id, ProgrammeSite.programme_id == Pass.programme_id
    )
    columns: list[Any] = [
        Site.id,
        Site.desks,
        Site.accepts_network_passes,
        Pass,
        Product,
        Person.home_site_id,
        limited,
        allowed,
        participates,
    ]
    if count_today:
        today = (
            select(func.count())
            .select_from(CheckIn)
            .where(CheckIn.site_id == Site.id, CheckIn.day == day, CheckIn.ok)
            .scalar_subquery()
        )
        columns.append(case((Site.desks > 0, today), else_=0))
    query = (
        select(*columns)
        .select_from(Site)
        .outerjoin(Pass, Pass.id == pass_id)
        .outerjoin(Product, Product.id == Pass.product_id)
        .outerjoin(Person, Person.id == Pass.holder_id)
        .where(
            Site.id == request.site_id
            if request.site_id is not None
            else Site.slug == request.site_slug
        )
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return _Found(
        site_id=int(row[0]),
        desks=int(row[1]),
        site_accepts=bool(row[2]),
        taken_today=int(row[9] or 0) if count_today else 0,
        row=row[3],
        product=row[4],
        home_site_id=row[5],
        limited=bool(row[6]),
        allowed=bool(row[7]),
        participates=bool(row[8]),
    )


def _accepts(found: _Found, site_id: int) -> bool:
    assert found.row is not None
    if found.row.sold_by_site_id == site_id:
        return True  # a space always takes the passes it sells
    if not found.site_accepts:
        return False
    if found.limited and not found.allowed:
        return False
    return found.row.programme_id is None or found.participates


@dataclass(slots=True)
class _Decision:
    code: str | None = None
    units: int = 0
    debited: int = 0
    remaining: int | None = None
    over_use: bool = False
    amounts: settlement.Amounts = field(default_factory=lambda: settlement.Amounts(0, 0))


def _pass_named(claims: TokenClaims | None, request: CheckInRequest) -> uuid.UUID | None:
    return claims.pass_id if claims is not None else request.pass_id


async def _decide(
    session: AsyncSession,
    request: CheckInRequest,
    found: _Found,
    claims: TokenClaims | None,
    *,
    at: datetime,
    offline: bool,
) -> _Decision:
    version = claims.version if claims is not None else None
    if (request.pass_token is not None and claims is None) or found.row is None:
        return _Decision(INVALID_PASS_TOKEN)
    assert found.product is not None
    p, product, site_id = found.row, found.product, found.site_id
    units = cost_of(product.unit, request.kind)
    decision = _Decision(units=units, remaining=p.remaining)
    revoked = p.revoked_at is not None and (not offline or p.revoked_at <= at)
    if revoked:
        decision.code = PASS_REVOKED
        return decision
    # Offline, a visit made before a revocation carries the code that was valid then.
    current_version = p.version if p.revoked_at is None else p.version - 1
    if version is not None and version != current_version:
        decision.code = INVALID_PASS_TOKEN
        return decision
    if not p.valid_from - timedelta(minutes=5) <= at < p.valid_until:
        decision.code = PASS_EXPIRED
        return decision
    if not _accepts(found, site_id):
        decision.code = SITE_NOT_ACCEPTING
        return decision
    day = at.astimezone(PARIS).date()
    if not offline and found.desks > 0 and found.taken_today >= found.desks:
        decision.code = CAPACITY_FULL
        return decision
    at_home = p.sold_by_site_id == site_id
    if product.kind is ProductKind.MEMBERSHIP:
        if not at_home:
            month = day.replace(day=1)
            await session.execute(
                _counter_insert(session)
                .values(pass_id=p.id, site_id=site_id, month=month, used=0)
                .on_conflict_do_nothing(index_elements=["pass_id", "site_id", "month"])
            )
            counted = await session.execute(
                update(VisitCounter)
                .where(
                    VisitCounter.pass_id == p.id,
                    VisitCounter.site_id == site_id,
                    VisitCounter.month == month,
                    VisitCounter.used + units <= p.credits,
                )
                .values(used=VisitCounter.used + units)
                .execution_options(synchronize_session=False)
            )
            if counted.rowcount != 1:  # type: ignore[attr-defined]
                decision.code = VISIT_QUOTA_REACHED
                decision.over_use = offline
                return decision
            worth = (product.visit_value_cents or 0) * units
            decision.amounts = settlement.split(worth, p.network_share_bp)
        return decision
    conditions = [Pass.id == p.id, Pass.remaining >= units]
    if not offline:
        conditions.append(Pass.revoked_at.is_(None))  # a revocation committed meanwhile
    remaining = await session.scalar(
        update(Pass)
        .where(*conditions)
        .values(remaining=Pass.remaining - units)
        .returning(Pass.remaining)
        .execution_options(synchronize_session=False)
    )
    if remaining is None:
        decision.code = PASS_EXHAUSTED
        decision.over_use = offline
        decision.remaining = 0 if offline else p.remaining
        return decision
    decision.debited, decision.remaining = units, remaining
    used_before = p.credits - remaining - units
    worth = settlement.credit_worth(p.price_cents, p.credits, used=used_before, units=units)
    decision.amounts = settlement.split(worth, p.network_share_bp)
    if at_home:
        decision.amounts = settlement.Amounts(0, decision.amounts.share_cents)
    return decision


def _counter_insert(session: AsyncSession) -> Any:
    dialect = _dialect(session)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(VisitCounter)


def _may_check_in(viewer: Viewer, site_id: int) -> bool:
    """The host space's managers, or its own software (a client bound to it)."""
    return viewer.manages(site_id) or viewer.client_site_id == site_id


async def _record(
    session: AsyncSession,
    keys: KeyRing,
    request: CheckInRequest,
    *,
    at: datetime,
    source: CheckInSource,
    viewer: Viewer | None = None,
) -> CheckInOutcome:
    offline = source is CheckInSource.OFFLINE
    claims = None
    if request.pass_token is not None:
        claims = await read_pass_token(keys, request.pass_token)  # no SQL: cached keys
    day = at.astimezone(PARIS).date()
    found = await _find(
        session, request, _pass_named(claims, request), day=day, count_today=not offline
    )
    if found is None or (viewer is not None and not _may_check_in(viewer, found.site_id)):
        if viewer is not None:  # say nothing about spaces one may not check in at
            raise Forbidden("only this space's managers and kiosk check passes in here")
        raise NotFound("no such space", argument="site")
    claimed = await _claim(session, request, found.site_id, at=at, source=source)
    if claimed is None:
        first = await session.scalar(
            select(CheckIn).where(
                CheckIn.site_id == found.site_id,
                CheckIn.idempotency_key == request.idempotency_key,
            )
        )
        assert first is not None
        return CheckInOutcome(first, replayed=True)
    decision = await _decide(session, request, found, claims, at=at, offline=offline)
    ok = decision.code is None
    values: dict[str, Any] = {
        "ok": ok,
        "code": decision.code,
        "message": "Welcome!" if ok else MESSAGES[decision.code or INVALID_PASS_TOKEN],
        "units": decision.units,
        "debited": decision.debited,
        "remaining_after": decision.remaining,
        "over_use": decision.over_use,
        "host_cents": decision.amounts.host_cents,
        "share_cents": decision.amounts.share_cents,
    }
    if found.row is not None:
        values["pass_id"] = found.row.id
    row = (
        await session.execute(
            update(CheckIn)
            .where(CheckIn.id == claimed)
            .values(**values)
            .returning(CheckIn)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    if (ok or decision.over_use) and found.row is not None:
        holder = found.row.holder_id
        await record_use(
            session,
            UseRecord(
                site_id=found.site_id,
                day=day,
                kind=UseKind.OPEN_SPACE,
                units=_use_units(request.kind),
                subject=person_subject(holder) if holder else f"pass:{found.row.id}",
                home_site_id=found.home_site_id,
                source=UseSource.KIOSK if offline else UseSource.CHECK_IN,
            ),
        )
    # The usage rollups are written at commit, last: their network-wide rows are shared by
    # every check-in, so they are locked for as short a time as possible.
    return CheckInOutcome(row, replayed=False)


async def check_in(
    session: AsyncSession,
    keys: KeyRing,
    request: CheckInRequest,
    *,
    viewer: Viewer | None = None,
    now: datetime | None = None,
) -> CheckInOutcome:
    """One check-in at a host space: refused or not, it is recorded; the same idempotency
    key again returns the first answer and debits nothing. With a `viewer`, only the
    space's managers and its own kiosk may (FORBIDDEN, also for an unknown space)."""
    _validate(request)
    return await _record(
        session, keys, request, at=now or utcnow(), source=CheckInSource.ONLINE, viewer=viewer
    )


# --- offline reconciliation ---------------------------------------------------------------


@dataclass(frozen=True)
class OfflineVisit:
    pass_token: str
    at: datetime
    kind: str  # "HALF_DAY"|"DAY"
    external_id: str


@dataclass(frozen=True, slots=True)
class VisitOutcome:
    external_id: str
    ok: bool
    code: str | None  # a refusal code, or BAD_USER_INPUT for a malformed visit
    over_use: bool
    check_in_id: int | None
    replayed: bool


async def record_offline_visits(
    session: AsyncSession, *, keys: KeyRing, site_id: int, visits: Sequence[OfflineVisit]
) -> list[VisitOutcome]:
    """Apply visits a kiosk recorded offline, in time order, within the caller's
    transaction. Idempotent per (space, external id). A visit beyond the credits is kept
    and flagged as over-use. Per-visit problems are in the outcomes, never raised."""
    outcomes: dict[int, VisitOutcome] = {}
    order = sorted(range(len(visits)), key=lambda i: (_utc(visits[i].at), i))
    for index in order:
        visit = visits[index]
        try:
            kind = CheckInKind(visit.kind)
            if visit.at.tzinfo is None or not 1 <= len(visit.external_id) <= 120:
                raise ValueError
        except ValueError:
            outcomes[index] = VisitOutcome(
                visit.external_id, False, "BAD_USER_INPUT", False, None, False
            )
            continue
        request = CheckInRequest(
            site_id=site_id,
            kind=kind,
            idempotency_key=f"offline:{visit.external_id}",
            pass_token=visit.pass_token,
        )
        outcome = await _record(
            session, keys, request, at=_utc(visit.at), source=CheckInSource.OFFLINE
        )
        row = outcome.check_in
        outcomes[index] = VisitOutcome(
            visit.external_id, row.ok, row.code, row.over_use, row.id, outcome.replayed
        )
    return [outcomes[i] for i in range(len(visits))]


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


# --- reading ------------------------------------------------------------------------------


async def my_passes(session: AsyncSession, person_id: uuid.UUID) -> Sequence[Pass]:
    query = select(Pass).where(Pass.holder_id == person_id).order_by(Pass.created_at.desc())
    return (await session.scalars(query)).all()


async def over_uses(session: AsyncSession, viewer: Viewer) -> Sequence[CheckIn]:
    """Offline visits beyond a pass's credits: for the managers of the host and of the
    selling space, and for coordinators."""
    query = (
        select(CheckIn)
        .join(Pass, Pass.id == CheckIn.pass_id)
        .where(CheckIn.over_use)
        .order_by(CheckIn.at, CheckIn.id)
    )
    if not viewer.is_coordinator:
        mine = list(viewer.managed_site_ids)
        if not mine:
            raise Forbidden("only managers and coordinators see over-use")
        query = query.where(or_(CheckIn.site_id.in_(mine), Pass.sold_by_site_id.in_(mine)))
    return (await session.scalars(query)).all()


async def failed_check_ins(
    session: AsyncSession, viewer: Viewer, site_id: int
) -> Sequence[CheckIn]:
    if not (viewer.is_coordinator or viewer.manages(site_id)):
        raise Forbidden("only this space's managers see its check-ins")
    query = (
        select(CheckIn)
        .where(CheckIn.site_id == site_id, ~CheckIn.ok)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc())
        .limit(200)
    )
    return (await session.scalars(query)).all()


# --- settlement ---------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str) -> date:
    found = _MONTH.match(value or "")
    if found is None:
        raise BadUserInput(f"a month is written YYYY-MM (got {value!r})", argument="month")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def settlement_scope(viewer: Viewer) -> frozenset[int] | None:
    """The spaces whose lines the viewer sees; None for all of them (coordinators)."""
    if viewer.is_anonymous:
        raise Unauthenticated("sign in first")
    viewer.require_scope("stats:read")
    if viewer.is_coordinator:
        return None
    mine = set(viewer.managed_site_ids)
    if viewer.client_site_id is not None:
        mine.add(viewer.client_site_id)
    if not mine:
        raise Forbidden("only managers and coordinators read the settlement")
    return frozenset(mine)


async def monthly_statement(
    session: AsyncSession, viewer: Viewer, month: str
) -> settlement.Statement:
    """The month's gross lines and netted transfers; a manager sees those of their spaces."""
    first = parse_month(month)
    scope = settlement_scope(viewer)
    payer_site = Pass.sold_by_site_id
    query = (
        select(
            payer_site,
            Pass.programme_id,
            CheckIn.site_id,
            func.sum(CheckIn.host_cents),
            func.sum(CheckIn.share_cents),
        )
        .join(Pass, Pass.id == CheckIn.pass_id)
        .where(
            CheckIn.ok,
            CheckIn.day >= first,
            CheckIn.day < _next_month(first),
            CheckIn.host_cents + CheckIn.share_cents > 0,
        )
        .group_by(payer_site, Pass.programme_id, CheckIn.site_id)
    )
    rows = (await session.execute(query)).all()
    site_ids = {r[0] for r in rows if r[0] is not None} | {r[2] for r in rows}
    programme_ids = {r[1] for r in rows if r[1] is not None}
    sites = {
        s.id: Party(PartyKind.SPACE, s.id, s.name, s.slug)
        for s in await session.scalars(select(Site).where(Site.id.in_(site_ids)))
    }
    programmes = {
        p.id: Party(PartyKind.PROGRAMME, p.id, p.name, p.slug)
        for p in await session.scalars(select(Programme).where(Programme.id.in_(programme_ids)))
    }
    redemptions = [
        settlement.Redemption(
            payer=programmes[programme_id] if programme_id is not None else sites[seller or 0],
            host=sites[host],
            amounts=settlement.Amounts(int(host_cents), int(share_cents)),
        )
        for seller, programme_id, host, host_cents, share_cents in rows
    ]
    whole = settlement.statement_of(redemptions)
    if scope is None:
        return whole

    def concerns(line: settlement.Line) -> bool:
        return any(
            party.kind is PartyKind.SPACE and party.id in scope
            for party in (line.payer, line.payee)
        )

    return settlement.Statement(
        lines=[line for line in whole.lines if concerns(line)],
        transfers=[line for line in whole.transfers if concerns(line)],
    )


# --- personal data ------------------------------------------------------------------------


async def export_person_data(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any]:
    """The person's passes and every check-in made with them."""
    passes = (
        await session.scalars(
            select(Pass).where(Pass.holder_id == person_id).order_by(Pass.created_at)
        )
    ).all()
    ids = [p.id for p in passes]
    check_ins = (
        await session.scalars(
            select(CheckIn).where(CheckIn.pass_id.in_(ids)).order_by(CheckIn.at, CheckIn.id)
        )
    ).all()
    return {
        "passes": [
            {
                "id": str(p.id),
                "productId": p.product_id,
                "tier": p.tier,
                "priceCents": p.price_cents,
                "credits": p.credits,
                "remaining": p.remaining,
                "validUntil": p.valid_until.isoformat(),
                "revoked": p.revoked_at is not None,
            }
            for p in passes
        ],
        "checkIns": [
            {
                "passId": str(c.pass_id),
                "siteId": c.site_id,
                "at": c.at.isoformat(),
                "kind": c.kind.value,
                "ok": c.ok,
                "code": c.code,
            }
            for c in check_ins
        ],
    }


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Detach the person from their passes: the ledger stays exact and anonymous."""
    await session.execute(
        update(Pass)
        .where(Pass.holder_id == person_id)
        .values(holder_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Pass)
        .where(Pass.issued_by == person_id)
        .values(issued_by=None)
        .execution_options(synchronize_session=False)
    )
