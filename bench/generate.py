"""The national dataset: spaces, people, memberships and five years of uses, from a seed.

At scale 1 it is the French network as the 2023 census counts it (about 3,500 spaces,
300,000 people, 20 million uses). Distributions follow the demo (federation/demo/): the
same weekday and seasonal rhythm, the same professions and skills, the same visibilities.
PostgreSQL is loaded with COPY (secondary indexes dropped during the load, then rebuilt);
SQLite, for the smoke test, with executemany. The schema is the hub's own migrations and
the statistics rollups are rebuilt by the hub's own `rebuild_rollups`.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from federation.db import Database
from federation.demo.directory import (
    FEMININE,
    LAST_NAMES,
    MEN,
    PROFESSIONS,
    VISIBILITY_WEIGHTS,
    WOMEN,
)
from federation.demo.usage import SEASON, WEEKDAY
from federation.directory.models import Amenity, LegalForm
from federation.kit.text import fold
from federation.migrations import upgrade
from federation.settings import normalise_database_url
from federation.usage.service import rebuild_rollups

FIRST_DAY = date(2021, 1, 1)
LAST_DAY = date(2025, 12, 31)  # five whole years; the stats scenarios read 2025
STAMP = datetime(2026, 1, 1, tzinfo=UTC)

SITES_AT_1 = 3_500
PEOPLE_AT_1 = 300_000
USES_AT_1 = 20_000_000
CROSS_SITE = 0.10

# France Tiers-Lieux census 2023: legal forms of the spaces (percent).
LEGAL_FORMS = [
    (LegalForm.ASSOCIATION, 51),
    (LegalForm.COMPANY, 19),
    (LegalForm.LOCAL_AUTHORITY, 11),
    (LegalForm.SCIC, 7),
    (LegalForm.SCOP, 2),
    (LegalForm.PUBLIC_INSTITUTION, 4),
    (LegalForm.OTHER, 6),
]

# (city, postcode, region, lat, lon, weight): every region, weighted roughly by population.
CITIES = [
    ("Paris", "75011", "Île-de-France", 48.8589, 2.3800, 60),
    ("Montreuil", "93100", "Île-de-France", 48.8638, 2.4485, 12),
    ("Malakoff", "92240", "Île-de-France", 48.8169, 2.2989, 6),
    ("Saint-Denis", "93200", "Île-de-France", 48.9362, 2.3574, 8),
    ("Lyon", "69001", "Auvergne-Rhône-Alpes", 45.7640, 4.8357, 30),
    ("Grenoble", "38000", "Auvergne-Rhône-Alpes", 45.1885, 5.7245, 12),
    ("Clermont-Ferrand", "63000", "Auvergne-Rhône-Alpes", 45.7772, 3.0870, 10),
    ("Saint-Étienne", "42000", "Auvergne-Rhône-Alpes", 45.4397, 4.3872, 8),
    ("Dijon", "21000", "Bourgogne-Franche-Comté", 47.3220, 5.0415, 10),
    ("Besançon", "25000", "Bourgogne-Franche-Comté", 47.2378, 6.0241, 8),
    ("Rennes", "35000", "Bretagne", 48.1173, -1.6778, 16),
    ("Brest", "29200", "Bretagne", 48.3904, -4.4861, 10),
    ("Lorient", "56100", "Bretagne", 47.7482, -3.3702, 6),
    ("Tours", "37000", "Centre-Val de Loire", 47.3941, 0.6848, 10),
    ("Orléans", "45000", "Centre-Val de Loire", 47.9030, 1.9093, 8),
    ("Ajaccio", "20000", "Corse", 41.9192, 8.7386, 3),
    ("Bastia", "20200", "Corse", 42.6977, 9.4508, 2),
    ("Strasbourg", "67000", "Grand Est", 48.5734, 7.7521, 16),
    ("Nancy", "54000", "Grand Est", 48.6921, 6.1844, 10),
    ("Reims", "51100", "Grand Est", 49.2583, 4.0317, 8),
    ("Lille", "59000", "Hauts-de-France", 50.6292, 3.0573, 20),
    ("Roubaix", "59100", "Hauts-de-France", 50.6942, 3.1746, 6),
    ("Amiens", "80000", "Hauts-de-France", 49.8941, 2.2958, 8),
    ("Rouen", "76000", "Normandie", 49.4432, 1.0999, 12),
    ("Caen", "14000", "Normandie", 49.1829, -0.3707, 10),
    ("Bordeaux", "33000", "Nouvelle-Aquitaine", 44.8378, -0.5792, 22),
    ("Limoges", "87000", "Nouvelle-Aquitaine", 45.8336, 1.2611, 8),
    ("Poitiers", "86000", "Nouvelle-Aquitaine", 46.5802, 0.3404, 8),
    ("Agen", "47000", "Nouvelle-Aquitaine", 44.2033, 0.6163, 5),
    ("Toulouse", "31000", "Occitanie", 43.6047, 1.4442, 24),
    ("Montpellier", "34000", "Occitanie", 43.6108, 3.8767, 18),
    ("Perpignan", "66000", "Occitanie", 42.6887, 2.8948, 6),
    ("Nantes", "44000", "Pays de la Loire", 47.2184, -1.5536, 22),
    ("Angers", "49000", "Pays de la Loire", 47.4784, -0.5632, 10),
    ("Le Mans", "72000", "Pays de la Loire", 48.0061, 0.1996, 8),
    ("Marseille", "13001", "Provence-Alpes-Côte d'Azur", 43.2965, 5.3698, 24),
    ("Nice", "06000", "Provence-Alpes-Côte d'Azur", 43.7102, 7.2620, 12),
    ("Avignon", "84000", "Provence-Alpes-Côte d'Azur", 43.9493, 4.8055, 6),
    ("Pointe-à-Pitre", "97110", "Guadeloupe", 16.2411, -61.5331, 3),
    ("Fort-de-France", "97200", "Martinique", 14.6161, -61.0588, 3),
    ("Cayenne", "97300", "Guyane", 4.9224, -52.3135, 2),
    ("Saint-Denis", "97400", "La Réunion", -20.8823, 55.4504, 4),
    ("Mamoudzou", "97600", "Mayotte", -12.7806, 45.2278, 1),
]

NAMES = [
    "La Fabrique",
    "Le Hangar",
    "La Ruche",
    "L'Atelier",
    "La Coopérative",
    "Le Local",
    "La Base",
    "Le Bocal",
    "La Cordée",
    "Le Moulin",
    "La Grange",
    "Le Quai",
    "La Verrière",
    "Le Tiers-Lieu",
    "La Manufacture",
    "Le Comptoir",
]
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "place de la Gare"]
AMENITY_SHARE = {
    Amenity.OPEN_SPACE: 0.95,
    Amenity.MEETING_ROOM: 0.8,
    Amenity.KITCHEN: 0.7,
    Amenity.PRIVATE_OFFICE: 0.45,
    Amenity.EVENT_SPACE: 0.5,
    Amenity.FABLAB: 0.3,
    Amenity.GARDEN: 0.25,
    Amenity.PRINTER: 0.6,
    Amenity.PHONE_BOOTH: 0.2,
    Amenity.BIKE_PARKING: 0.4,
    Amenity.STEP_FREE_ACCESS: 0.5,
    Amenity.PRODUCE_PICKUP: 0.1,
    Amenity.VR_HEADSET: 0.05,
    Amenity.CHILDCARE: 0.05,
}
PLANS = ["Mensuel", "Journée", "Carnet 10 jours", "Résident", "Nomade"]
HOURS = [
    {"day": day, "opens": "09:00", "closes": "19:00"} for day in ("MO", "TU", "WE", "TH", "FR")
]


@dataclass(frozen=True, slots=True)
class Sizes:
    sites: int
    people: int
    uses: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(
            sites=max(4, round(SITES_AT_1 * scale)),
            people=max(40, round(PEOPLE_AT_1 * scale)),
            uses=max(2_000, round(USES_AT_1 * scale)),
        )


@dataclass(slots=True)
class GeneratedSite:
    id: int
    slug: str
    city: str
    lat: float
    lon: float
    desks: int
    weight: float
    members: list[int]  # membership ids of people whose home is here


@dataclass(frozen=True, slots=True)
class Generated:
    """What the scenarios need to know about the data without querying it."""

    sites: int
    people: int
    memberships: int
    uses: int
    seconds: float


def slugify(text: str) -> str:
    folded = fold(text).replace("'", "-")
    kept = "".join(ch if ch.isalnum() else "-" for ch in folded)
    return "-".join(part for part in kept.split("-") if part)


def sync_url(url: str) -> str:
    """A psycopg/sqlite3 URL from whatever the user gave (driver suffixes removed)."""
    return url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )


def sqlite_path(url: str) -> str | None:
    normal = normalise_database_url(url)
    if not normal.startswith("sqlite"):
        return None
    return normal.split(":///", 1)[1]


# --- the rows ----------------------------------------------------------------------------


def site_rows(
    rng: random.Random, sizes: Sizes
) -> tuple[
    list[GeneratedSite], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]
]:
    forms, form_weights = zip(*LEGAL_FORMS, strict=True)
    city_weights = [c[5] for c in CITIES]
    sites: list[GeneratedSite] = []
    rows: list[tuple[Any, ...]] = []
    amenities: list[tuple[Any, ...]] = []
    plans: list[tuple[Any, ...]] = []
    for site_id in range(1, sizes.sites + 1):
        city, postcode, region, lat, lon, _ = rng.choices(CITIES, city_weights)[0]
        # Spread around the city: most within 15 km, a few rural ones further out.
        spread = 0.15 if rng.random() < 0.7 else 0.6
        lat = round(lat + rng.uniform(-spread, spread), 5)
        lon = round(lon + rng.uniform(-spread, spread) * 1.4, 5)
        name = f"{rng.choice(NAMES)} {city} {site_id}"
        slug = slugify(name)[:64]
        desks = rng.choice([6, 10, 12, 15, 20, 25, 30, 45, 60])
        description = f"Tiers-lieu à {city} : coworking, ateliers et événements."
        joined = FIRST_DAY - timedelta(days=rng.randint(0, 2000))
        rows.append(
            (
                site_id,
                slug,
                name,
                rng.choices(forms, form_weights)[0].value,
                description,
                f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                postcode,
                city,
                region,
                lat,
                lon,
                desks * 10,
                desks,
                json.dumps(HOURS),
                f"https://{slug}.example.org",
                f"contact@{slug}.example.org",
                rng.random() < 0.85,
                joined,
                fold(name),
                fold(city),
                fold(" ".join([name, city, postcode, description])),
                STAMP,
                STAMP,
            )
        )
        for amenity, share in AMENITY_SHARE.items():
            if rng.random() < share:
                amenities.append((site_id, amenity.value))
        for position, plan in enumerate(rng.sample(PLANS, 2)):
            plans.append(
                (
                    site_id,
                    position,
                    plan,
                    rng.choice([1500, 2500, 15000, 25000]),
                    "20.00",
                    "DAY" if "Jour" in plan else "MONTH",
                    1,
                )
            )
        weight = rng.lognormvariate(0, 0.6) * desks
        sites.append(GeneratedSite(site_id, slug, city, lat, lon, desks, weight, []))
    return sites, rows, amenities, plans


def people_rows(
    rng: random.Random, sizes: Sizes, sites: Sequence[GeneratedSite]
) -> tuple[
    list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[uuid.UUID, int]]
]:
    kinds, kind_weights = zip(*VISIBILITY_WEIGHTS, strict=True)
    weights = [site.weight for site in sites]
    people: list[tuple[Any, ...]] = []
    skills: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []
    homes: list[tuple[uuid.UUID, int]] = []
    span = (LAST_DAY - FIRST_DAY).days
    for index in range(sizes.people):
        # Every space has at least one member; the rest follow the spaces' sizes.
        site = sites[index] if index < len(sites) else rng.choices(sites, weights)[0]
        person_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        woman = rng.random() < 0.55
        display = f"{rng.choice(WOMEN if woman else MEN)} {rng.choice(LAST_NAMES)}"
        profession, offered = rng.choice(PROFESSIONS)
        if woman:
            profession = FEMININE.get(profession, profession)
        chosen = rng.sample(offered, k=rng.randint(2, len(offered)))
        bio = f"{profession} à {site.city}."
        people.append(
            (
                person_id,
                display,
                profession,
                bio,
                site.id,
                rng.choices(kinds, kind_weights)[0].value,
                fold(display),
                fold(" ".join([display, profession, bio, *chosen])),
                STAMP,
                STAMP,
            )
        )
        for position, skill in enumerate(chosen):
            skills.append((person_id, fold(skill), skill, position))
        membership_id = index + 1
        starts = FIRST_DAY + timedelta(days=rng.randint(-365, span))
        memberships.append(
            (
                membership_id,
                site.id,
                f"m{membership_id}",
                rng.choice(PLANS),
                starts,
                None,
                None,
                STAMP,
                STAMP,
            )
        )
        site.members.append(membership_id)
        homes.append((person_id, site.id))
    return people, skills, memberships, homes


def use_rows(
    rng: random.Random,
    sizes: Sizes,
    sites: Sequence[GeneratedSite],
    homes: Sequence[tuple[uuid.UUID, int]],
) -> Iterator[tuple[Any, ...]]:
    """Uses day by day: weekdays only, busier mid-week, quiet in August and at Christmas;
    one in ten by a person of another space (a cross-site visit)."""
    days = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        factor = WEEKDAY[day.weekday()] * SEASON[day.month]
        if factor:
            days.append((day, factor))
        day += timedelta(days=1)
    rhythm = sum(factor for _, factor in days)
    total_weight = sum(site.weight for site in sites)
    people = len(homes)
    counter = 0
    for site in sites:
        per_day = sizes.uses * site.weight / total_weight / rhythm
        members = site.members
        for day, factor in days:
            mean = per_day * factor
            count = int(mean + rng.random())
            for _ in range(count):
                counter += 1
                pick = rng.random()
                if pick < 0.80:
                    kind, units = "OPEN_SPACE", 2 if rng.random() < 0.55 else 1
                elif pick < 0.88:
                    kind, units = "OFFICE", 1
                else:
                    kind, units = "MEETING_ROOM", 1
                if rng.random() < CROSS_SITE:
                    person_id, home = homes[int(rng.random() * people)]
                    if home != site.id:
                        yield (
                            site.id,
                            day,
                            kind,
                            units,
                            f"person:{person_id}",
                            home,
                            "SYNC",
                            f"u{counter}",
                            STAMP,
                        )
                        continue
                member = members[int(rng.random() * len(members))]
                yield (
                    site.id,
                    day,
                    kind,
                    units,
                    f"membership:{member}",
                    site.id,
                    "SYNC",
                    f"u{counter}",
                    STAMP,
                )


# --- loading -----------------------------------------------------------------------------

SITE_COLUMNS = [
    "id",
    "slug",
    "name",
    "legal_form",
    "description",
    "address",
    "postcode",
    "city",
    "region",
    "lat",
    "lon",
    "surface_m2",
    "desks",
    "opening_hours",
    "website",
    "email",
    "accepts_network_passes",
    "joined_at",
    "name_key",
    "city_key",
    "search_text",
    "created_at",
    "updated_at",
]
AMENITY_COLUMNS = ["site_id", "amenity"]
PLAN_COLUMNS = ["site_id", "position", "name", "price_cents", "vat_rate", "unit", "quantity"]
PERSON_COLUMNS = [
    "id",
    "display_name",
    "profession",
    "bio",
    "home_site_id",
    "visibility",
    "name_key",
    "search_text",
    "created_at",
    "updated_at",
]
SKILL_COLUMNS = ["person_id", "skill_key", "skill", "position"]
MEMBERSHIP_COLUMNS = [
    "id",
    "site_id",
    "external_id",
    "plan",
    "starts_on",
    "ends_on",
    "person_id",
    "source_updated_at",
    "created_at",
]
PASSES_AT_1 = 200_000
PRODUCT_COLUMNS = [
    "id",
    "name",
    "kind",
    "issuer_site_id",
    "credits",
    "unit",
    "validity_days",
    "network_share_bp",
    "created_at",
]
PASS_COLUMNS = [
    "id",
    "product_id",
    "holder_id",
    "tier",
    "price_cents",
    "credits",
    "remaining",
    "sold_by_site_id",
    "network_share_bp",
    "valid_from",
    "valid_until",
    "version",
    "created_at",
]


def pass_rows(
    rng: random.Random, scale: float, homes: Sequence[tuple[uuid.UUID, int]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Casaco-like carnets (10 days or 15 half-days, 150 € HT, solidarity tiers) sold by
    each holder's home space over the five years, most of them partly used."""
    products = [
        (1, "Carnet réseau 10 jours", "CARNET", None, 10, "DAY", 365, 500, STAMP),
        (2, "Carnet réseau 15 demi-journées", "CARNET", None, 15, "HALF_DAY", 365, 500, STAMP),
    ]
    passes = []
    span = (LAST_DAY - FIRST_DAY).days
    for _ in range(max(20, round(PASSES_AT_1 * scale))):
        holder, home = homes[int(rng.random() * len(homes))]
        product = 1 if rng.random() < 0.6 else 2
        credits = 10 if product == 1 else 15
        tier, price = rng.choices(
            [("standard", 15000), ("solidaire", 9000), ("soutien", 20000)], [70, 20, 10]
        )[0]
        start = datetime.combine(
            FIRST_DAY + timedelta(days=rng.randint(0, span)), datetime.min.time(), UTC
        )
        passes.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                product,
                holder,
                tier,
                price,
                credits,
                rng.randint(0, credits),
                home,
                500,
                start,
                start + timedelta(days=365),
                1,
                STAMP,
            )
        )
    return products, passes


USE_COLUMNS = [
    "site_id",
    "day",
    "kind",
    "units",
    "subject",
    "home_site_id",
    "source",
    "external_id",
    "created_at",
]


class Loader:
    def copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class PostgresLoader(Loader):
    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(sync_url(url), autocommit=False)
        self.connection.execute("SET synchronous_commit = off")
        self.connection.execute("SET maintenance_work_mem = '512MB'")

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        cursor = self.connection.cursor()
        # The data-version triggers (migration 0008) are deferred to commit; pending, they
        # forbid the index rebuild below in the same transaction. Fired per row instead.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Secondary indexes are rebuilt once after the load: much faster than row by row.
        indexes = cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = %s AND indexname LIKE 'ix_%%'",
            (table,),
        ).fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        count = 0
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        for _, definition in indexes:
            cursor.execute(definition)
        if "id" in columns and table in {"sites", "memberships", "pass_products"}:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id')"
                f", (SELECT max(id) FROM {table}))"
            )
        self.connection.commit()
        return count

    def finish(self) -> None:
        self.connection.autocommit = True
        self.connection.execute("ANALYZE")
        self.connection.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex  # SQLAlchemy's Uuid on SQLite: 32 hex digits
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteLoader(Loader):
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path)

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        converted = (tuple(_sqlite_value(v) for v in row) for row in rows)
        count = 0
        while batch := [row for _, row in zip(range(10_000), converted, strict=False)]:
            self.connection.executemany(statement, batch)
            count += len(batch)
        self.connection.commit()
        return count

    def finish(self) -> None:
        self.connection.close()


def _clear(url: str) -> None:
    """Empty the dataset's tables so that generating twice gives the same database."""
    tables = [
        "usage_active_counts",
        "usage_active_subjects",
        "usage_visits_by_period",
        "usage_uses_by_period",
        "usage_new_members_by_period",
        "uses",
        "memberships",
        "person_skills",
        "people",
        "site_amenities",
        "site_plans",
        "sites",
    ]
    path = sqlite_path(url)
    if path is None:
        import psycopg

        with psycopg.connect(sync_url(url), autocommit=True) as connection:
            # Accounts point at people; a generated database owns all of them.
            existing = {
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            }
            wanted = [t for t in tables if t in existing]
            connection.execute(f"TRUNCATE {', '.join(wanted)} RESTART IDENTITY CASCADE")
    else:
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            # Passes and check-ins (issue 4) point at spaces and people: they go too.
            passes = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'pass%'"
                )
            ]
            for table in [*passes, *tables]:
                connection.execute(f"DELETE FROM {table}")


async def _rollups(url: str) -> None:
    db = Database(normalise_database_url(url))
    try:
        async with db.transaction() as session:
            if not db.is_sqlite:
                from sqlalchemy import text

                await session.execute(text("SET LOCAL work_mem = '256MB'"))
                await session.execute(text("SET LOCAL synchronous_commit = off"))
            await rebuild_rollups(session)
    finally:
        await db.dispose()


def has_table(url: str, name: str) -> bool:
    path = sqlite_path(url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            return connection.execute(query, (name,)).fetchone() is not None
    import psycopg

    with psycopg.connect(sync_url(url)) as connection:
        return connection.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None  # type: ignore[index]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names if the server does not have it yet."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    target = make_url(sync_url(url))
    admin = target.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not found:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database))
            )


def generate(url: str, scale: float, *, seed: int = 2023, log: Any = print) -> Generated:
    """Migrate `url`, replace its dataset by the one of `scale` and `seed`, build rollups."""
    start = time.perf_counter()
    sizes = Sizes.at(scale)
    if sqlite_path(url) is None:
        ensure_database(url)
    upgrade(normalise_database_url(url))
    _clear(url)
    rng = random.Random(seed)
    path = sqlite_path(url)
    loader: Loader = SqliteLoader(path) if path else PostgresLoader(url)

    def step(what: str, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        began = time.perf_counter()
        count = loader.copy(table, columns, rows)
        log(f"  {what:<12} {count:>11,} rows  {time.perf_counter() - began:7.1f} s")
        return count

    sites, rows, amenities, plans = site_rows(rng, sizes)
    step("sites", "sites", SITE_COLUMNS, rows)
    step("amenities", "site_amenities", AMENITY_COLUMNS, amenities)
    step("plans", "site_plans", PLAN_COLUMNS, plans)
    people, skills, memberships, homes = people_rows(rng, sizes, sites)
    step("people", "people", PERSON_COLUMNS, people)
    step("skills", "person_skills", SKILL_COLUMNS, skills)
    step("memberships", "memberships", MEMBERSHIP_COLUMNS, memberships)
    uses = step("uses", "uses", USE_COLUMNS, use_rows(rng, sizes, sites, homes))
    if has_table(url, "passes"):
        products, passes = pass_rows(rng, scale, homes)
        step("products", "pass_products", PRODUCT_COLUMNS, products)
        step("passes", "passes", PASS_COLUMNS, passes)
    loader.finish()
    began = time.perf_counter()
    asyncio.run(_rollups(url))
    log(f"  {'rollups':<12} {'':>16}  {time.perf_counter() - began:7.1f} s")
    return Generated(
        sites=len(sites),
        people=len(people),
        memberships=len(memberships),
        uses=uses,
        seconds=time.perf_counter() - start,
    )
