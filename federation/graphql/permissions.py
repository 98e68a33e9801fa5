"""Who may resolve a field: Strawberry permission classes that raise the hub's coded errors.

Use them through `allow(...)`, which every protected field and mutation carries (the
authorization-matrix test finds protected fields by it):

    @strawberry.field(extensions=[allow(SignedIn(scope="profile"))])
    async def me(self, info: Info) -> Me: ...

    # `site_of_slug_arg` is the domain's: it maps the `site` argument to a space id
    # (e.g. through the directory's sites_by_slug loader).
    @strawberry.mutation(extensions=[allow(ManagesSite(site_of_slug_arg, scope="events"))])
    async def create_event(self, info: Info, site: str, ...) -> Event: ...

Anonymous viewers get UNAUTHENTICATED; signed-in viewers (or clients) who may not get
FORBIDDEN. Scopes are checked too: a first-party session (scopes None) has them all.
Rules listed together must all pass.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from federation.access import Viewer
from federation.errors import Forbidden, Unauthenticated
from federation.graphql.context import Info

# Which space a field is about: an id from the parent object or the arguments (possibly
# looked up, hence awaitable). None means "no such space": the rule then refuses.
SiteOf = Callable[[Any, Info, dict[str, Any]], "int | Awaitable[int | None] | None"]


def allow(*rules: Rule) -> PermissionExtension:
    """The field extension that applies `rules` (all must pass)."""
    return PermissionExtension(permissions=list(rules), use_directives=False)


def _signed_in(viewer: Viewer) -> None:
    if viewer.is_anonymous:
        raise Unauthenticated("sign in first")


def _scope(viewer: Viewer, scope: str | None) -> None:
    if scope is not None:
        viewer.require_scope(scope)


class Rule(BasePermission):
    """Base of the hub's rules: `check` raises a coded error or returns."""

    def __init__(self, *, scope: str | None = None) -> None:
        self.scope = scope

    def check(self, viewer: Viewer) -> None:
        _signed_in(viewer)
        _scope(viewer, self.scope)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        self.check(info.context.viewer)
        return True

    def describe(self) -> str:
        """One line for documentation and test failure messages."""
        scope = f" with scope {self.scope}" if self.scope else ""
        return f"{type(self).__name__}{scope}"


class Authenticated(Rule):
    """Any signed-in person or client (with the scope, if one is named)."""


class SignedIn(Rule):
    """A signed-in person (a client acting as itself is not one)."""

    def check(self, viewer: Viewer) -> None:
        _signed_in(viewer)
        if not viewer.is_person:
            raise Forbidden("only a signed-in person can do this, not a client acting alone")
        _scope(viewer, self.scope)


class Coordinator(Rule):
    """A network coordinator."""

    def check(self, viewer: Viewer) -> None:
        _signed_in(viewer)
        if not viewer.is_coordinator:
            raise Forbidden("only the network's coordinators can do this")
        _scope(viewer, self.scope)


class ManagesSite(Rule):
    """A manager of the space the field is about; also, if allowed, a coordinator, or that
    space's own software (a client-credentials token bound to it)."""

    def __init__(
        self,
        site: SiteOf,
        *,
        scope: str | None = None,
        coordinators: bool = True,
        space_clients: bool = False,
    ) -> None:
        super().__init__(scope=scope)
        self.site = site
        self.coordinators = coordinators
        self.space_clients = space_clients

    async def has_permission(  # type: ignore[override]
        self, source: Any, info: Info, **kwargs: Any
    ) -> bool:
        viewer = info.context.viewer
        _signed_in(viewer)
        found = self.site(source, info, kwargs)
        site_id = await found if inspect.isawaitable(found) else found
        allowed = site_id is not None and (
            viewer.manages(site_id)
            or (self.coordinators and viewer.is_coordinator)
            or (self.space_clients and viewer.client_site_id == site_id)
        )
        if not allowed:
            raise Forbidden("only this space's managers can do this")
        _scope(viewer, self.scope)
        return True


def site_attr(name: str = "site_id") -> SiteOf:
    """The space id held by the parent object's attribute `name` (e.g. a Site's db_id)."""

    def site_of(source: Any, info: Info, args: dict[str, Any]) -> int | None:
        value = getattr(source, name, None)
        return value if isinstance(value, int) else None

    return site_of
