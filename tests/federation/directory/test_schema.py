"""The directory through GraphQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from federation.access import Viewer
from federation.directory.models import Amenity, PlanUnit, Visibility
from federation.directory.service import PlanLine
from tests.factories import make_person, make_site
from tests.support import Hub, count_statements

SITES = """
query Sites($first: Int, $after: String, $search: String, $city: String, $region: String,
            $amenity: Amenity, $near: NearInput) {
  sites(first: $first, after: $after, search: $search, city: $city, region: $region,
        amenity: $amenity, near: $near) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { slug name city plans { name priceCents vatRate unit quantity } amenities }
    }
  }
}
"""


def slugs(data: dict) -> list[str]:
    return [edge["node"]["slug"] for edge in data["sites"]["edges"]]


async def test_a_space_shows_its_profile_plans_and_amenities(hub: Hub) -> None:
    await make_site(
        hub.db,
        "casaco",
        name="Casaco",
        city="Malakoff",
        postcode="92240",
        surface_m2=460,
        desks=45,
        amenities=[Amenity.GARDEN, Amenity.FABLAB],
        plans=[PlanLine("Coworking régulier", 25000, PlanUnit.MONTH)],
        opening_hours=[{"day": "MO", "opens": "09:00", "closes": "19:00"}],
    )
    data = await hub.data(
        """{ site(slug: "casaco") { slug name city postcode surfaceM2 desks amenities
             coordinates { lat lon } openingHours { day opens closes }
             plans { name priceCents vatRate unit quantity } acceptsNetworkPasses joinedAt } }"""
    )
    site = data["site"]
    assert site["name"] == "Casaco"
    assert (site["city"], site["postcode"], site["surfaceM2"], site["desks"]) == (
        "Malakoff",
        "92240",
        460,
        45,
    )
    assert sorted(site["amenities"]) == ["FABLAB", "GARDEN"]
    assert site["plans"] == [
        {
            "name": "Coworking régulier",
            "priceCents": 25000,
            "vatRate": 20.0,
            "unit": "MONTH",
            "quantity": 1,
        }
    ]
    assert site["openingHours"] == [{"day": "MONDAY", "opens": "09:00", "closes": "19:00"}]
    assert site["acceptsNetworkPasses"] is True


async def test_an_unknown_slug_is_null_without_error(hub: Hub) -> None:
    body = await hub.graphql('{ site(slug: "nowhere") { slug } }')
    assert body == {"data": {"site": None}}


async def test_pagination_walks_every_space_exactly_once(hub: Hub) -> None:
    for i in range(23):
        # Names that fold to the same key order by id, so ties cannot make a page skip.
        await make_site(
            hub.db, f"space-{i:02d}", name="Espace" if i % 3 == 0 else f"Espace {i:02d}"
        )
    seen: list[str] = []
    after = None
    while True:
        data = await hub.data(SITES, {"first": 5, "after": after})
        seen += slugs(data)
        assert data["sites"]["totalCount"] == 23
        if not data["sites"]["pageInfo"]["hasNextPage"]:
            break
        after = data["sites"]["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(f"space-{i:02d}" for i in range(23))
    assert len(seen) == len(set(seen))


async def test_search_ignores_accents_and_case_and_treats_sql_as_text(hub: Hub) -> None:
    await make_site(
        hub.db, "la-fontaine", name="La Fontaine", city="Agen", region="Nouvelle-Aquitaine"
    )
    await make_site(hub.db, "casaco", name="Casaco", city="Malakoff")
    assert slugs(await hub.data(SITES, {"search": "fontaine AGEN"})) == ["la-fontaine"]
    assert slugs(await hub.data(SITES, {"search": "fontàine"})) == ["la-fontaine"]
    for hostile in ["'; DROP TABLE sites; --", '" OR 1=1 --', "100%", "_", "\\"]:
        assert slugs(await hub.data(SITES, {"search": hostile})) == []
    assert (await hub.data(SITES, {}))["sites"]["totalCount"] == 2


async def test_city_region_and_amenity_filters_combine(hub: Hub) -> None:
    await make_site(hub.db, "casaco", city="Malakoff", amenities=[Amenity.GARDEN])
    await make_site(
        hub.db, "la-grappe", city="Lille", region="Hauts-de-France", amenities=[Amenity.GARDEN]
    )
    await make_site(
        hub.db, "mutualab", city="Lille", region="Hauts-de-France", amenities=[Amenity.KITCHEN]
    )
    assert slugs(await hub.data(SITES, {"city": "lille"})) == ["la-grappe", "mutualab"]
    assert slugs(await hub.data(SITES, {"region": "hauts de france", "amenity": "GARDEN"})) == [
        "la-grappe"
    ]
    assert slugs(await hub.data(SITES, {"region": "Île-de-France"})) == ["casaco"]


async def test_an_unknown_region_is_bad_user_input(hub: Hub) -> None:
    assert await hub.error_codes(SITES, {"region": "Atlantis"}) == ["BAD_USER_INPUT"]


async def test_near_lists_spaces_within_the_radius_nearest_first(hub: Hub) -> None:
    await make_site(hub.db, "la-grappe", lat=50.6296, lon=3.0553)  # Lille centre
    await make_site(hub.db, "co-factory", lat=50.6920, lon=3.1740)  # Roubaix, ~11 km
    await make_site(hub.db, "casaco", lat=48.8190, lon=2.3003)  # Malakoff, ~205 km
    lille = {"lat": 50.6292, "lon": 3.0573}
    data = await hub.data(SITES, {"near": {**lille, "radiusKm": 20}})
    assert slugs(data) == ["la-grappe", "co-factory"]
    assert data["sites"]["totalCount"] == 2
    walked, after = [], None
    while True:
        page = await hub.data(
            SITES, {"near": {**lille, "radiusKm": 300}, "first": 1, "after": after}
        )
        walked += slugs(page)
        if not page["sites"]["pageInfo"]["hasNextPage"]:
            break
        after = page["sites"]["pageInfo"]["endCursor"]
    assert walked == ["la-grappe", "co-factory", "casaco"]


@pytest.mark.parametrize(
    "variables",
    [
        {"first": -1},
        {"first": 101},
        {"after": "not-a-cursor"},
        {"after": "YWJj"},  # valid base64, not ours
        {"near": {"lat": 48.8, "lon": 2.3, "radiusKm": 0}},
        {"near": {"lat": 48.8, "lon": 2.3, "radiusKm": -5}},
        {"near": {"lat": 91, "lon": 2.3, "radiusKm": 5}},
    ],
)
async def test_bad_arguments_are_bad_user_input(hub: Hub, variables: dict) -> None:
    await make_site(hub.db, "casaco")
    assert await hub.error_codes(SITES, variables) == ["BAD_USER_INPUT"]


async def test_a_cursor_from_another_list_is_bad_user_input(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    await make_site(hub.db, "mutualab")
    near = {"lat": 48.8, "lon": 2.3, "radiusKm": 50}
    cursor = (await hub.data(SITES, {"first": 1, "near": near}))["sites"]["pageInfo"]["endCursor"]
    assert await hub.error_codes(SITES, {"after": cursor}) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("page_size", [10, 50])
async def test_listing_spaces_with_plans_and_amenities_takes_four_statements(
    hub: Hub, page_size: int
) -> None:
    for i in range(50):
        await make_site(hub.db, f"space-{i:02d}", amenities=[Amenity.OPEN_SPACE, Amenity.GARDEN])
    with count_statements(hub.db) as log:
        data = await hub.data(SITES, {"first": page_size})
    assert len(data["sites"]["edges"]) == page_size
    assert all(len(edge["node"]["plans"]) == 2 for edge in data["sites"]["edges"])
    # An anonymous miss also reads the public-read cache's data versions (one statement).
    assert log.count <= 5, log.statements
    assert sum("data_versions" not in sql for sql in log.statements) <= 4, log.statements


MEMBERS = """
query Members($search: String, $skill: String, $site: String, $first: Int, $after: String) {
  members(search: $search, skill: $skill, site: $site, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { displayName profession skills bio homeSite { slug } } }
  }
}
"""


def names(data: dict) -> list[str]:
    return [edge["node"]["displayName"] for edge in data["members"]["edges"]]


async def test_members_are_found_by_skill_words_and_home_space(hub: Hub) -> None:
    casaco = await make_site(hub.db, "casaco")
    agen = await make_site(hub.db, "la-fontaine")
    await make_person(
        hub.db,
        "Léa Dubois",
        home=casaco,
        visibility=Visibility.PUBLIC,
        profession="Développeuse web",
        skills=("Python", "Accessibilité numérique"),
    )
    await make_person(
        hub.db,
        "Hugo Martin",
        home=agen,
        visibility=Visibility.PUBLIC,
        profession="Graphiste",
        skills=("Illustration",),
    )
    assert names(await hub.data(MEMBERS, {"skill": "python"})) == ["Léa Dubois"]
    assert names(await hub.data(MEMBERS, {"skill": "accessibilite numerique"})) == ["Léa Dubois"]
    assert names(await hub.data(MEMBERS, {"search": "graphiste"})) == ["Hugo Martin"]
    assert names(await hub.data(MEMBERS, {"site": "la-fontaine"})) == ["Hugo Martin"]
    member = (await hub.data(MEMBERS, {"skill": "python"}))["members"]["edges"][0]["node"]
    assert member["skills"] == ["Python", "Accessibilité numérique"]
    assert member["homeSite"] == {"slug": "casaco"}
    assert await hub.error_codes(MEMBERS, {"site": "atlantis"}) == ["BAD_USER_INPUT"]


async def test_members_pagination_walks_everyone_exactly_once(hub: Hub) -> None:
    for i in range(12):
        await make_person(
            hub.db, "Camille Martin" if i % 2 else f"Person {i:02d}", visibility=Visibility.PUBLIC
        )
    seen, after = 0, None
    while True:
        data = await hub.data(MEMBERS, {"first": 5, "after": after})
        seen += len(data["members"]["edges"])
        if not data["members"]["pageInfo"]["hasNextPage"]:
            break
        after = data["members"]["pageInfo"]["endCursor"]
    assert seen == 12


async def test_listing_members_with_skills_and_home_spaces_has_bounded_statements(hub: Hub) -> None:
    homes = [await make_site(hub.db, f"space-{i}") for i in range(5)]
    for i in range(40):
        await make_person(
            hub.db,
            f"Person {i:02d}",
            home=homes[i % 5],
            visibility=Visibility.PUBLIC,
            skills=("Python", f"Skill {i}"),
        )
    with count_statements(hub.db) as log:
        data = await hub.data(MEMBERS, {"first": 40})
    assert len(data["members"]["edges"]) == 40
    # count, page, skills, home spaces; an anonymous miss also reads the data versions.
    assert log.count <= 5, log.statements
    assert sum("data_versions" not in sql for sql in log.statements) <= 4, log.statements


# The visibility matrix: who sees whom in `members`.
VIEWERS = ["anonymous", "signed_in_elsewhere", "same_space"]
EXPECTED = {
    Visibility.PUBLIC: {"anonymous": True, "signed_in_elsewhere": True, "same_space": True},
    Visibility.NETWORK: {"anonymous": False, "signed_in_elsewhere": True, "same_space": True},
    Visibility.SITE: {"anonymous": False, "signed_in_elsewhere": False, "same_space": True},
    Visibility.HIDDEN: {"anonymous": False, "signed_in_elsewhere": False, "same_space": False},
}


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("viewer_kind", VIEWERS)
async def test_visibility_decides_who_sees_a_profile(
    hub: Hub, visibility: Visibility, viewer_kind: str
) -> None:
    casaco = await make_site(hub.db, "casaco")
    agen = await make_site(hub.db, "la-fontaine")
    await make_person(hub.db, "Alice Profile", home=casaco, visibility=visibility)
    viewer = {
        "anonymous": Viewer(),
        "signed_in_elsewhere": Viewer(
            person_id=(await make_person(hub.db, "Zoé Agen", home=agen)).id, home_site_id=agen.id
        ),
        "same_space": Viewer(
            person_id=(await make_person(hub.db, "Zoé Casaco", home=casaco)).id,
            home_site_id=casaco.id,
        ),
    }[viewer_kind]
    data = await hub.data(MEMBERS, {"search": "alice profile"}, viewer=viewer)
    assert (names(data) == ["Alice Profile"]) is EXPECTED[visibility][viewer_kind]
    assert data["members"]["totalCount"] == (1 if EXPECTED[visibility][viewer_kind] else 0)


async def test_a_person_sees_their_own_visibility_and_others_do_not(hub: Hub) -> None:
    me = await make_person(hub.db, "Moi Même", visibility=Visibility.SITE)
    other = await make_person(hub.db, "Autre Personne", visibility=Visibility.PUBLIC)
    query = "{ members { edges { node { displayName visibility } } } }"
    data = await hub.data(query, viewer=Viewer(person_id=me.id))
    seen = {e["node"]["displayName"]: e["node"]["visibility"] for e in data["members"]["edges"]}
    assert seen == {"Moi Même": "SITE", "Autre Personne": None}
    assert other.visibility is Visibility.PUBLIC
