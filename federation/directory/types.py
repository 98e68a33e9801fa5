"""Directory GraphQL types. They never touch the database: nested data comes through loaders."""

from __future__ import annotations

import enum
import uuid
from datetime import date

import strawberry

from federation.directory import loaders, models
from federation.graphql.context import Info

# The tables' enums are the GraphQL enums: registered here, so models never import Strawberry.
strawberry.enum(models.LegalForm, description="How a space is incorporated.")
strawberry.enum(models.Amenity, description="What a space offers besides desks.")
strawberry.enum(models.PlanUnit, description="What a plan's price buys.")
strawberry.enum(
    models.Visibility,
    description=(
        "Who sees a profile: PUBLIC anyone; NETWORK any signed-in person; "
        "SITE people of the same home space; HIDDEN nobody."
    ),
)


@strawberry.enum
class Weekday(enum.Enum):
    MONDAY = "MO"
    TUESDAY = "TU"
    WEDNESDAY = "WE"
    THURSDAY = "TH"
    FRIDAY = "FR"
    SATURDAY = "SA"
    SUNDAY = "SU"


@strawberry.type
class Coordinates:
    lat: float
    lon: float


@strawberry.type(description="Open from `opens` to `closes` (local time, HH:MM) on `day`.")
class OpeningHours:
    day: Weekday
    opens: str
    closes: str


@strawberry.type(description="A line of a space's price list. Money is euro cents excluding VAT.")
class Plan:
    name: str
    price_cents: int
    vat_rate: float = strawberry.field(description="VAT rate in percent, e.g. 20.0.")
    unit: models.PlanUnit
    quantity: int = strawberry.field(
        description="How many units the price buys: 10 DAY = a 10-day carnet."
    )

    @classmethod
    def from_model(cls, row: models.Plan) -> Plan:
        return cls(
            name=row.name,
            price_cents=row.price_cents,
            vat_rate=float(row.vat_rate),
            unit=row.unit,
            quantity=row.quantity,
        )


@strawberry.type(description="A space of the network (a tiers-lieu).")
class Site:
    slug: str
    name: str
    legal_form: models.LegalForm
    description: str
    address: str
    postcode: str
    city: str
    region: str
    coordinates: Coordinates
    surface_m2: int | None
    desks: int
    opening_hours: list[OpeningHours]
    website: str | None
    email: str | None
    accepts_network_passes: bool
    joined_at: date
    db_id: strawberry.Private[int]

    @strawberry.field
    async def amenities(self, info: Info) -> list[models.Amenity]:
        return await info.context.loader(loaders.amenities_by_site).load(self.db_id)

    @strawberry.field
    async def plans(self, info: Info) -> list[Plan]:
        rows = await info.context.loader(loaders.plans_by_site).load(self.db_id)
        return [Plan.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: models.Site) -> Site:
        return cls(
            db_id=row.id,
            slug=row.slug,
            name=row.name,
            legal_form=row.legal_form,
            description=row.description,
            address=row.address,
            postcode=row.postcode,
            city=row.city,
            region=row.region,
            coordinates=Coordinates(lat=row.lat, lon=row.lon),
            surface_m2=row.surface_m2,
            desks=row.desks,
            opening_hours=[
                OpeningHours(day=Weekday(slot["day"]), opens=slot["opens"], closes=slot["closes"])
                for slot in row.opening_hours
            ],
            website=row.website,
            email=row.email,
            accepts_network_passes=row.accepts_network_passes,
            joined_at=row.joined_at,
        )


async def load_site(info: Info, site_id: int | None) -> Site | None:
    """A Site by internal id through the request's loader; for other domains' types."""
    if site_id is None:
        return None
    row = await info.context.loader(loaders.sites_by_id).load(site_id)
    return Site.from_model(row) if row is not None else None


@strawberry.type(description="A person of the network, as they chose to show themselves.")
class Person:
    id: uuid.UUID
    display_name: str
    profession: str
    bio: str
    home_site_id: strawberry.Private[int | None]
    own_visibility: strawberry.Private[models.Visibility]

    @strawberry.field
    async def skills(self, info: Info) -> list[str]:
        return await info.context.loader(loaders.skills_by_person).load(self.id)

    @strawberry.field
    async def home_site(self, info: Info) -> Site | None:
        return await load_site(info, self.home_site_id)

    @strawberry.field(description="Who sees this profile; shown only to the person themselves.")
    def visibility(self, info: Info) -> models.Visibility | None:
        return self.own_visibility if info.context.viewer.person_id == self.id else None

    @classmethod
    def from_model(cls, row: models.Person) -> Person:
        return cls(
            id=row.id,
            display_name=row.display_name,
            profession=row.profession,
            bio=row.bio,
            home_site_id=row.home_site_id,
            own_visibility=row.visibility,
        )


@strawberry.input(description="Spaces within `radiusKm` of a point, nearest first.")
class NearInput:
    lat: float
    lon: float
    radius_km: float
