"""Demo accounts and a demo OAuth client. FOR THE DEMO ONLY: the password is public.

Every account signs in with DEMO_PASSWORD:
- coordination@demo.tiers-lieux.org  coordinator of the network
- casaco@demo.tiers-lieux.org        manager of Casaco
- lille@demo.tiers-lieux.org         manager of La Grappe and Mutualab
- coworker@demo.tiers-lieux.org      a coworker of Casaco, linked to a demo person

and a public client `tl-demo-app` (authorization code + PKCE, redirect URI
http://127.0.0.1:8765/callback) lets anyone try the sign-in flow with a stock client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.access import Role
from federation.auth import service
from federation.auth.models import Account, GrantKind, OAuthClient
from federation.demo.directory import DEMO_NAMESPACE, demo_person_id
from federation.directory.models import Visibility
from federation.directory.service import ProfileData, save_person

DEMO_PASSWORD = "tiers-lieux-demo"  # noqa: S105 (public on purpose: demo only)
DEMO_CLIENT_ID = "tl-demo-app"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    role: Role
    sites: tuple[str, ...]
    name: str | None  # None: the account of an existing demo person
    person_index: int | None = None


ACCOUNTS = (
    DemoAccount(
        "coordination@demo.tiers-lieux.org", Role.COORDINATOR, (), "Coordination du réseau"
    ),
    DemoAccount("casaco@demo.tiers-lieux.org", Role.MANAGER, ("casaco",), "Accueil Casaco"),
    DemoAccount(
        "lille@demo.tiers-lieux.org",
        Role.MANAGER,
        ("la-grappe", "mutualab"),
        "Coordination lilloise",
    ),
    DemoAccount("coworker@demo.tiers-lieux.org", Role.COWORKER, (), None, person_index=0),
)


def _staff_person_id(email: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"account-{email}")


async def load(session: AsyncSession, site_ids: dict[str, int]) -> None:
    """The demo accounts and client, created once; a second run changes nothing."""
    for demo in ACCOUNTS:
        exists = await session.scalar(
            select(Account.id).where(Account.email_key == service.email_key(demo.email))
        )
        if exists is not None:
            continue
        if demo.person_index is not None:
            person_id = demo_person_id(demo.person_index)
        else:
            assert demo.name is not None
            person_id = _staff_person_id(demo.email)
            home = site_ids[demo.sites[0]] if demo.sites else None
            await save_person(
                session,
                ProfileData(
                    display_name=demo.name,
                    profession="Animation de tiers-lieux",
                    visibility=Visibility.NETWORK,
                    home_site_id=home,
                ),
                person_id=person_id,
            )
        await service.create_account(
            session,
            service.NewAccount(
                email=demo.email,
                display_name=demo.name or "",
                password=DEMO_PASSWORD,
                role=demo.role,
                site_slugs=demo.sites,
                person_id=person_id,
            ),
        )
    if await session.get(OAuthClient, DEMO_CLIENT_ID) is None:
        await service.create_client(
            session,
            service.NewClient(
                name="Application de démonstration",
                grant=GrantKind.AUTHORIZATION_CODE,
                scope="profile passes events",
                redirect_uris=[DEMO_REDIRECT_URI],
                public=True,
                client_id=DEMO_CLIENT_ID,
            ),
            allow_insecure_http=False,
        )
