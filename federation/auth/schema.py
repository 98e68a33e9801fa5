"""Auth GraphQL: `me`, and the person's own profile and data. Thin resolvers."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from federation.auth import service
from federation.auth.types import Me, UpdateMyProfileInput
from federation.directory.types import Person
from federation.graphql.context import Info
from federation.graphql.permissions import SignedIn, allow


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in person. Needs the `profile` scope.",
        extensions=[allow(SignedIn(scope="profile"))],
    )
    async def me(self, info: Info) -> Me:
        viewer = info.context.viewer
        async with info.context.reading() as session:
            view, person = await service.me(session, viewer.require_person())
        return Me.from_model(view, person, viewer.scopes)

    @strawberry.field(
        description="Everything the hub holds about you, domain by domain, as JSON. "
        "Needs the `profile` scope.",
        extensions=[allow(SignedIn(scope="profile"))],
    )
    async def export_my_data(self, info: Info) -> JSON:
        person_id = info.context.viewer.require_person()
        async with info.context.reading() as session:
            data: dict[str, Any] = await service.export_my_data(session, person_id)
        return cast("JSON", data)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Change what you show in the directory. Needs the `profile` scope.",
        extensions=[allow(SignedIn(scope="profile"))],
    )
    async def update_my_profile(self, info: Info, input: UpdateMyProfileInput) -> Person:
        person_id = info.context.viewer.require_person()
        async with info.context.transaction() as session:
            person = await service.update_my_profile(session, person_id, input.changes())
        return Person.from_model(person)

    @strawberry.mutation(
        description="Erase your account and profile for good; only anonymous counts remain. "
        "Confirm with the address you sign in with. Needs the `profile` scope.",
        extensions=[allow(SignedIn(scope="profile"))],
    )
    async def delete_my_account(self, info: Info, confirm_email: str) -> bool:
        person_id = info.context.viewer.require_person()
        async with info.context.transaction() as session:
            await service.delete_my_account(session, person_id, confirm_email=confirm_email)
        return True
