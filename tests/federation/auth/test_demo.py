"""The demo accounts sign in with the documented demo password and hold the documented roles."""

from __future__ import annotations

from federation.access import Role
from federation.auth import service
from federation.demo import load_demo
from federation.demo.auth import ACCOUNTS, DEMO_CLIENT_ID, DEMO_PASSWORD
from federation.demo.directory import demo_person_id
from tests.support import Hub


async def test_the_demo_accounts_sign_in_with_the_demo_password(hub: Hub) -> None:
    await load_demo(hub.db)
    async with hub.db.transaction() as session:
        found = {}
        for demo in ACCOUNTS:
            account = await service.sign_in(session, demo.email, DEMO_PASSWORD, ip="127.0.0.1")
            view = await service.describe_account(session, account.id)
            assert view is not None
            found[demo.email] = (view.subject.roles, view.managed_slugs, account.person_id)
        client = await service.find_client(session, DEMO_CLIENT_ID)
    assert found["coordination@demo.tiers-lieux.org"][0] == {Role.COORDINATOR}
    assert found["casaco@demo.tiers-lieux.org"][1] == ("casaco",)
    assert found["lille@demo.tiers-lieux.org"][1] == ("la-grappe", "mutualab")
    assert found["coworker@demo.tiers-lieux.org"][2] == demo_person_id(0)
    assert client is not None
    assert client.secret_hash is None  # public: PKCE only
