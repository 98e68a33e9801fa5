"""`make_*` helpers: explicit test data, written through the services like real data is."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from federation.db import Database
from federation.directory import models
from federation.directory.models import Amenity, LegalForm, PlanUnit, Visibility
from federation.directory.service import PlanLine, ProfileData, SiteProfile, save_person, save_site

_numbers = itertools.count(1)


async def make_site(db: Database, slug: str | None = None, **overrides: Any) -> models.Site:
    number = next(_numbers)
    profile = SiteProfile(
        slug=slug or f"space-{number}",
        name=overrides.pop("name", f"Space {number}"),
        legal_form=overrides.pop("legal_form", LegalForm.ASSOCIATION),
        address=overrides.pop("address", f"{number} rue de la Coopération"),
        postcode=overrides.pop("postcode", "75011"),
        city=overrides.pop("city", "Paris"),
        region=overrides.pop("region", "Île-de-France"),
        lat=overrides.pop("lat", 48.85),
        lon=overrides.pop("lon", 2.35),
        joined_at=overrides.pop("joined_at", date(2020, 1, 1)),
        desks=overrides.pop("desks", 20),
        amenities=overrides.pop("amenities", [Amenity.OPEN_SPACE]),
        plans=overrides.pop(
            "plans",
            [PlanLine("Journée", 1500, PlanUnit.DAY), PlanLine("Mois", 20000, PlanUnit.MONTH)],
        ),
        **overrides,
    )
    async with db.transaction() as session:
        site, _ = await save_site(session, profile)
    return site


async def make_person(
    db: Database,
    name: str = "Camille Martin",
    *,
    home: models.Site | None = None,
    visibility: Visibility = Visibility.NETWORK,
    profession: str = "Graphiste",
    skills: tuple[str, ...] = ("Illustration",),
    bio: str = "",
) -> models.Person:
    data = ProfileData(
        display_name=name,
        profession=profession,
        bio=bio,
        skills=skills,
        visibility=visibility,
        home_site_id=home.id if home is not None else None,
    )
    async with db.transaction() as session:
        return await save_person(session, data, person_id=uuid.uuid4())
