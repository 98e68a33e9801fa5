"""Auth GraphQL types: the signed-in person (`me`) and the profile changes they may make."""

from __future__ import annotations

import uuid

import strawberry

from federation.access import Role
from federation.auth import service
from federation.directory import models as directory_models
from federation.directory.types import Person, Site, load_site
from federation.graphql.context import Info

strawberry.enum(
    Role,
    description="What a person does in the network: COWORKER, MANAGER (of given spaces), "
    "COORDINATOR (of the whole network).",
)


@strawberry.type(description="The signed-in person: their account, roles and profile.")
class Me:
    id: uuid.UUID = strawberry.field(description="The person's id (the `sub` of their tokens).")
    email: str
    roles: list[Role]
    profile: Person = strawberry.field(description="What the person shows in the directory.")
    scopes: list[str] | None = strawberry.field(
        description="What the token in use allows; null for a first-party session (all)."
    )
    managed_site_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The spaces this person manages.")
    async def managed_sites(self, info: Info) -> list[Site]:
        sites = [await load_site(info, site_id) for site_id in self.managed_site_ids]
        return [site for site in sites if site is not None]

    @classmethod
    def from_model(
        cls,
        view: service.AccountView,
        person: directory_models.Person,
        scopes: frozenset[str] | None,
    ) -> Me:
        return cls(
            id=person.id,
            email=view.account.email,
            roles=sorted(view.subject.roles, key=lambda role: role.value),
            profile=Person.from_model(person),
            scopes=sorted(scopes) if scopes is not None else None,
            managed_site_ids=sorted(view.subject.managed_site_ids),
        )


@strawberry.input(description="What to change in your profile; fields left out stay as they are.")
class UpdateMyProfileInput:
    display_name: str | None = None
    profession: str | None = None
    skills: list[str] | None = None
    bio: str | None = None
    visibility: directory_models.Visibility | None = None

    def changes(self) -> service.ProfileChanges:
        return service.ProfileChanges(
            display_name=self.display_name,
            profession=self.profession,
            bio=self.bio,
            skills=self.skills,
            visibility=self.visibility,
        )
