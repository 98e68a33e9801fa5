"""`me`, `updateMyProfile`, `exportMyData`, `deleteMyAccount` as a person uses them."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.access import Role, Viewer
from federation.auth.models import Account, TokenFamily
from federation.directory.models import Person, PersonSkill
from tests.factories import make_site
from tests.federation.auth.support import (
    MadeAccount,
    exchange,
    get_code,
    make_account,
    make_client,
    refresh,
)
from tests.support import Hub, count_statements


def viewer_of_account(account: MadeAccount, **extra: object) -> Viewer:
    return Viewer(person_id=account.person_id, roles=frozenset({Role.COWORKER}), **extra)  # type: ignore[arg-type]


async def test_me_is_the_signed_in_person_with_their_spaces(hub: Hub) -> None:
    for slug in ("la-grappe", "mutualab", "casaco"):
        await make_site(hub.db, slug)
    manager = await make_account(
        hub.db,
        "Lille@Example.org",
        role=Role.MANAGER,
        sites=["la-grappe", "mutualab"],
        name="Inès Lefebvre",
    )
    viewer = Viewer(
        person_id=manager.person_id, roles=frozenset({Role.MANAGER}), scopes=frozenset({"profile"})
    )
    with count_statements(hub.db) as log:
        data = await hub.data(
            "{ me { id email roles scopes managedSites { slug } "
            "profile { displayName visibility homeSite { slug } skills } } }",
            viewer=viewer,
        )
    assert data["me"] == {
        "id": str(manager.person_id),
        "email": "Lille@Example.org",
        "roles": ["MANAGER"],
        "scopes": ["profile"],
        "managedSites": [{"slug": "la-grappe"}, {"slug": "mutualab"}],
        "profile": {
            "displayName": "Inès Lefebvre",
            "visibility": "HIDDEN",  # a new account shows nothing until the person chooses
            "homeSite": {"slug": "la-grappe"},
            "skills": [],
        },
    }
    assert log.count <= 8


async def test_me_needs_the_profile_scope_and_a_person(hub: Hub) -> None:
    account = await make_account(hub.db)
    assert await hub.error_codes("{ me { id } }") == ["UNAUTHENTICATED"]
    no_scope = viewer_of_account(account, scopes=frozenset({"passes"}))
    assert await hub.error_codes("{ me { id } }", viewer=no_scope) == ["FORBIDDEN"]
    client = Viewer(client_id="tl_kiosk", client_site_id=1, scopes=frozenset({"profile"}))
    assert await hub.error_codes("{ me { id } }", viewer=client) == ["FORBIDDEN"]


async def test_update_my_profile_changes_only_what_is_given(hub: Hub) -> None:
    account = await make_account(hub.db, name="Camille Martin")
    viewer = viewer_of_account(account)
    mutation = """mutation($input: UpdateMyProfileInput!) {
        updateMyProfile(input: $input) { displayName profession bio skills visibility } }"""
    first = await hub.data(
        mutation,
        {
            "input": {
                "profession": "Graphiste",
                "skills": ["Illustration", "Typographie"],
                "visibility": "NETWORK",
            }
        },
        viewer=viewer,
    )
    assert first["updateMyProfile"] == {
        "displayName": "Camille Martin",
        "profession": "Graphiste",
        "bio": "",
        "skills": ["Illustration", "Typographie"],
        "visibility": "NETWORK",
    }
    second = await hub.data(mutation, {"input": {"bio": "Affiches et fanzines."}}, viewer=viewer)
    assert second["updateMyProfile"]["skills"] == ["Illustration", "Typographie"]
    assert second["updateMyProfile"]["bio"] == "Affiches et fanzines."
    listed = await hub.data(
        '{ members(skill: "typographie") { totalCount } }',
        viewer=Viewer(person_id=account.person_id),
    )
    assert listed["members"]["totalCount"] == 1


async def test_update_my_profile_refuses_bad_input_and_writes_nothing(hub: Hub) -> None:
    account = await make_account(hub.db, name="Camille Martin")
    viewer = viewer_of_account(account)
    mutation = """mutation($input: UpdateMyProfileInput!) {
        updateMyProfile(input: $input) { displayName } }"""
    codes = await hub.error_codes(
        mutation, {"input": {"displayName": " ", "profession": "Graphiste"}}, viewer=viewer
    )
    assert codes == ["BAD_USER_INPUT"]
    me = await hub.data("{ me { profile { displayName profession } } }", viewer=viewer)
    assert me["me"]["profile"] == {"displayName": "Camille Martin", "profession": ""}


async def test_export_my_data_holds_every_domain(hub: Hub) -> None:
    await make_site(hub.db, "casaco")
    account = await make_account(hub.db, role=Role.MANAGER, sites=["casaco"])
    client = await make_client(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    assert (await exchange(hub.http, client, code, verifier)).status_code == 200
    data = (await hub.data("{ exportMyData }", viewer=viewer_of_account(account)))["exportMyData"]
    assert data["person_id"] == str(account.person_id)
    directory, auth = data["data"]["directory"], data["data"]["auth"]
    assert directory["profile"]["display_name"] == "Camille Martin"
    assert directory["profile"]["home_site"] == "casaco"
    assert directory["skills"] == []
    assert auth["account"]["email"] == account.email
    assert auth["account"]["roles"] == ["manager"]
    assert auth["account"]["managed_sites"] == ["casaco"]
    assert auth["consents"][0]["client_id"] == client.client_id
    assert auth["authorizations"][0]["scope"] == "profile"
    assert "password_hash" not in str(data)


async def test_delete_my_account_erases_the_person_and_their_tokens(hub: Hub) -> None:
    account = await make_account(hub.db)
    other = await make_account(hub.db)
    client = await make_client(hub.db)
    code, verifier = await get_code(hub.http, client, account)
    tokens = (await exchange(hub.http, client, code, verifier)).json()
    viewer = viewer_of_account(account)
    mutation = "mutation($email: String!) { deleteMyAccount(confirmEmail: $email) }"
    assert await hub.error_codes(mutation, {"email": other.email}, viewer=viewer) == [
        "BAD_USER_INPUT"
    ]
    assert await hub.data(mutation, {"email": account.email.upper()}, viewer=viewer) == {
        "deleteMyAccount": True
    }
    async with hub.db.reading() as session:
        for model, column in [
            (Person, Person.id),
            (PersonSkill, PersonSkill.person_id),
            (Account, Account.person_id),
        ]:
            count = await session.scalar(
                select(func.count()).select_from(model).where(column == account.person_id)
            )
            assert count == 0, model
        assert await session.scalar(select(func.count()).select_from(TokenFamily)) == 0
        assert await session.get(Person, other.person_id) is not None
    assert (await refresh(hub.http, client, tokens["refresh_token"])).status_code == 400
    assert await hub.error_codes("{ me { id } }", viewer=viewer) == ["UNAUTHENTICATED"]
