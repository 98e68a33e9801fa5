"""Directory use cases: find spaces and people, add and edit them."""

from __future__ import annotations

import bisect
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Viewer
from federation.directory.models import (
    Amenity,
    LegalForm,
    Person,
    PersonSkill,
    Plan,
    PlanUnit,
    Site,
    SiteAmenity,
    Visibility,
)
from federation.directory.regions import canonical_region
from federation.errors import BadUserInput, Conflict
from federation.kit.pagination import (
    Page,
    PageRequest,
    decode_cursor,
    encode_cursor,
    known_count,
    page_of,
)
from federation.kit.text import fold, like_contains

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 1000.0


@dataclass(frozen=True, slots=True)
class Near:
    lat: float
    lon: float
    radius_km: float

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90 or not -180 <= self.lon <= 180:
            raise BadUserInput(
                "`near` needs a latitude in [-90, 90] and a longitude in [-180, 180]",
                argument="near",
            )
        if not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise BadUserInput(
                f"`near.radiusKm` must be above 0 and at most {MAX_RADIUS_KM:g}",
                argument="near.radiusKm",
            )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# --- spaces -------------------------------------------------------------------------------


async def get_site(session: AsyncSession, slug: str) -> Site | None:
    return await session.scalar(select(Site).where(Site.slug == slug))


async def require_site_ids(session: AsyncSession, slugs: Iterable[str]) -> dict[str, int]:
    """Slug -> id for every slug given; BAD_USER_INPUT naming the first unknown one."""
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = await session.execute(select(Site.slug, Site.id).where(Site.slug.in_(wanted)))
    found: dict[str, int] = {row.slug: row.id for row in rows}
    missing = sorted(wanted - found.keys())
    if missing:
        raise BadUserInput(f"unknown space {missing[0]!r}", argument="site")
    return found


async def list_sites(
    session: AsyncSession,
    *,
    page: PageRequest,
    search: str | None = None,
    city: str | None = None,
    region: str | None = None,
    amenity: Amenity | None = None,
    near: Near | None = None,
) -> Page[Site]:
    """Spaces by name, or by distance when `near` is given; filters combine."""
    conditions: list[ColumnElement[bool]] = [*_search_conditions(Site.search_text, search)]
    if city:
        conditions.append(Site.city_key == fold(city))
    if region:
        conditions.append(Site.region == canonical_region(region))
    if amenity is not None:
        conditions.append(
            exists().where(SiteAmenity.site_id == Site.id, SiteAmenity.amenity == amenity)
        )
    if near is not None:
        return await _sites_near(session, near, conditions, page)

    query = select(Site).where(*conditions).order_by(Site.name_key, Site.id)
    if page.after:
        name_key, site_id = decode_cursor(page.after, types=(str, int))
        query = query.where(tuple_(Site.name_key, Site.id) > tuple_(name_key, site_id))
    rows = (await session.scalars(query.limit(page.first + 1))).all()

    async def count(s: AsyncSession) -> int:
        return await s.scalar(select(func.count()).select_from(Site).where(*conditions)) or 0

    return page_of(rows, page, key=lambda site: (site.name_key, site.id), count=count)


async def _sites_near(
    session: AsyncSession, near: Near, conditions: list[ColumnElement[bool]], page: PageRequest
) -> Page[Site]:
    # A bounding box lets the (lat, lon) index cut the candidates; the exact great-circle
    # distance is then computed here, identically on SQLite and PostgreSQL.
    dlat = math.degrees(near.radius_km / EARTH_RADIUS_KM)
    coslat = max(math.cos(math.radians(near.lat)), 1e-6)
    dlon = min(180.0, dlat / coslat)
    box = and_(
        Site.lat.between(near.lat - dlat, near.lat + dlat),
        Site.lon.between(near.lon - dlon, near.lon + dlon),
    )
    candidates = await session.execute(select(Site.id, Site.lat, Site.lon).where(box, *conditions))
    ranked = sorted(
        entry
        for entry in (
            (round(distance_km(near.lat, near.lon, lat, lon), 6), site_id)
            for site_id, lat, lon in candidates
        )
        if entry[0] <= near.radius_km
    )
    total = len(ranked)
    if page.after:
        after = tuple(decode_cursor(page.after, types=(float, int)))
        ranked = ranked[bisect.bisect_right(ranked, after) :]
    window = ranked[: page.first]
    by_id: dict[int, Site] = {}
    if window:
        ids = [site_id for _, site_id in window]
        by_id = {
            site.id: site for site in await session.scalars(select(Site).where(Site.id.in_(ids)))
        }
    return Page(
        items=[by_id[site_id] for _, site_id in window],
        cursors=[encode_cursor(entry) for entry in window],
        has_next_page=len(ranked) > page.first,
        count=known_count(total),
    )


def _search_conditions(column: Any, search: str | None) -> list[ColumnElement[bool]]:
    """Every word must appear, accents and case aside. SQL and quotes are just text here."""
    if not search:
        return []
    return [column.like(like_contains(word), escape="\\") for word in fold(search).split()[:8]]


@dataclass(slots=True)
class SiteProfile:
    """What a space says about itself. Used by the CLI, the demo and sync's site_profile."""

    slug: str
    name: str
    legal_form: LegalForm
    address: str
    postcode: str
    city: str
    region: str
    lat: float
    lon: float
    joined_at: date
    description: str = ""
    surface_m2: int | None = None
    desks: int = 0
    opening_hours: list[dict[str, str]] = field(default_factory=list)
    website: str | None = None
    email: str | None = None
    accepts_network_passes: bool = True
    amenities: Sequence[Amenity] = ()
    plans: Sequence[PlanLine] = ()


@dataclass(frozen=True, slots=True)
class PlanLine:
    name: str
    price_cents: int
    unit: PlanUnit
    quantity: int = 1
    vat_rate: Decimal = Decimal("20.00")


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def check_site_profile(profile: SiteProfile) -> SiteProfile:
    """Normalise a profile or say precisely what is wrong with it."""
    slug = profile.slug.strip().lower()
    if (
        not slug
        or len(slug) < 2
        or len(slug) > 64
        or not all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    ):
        raise BadUserInput(
            f"a space's slug is 2-64 lowercase letters, digits and dashes (got {profile.slug!r})",
            argument="slug",
        )
    if not profile.name.strip():
        raise BadUserInput("a space needs a name", argument="name")
    if profile.desks < 0:
        raise BadUserInput("desks cannot be negative", argument="desks")
    if profile.surface_m2 is not None and profile.surface_m2 <= 0:
        raise BadUserInput("surface must be positive", argument="surfaceM2")
    if not -90 <= profile.lat <= 90 or not -180 <= profile.lon <= 180:
        raise BadUserInput("coordinates are not on Earth", argument="coordinates")
    for slot in profile.opening_hours:
        if (
            slot.get("day") not in WEEKDAYS
            or not _is_hhmm(slot.get("opens"))
            or not _is_hhmm(slot.get("closes"))
        ):
            raise BadUserInput(
                f"opening hours need a day in {WEEKDAYS} and HH:MM times (got {slot!r})",
                argument="openingHours",
            )
        if slot["opens"] >= slot["closes"]:
            raise BadUserInput(
                f"a space closes after it opens (got {slot!r})", argument="openingHours"
            )
    for plan in profile.plans:
        if plan.price_cents < 0 or plan.quantity <= 0 or not 0 <= plan.vat_rate < 100:
            raise BadUserInput(
                f"plan {plan.name!r} needs a price >= 0, a quantity > 0 and a VAT rate in %",
                argument="plans",
            )
    profile.slug = slug
    profile.region = canonical_region(profile.region)
    return profile


def _is_hhmm(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


Saved = Literal["created", "updated", "unchanged"]


async def save_site(
    session: AsyncSession, profile: SiteProfile, *, create_only: bool = False
) -> tuple[Site, Saved]:
    """Create the space or bring it up to date with its profile, and say which happened."""
    profile = check_site_profile(profile)
    site = await get_site(session, profile.slug)
    created = site is None
    if site is not None and create_only:
        raise Conflict(f"a space with the slug {profile.slug!r} already exists", argument="slug")
    if site is None:
        site = Site(slug=profile.slug)
        session.add(site)
    values: dict[str, Any] = {
        "name": profile.name.strip(),
        "legal_form": profile.legal_form,
        "description": profile.description,
        "address": profile.address,
        "postcode": profile.postcode,
        "city": profile.city,
        "region": profile.region,
        "lat": profile.lat,
        "lon": profile.lon,
        "surface_m2": profile.surface_m2,
        "desks": profile.desks,
        "opening_hours": list(profile.opening_hours),
        "website": profile.website,
        "email": profile.email,
        "accepts_network_passes": profile.accepts_network_passes,
        "joined_at": profile.joined_at,
        "name_key": fold(profile.name),
        "city_key": fold(profile.city),
        "search_text": fold(
            " ".join([profile.name, profile.city, profile.postcode, profile.description])
        ),
    }
    changed = created
    for key, value in values.items():
        if getattr(site, key, None) != value:
            setattr(site, key, value)
            changed = True
    await session.flush()
    changed |= await _replace_amenities(session, site.id, profile.amenities)
    changed |= await _replace_plans(session, site.id, profile.plans)
    return site, "created" if created else "updated" if changed else "unchanged"


async def _replace_amenities(
    session: AsyncSession, site_id: int, amenities: Sequence[Amenity]
) -> bool:
    current = set(
        await session.scalars(select(SiteAmenity.amenity).where(SiteAmenity.site_id == site_id))
    )
    wanted = set(amenities)
    if current == wanted:
        return False
    await session.execute(delete(SiteAmenity).where(SiteAmenity.site_id == site_id))
    session.add_all(SiteAmenity(site_id=site_id, amenity=a) for a in sorted(wanted))
    return True


async def _replace_plans(session: AsyncSession, site_id: int, plans: Sequence[PlanLine]) -> bool:
    current = [
        PlanLine(p.name, p.price_cents, p.unit, p.quantity, p.vat_rate)
        for p in await session.scalars(
            select(Plan).where(Plan.site_id == site_id).order_by(Plan.position)
        )
    ]
    if current == list(plans):
        return False
    if len({plan.name for plan in plans}) != len(plans):
        raise BadUserInput("two plans of one space share a name", argument="plans")
    await session.execute(delete(Plan).where(Plan.site_id == site_id))
    session.add_all(
        Plan(
            site_id=site_id,
            position=i,
            name=p.name,
            price_cents=p.price_cents,
            unit=p.unit,
            quantity=p.quantity,
            vat_rate=p.vat_rate,
        )
        for i, p in enumerate(plans)
    )
    return True


# --- people -------------------------------------------------------------------------------


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """Which profiles a viewer may see in the directory (SQL, so pages and counts agree)."""
    if viewer.person_id is None:
        return Person.visibility == Visibility.PUBLIC
    seen: list[ColumnElement[bool]] = [
        Person.visibility.in_([Visibility.PUBLIC, Visibility.NETWORK]),
        Person.id == viewer.person_id,
    ]
    spaces = {viewer.home_site_id, *viewer.managed_site_ids} - {None}
    if spaces:
        seen.append(and_(Person.visibility == Visibility.SITE, Person.home_site_id.in_(spaces)))
    return or_(*seen)


async def list_members(
    session: AsyncSession,
    viewer: Viewer,
    *,
    page: PageRequest,
    search: str | None = None,
    skill: str | None = None,
    site: str | None = None,
) -> Page[Person]:
    """People the viewer may see, by name; filter by words, an exact skill or a home space."""
    conditions = [visible_to(viewer), *_search_conditions(Person.search_text, search)]
    if skill:
        conditions.append(
            exists().where(PersonSkill.person_id == Person.id, PersonSkill.skill_key == fold(skill))
        )
    if site:
        site_ids = await require_site_ids(session, [site])
        conditions.append(Person.home_site_id == site_ids[site])
    query = select(Person).where(*conditions).order_by(Person.name_key, Person.id)
    if page.after:
        name_key, person_id = decode_cursor(page.after, types=(str, str))
        query = query.where(tuple_(Person.name_key, Person.id) > tuple_(name_key, _uuid(person_id)))
    rows = (await session.scalars(query.limit(page.first + 1))).all()

    async def count(s: AsyncSession) -> int:
        return await s.scalar(select(func.count()).select_from(Person).where(*conditions)) or 0

    return page_of(rows, page, key=lambda person: (person.name_key, str(person.id)), count=count)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadUserInput("`after` is a cursor from another list", argument="after") from None


@dataclass(slots=True)
class ProfileData:
    display_name: str
    profession: str = ""
    bio: str = ""
    skills: Sequence[str] = ()
    visibility: Visibility = Visibility.NETWORK
    home_site_id: int | None = None


MAX_SKILLS = 20


def _check_profile(data: ProfileData) -> None:
    if not data.display_name.strip():
        raise BadUserInput("a display name cannot be empty", argument="displayName")
    if len(data.display_name) > 120 or len(data.profession) > 120:
        raise BadUserInput(
            "names and professions are at most 120 characters", argument="displayName"
        )
    if len(data.bio) > 4000:
        raise BadUserInput("a bio is at most 4,000 characters", argument="bio")
    if len(data.skills) > MAX_SKILLS:
        raise BadUserInput(f"at most {MAX_SKILLS} skills", argument="skills")
    for skill in data.skills:
        if not skill.strip() or len(skill) > 80:
            raise BadUserInput("a skill is 1-80 characters", argument="skills")


async def save_person(
    session: AsyncSession, data: ProfileData, *, person_id: uuid.UUID | None = None
) -> Person:
    """Create a profile (a new id unless one is given) or replace an existing one's content."""
    _check_profile(data)
    person = await session.get(Person, person_id) if person_id is not None else None
    if person is None:
        person = Person(id=person_id or uuid.uuid4())
        session.add(person)
    person.display_name = data.display_name.strip()
    person.profession = data.profession.strip()
    person.bio = data.bio.strip()
    person.visibility = data.visibility
    person.home_site_id = data.home_site_id
    person.name_key = fold(person.display_name)
    skills = list(dict.fromkeys(s.strip() for s in data.skills))
    person.search_text = fold(
        " ".join([person.display_name, person.profession, person.bio, *skills])
    )
    await session.flush()
    existing = {
        row.skill_key: row
        for row in await session.scalars(
            select(PersonSkill).where(PersonSkill.person_id == person.id)
        )
    }
    wanted = {fold(skill): (i, skill) for i, skill in reversed(list(enumerate(skills)))}
    for key, row in existing.items():
        if key not in wanted:
            await session.delete(row)
    for key, (position, skill) in wanted.items():
        kept = existing.get(key)
        if kept is None:
            session.add(
                PersonSkill(person_id=person.id, skill_key=key, skill=skill, position=position)
            )
        elif (kept.skill, kept.position) != (skill, position):
            kept.skill, kept.position = skill, position
    return person


async def all_sites(session: AsyncSession) -> Sequence[Site]:
    """Every space by name, for the CLI (the network has thousands, not millions)."""
    return (await session.scalars(select(Site).order_by(Site.name_key, Site.id))).all()


async def skills_of(session: AsyncSession, person_id: uuid.UUID) -> list[str]:
    """A person's skills in their chosen order."""
    query = (
        select(PersonSkill.skill)
        .where(PersonSkill.person_id == person_id)
        .order_by(PersonSkill.position)
    )
    return list(await session.scalars(query))


async def export_person_data(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any]:
    """The person's profile and skills, as the directory holds them."""
    person = await session.get(Person, person_id)
    if person is None:
        return {}
    home = await session.scalar(select(Site.slug).where(Site.id == person.home_site_id))
    return {
        "profile": {
            "id": str(person.id),
            "display_name": person.display_name,
            "profession": person.profession,
            "bio": person.bio,
            "visibility": person.visibility.value,
            "home_site": home,
            "created_at": person.created_at.isoformat(),
            "updated_at": person.updated_at.isoformat(),
        },
        "skills": await skills_of(session, person_id),
    }


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Erase the profile and its skills (memberships that pointed to it keep no link)."""
    await session.execute(delete(PersonSkill).where(PersonSkill.person_id == person_id))
    await session.execute(delete(Person).where(Person.id == person_id))
