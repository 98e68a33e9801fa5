"""Calendar GraphQL: thin resolvers, arguments -> one service call -> types."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from federation.calendar import models, service
from federation.calendar.inputs import CreateEventInput, UpdateEventInput
from federation.calendar.types import CalendarFeed, Event, Registration
from federation.graphql.context import Info
from federation.graphql.permissions import SignedIn, allow
from federation.graphql.relay import Connection, page_request
from federation.kit.clock import utcnow

EDITS = allow(SignedIn(scope="events"))


def _event(row: tuple[models.Occurrence, models.Event]) -> Event:
    return Event.from_model(*row)


@strawberry.type
class Query:
    @strawberry.field(
        description="Occurrences starting in [from, to) (at most 366 days; by default the "
        "next 31 days), by start, that you may see."
    )
    async def events(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        site: str | None = None,
        region: str | None = None,
        category: models.Category | None = None,
        audience: models.Audience | None = None,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Event]:
        page = page_request(info, first, after)
        start = from_ or utcnow()
        end = to or start + timedelta(days=31)
        filters = service.EventFilter(
            site=site, region=region, category=category, audience=audience, search=search
        )
        async with info.context.reading() as session:
            found = await service.list_occurrences(
                session, info.context.viewer, start=start, end=end, filters=filters, page=page
            )
        return Connection.of(found, _event, after=after)

    @strawberry.field(description="One occurrence by id; NOT_FOUND if unknown or not yours to see.")
    async def event(self, info: Info, id: strawberry.ID) -> Event:
        async with info.context.reading() as session:
            row = await service.get_occurrence(session, info.context.viewer, str(id))
        return _event(row)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Publish an event: a manager of `site`, or a coordinator (who alone "
        "publishes network events, `site` null). Needs the `events` scope.",
        extensions=[EDITS],
    )
    async def create_event(self, info: Info, input: CreateEventInput) -> Event:
        data, location_site = input.to_data()
        async with info.context.transaction() as session:
            row = await service.create_event(
                session,
                info.context.viewer,
                site=input.site,
                data=data,
                location_site=location_site,
            )
        return _event(row)

    @strawberry.mutation(
        description="Change the event (the whole series) this occurrence belongs to.",
        extensions=[EDITS],
    )
    async def update_event(self, info: Info, id: strawberry.ID, input: UpdateEventInput) -> Event:
        changes, location_site = input.changes()
        async with info.context.transaction() as session:
            row = await service.update_event(
                session, info.context.viewer, str(id), changes, location_site=location_site
            )
        return _event(row)

    @strawberry.mutation(
        description="Cancel the event (or only this occurrence); it stays listed as CANCELLED.",
        extensions=[EDITS],
    )
    async def cancel_event(
        self, info: Info, id: strawberry.ID, only_this_occurrence: bool = False
    ) -> Event:
        async with info.context.transaction() as session:
            row = await service.cancel_event(
                session, info.context.viewer, str(id), only_this_occurrence=only_this_occurrence
            )
        return _event(row)

    @strawberry.mutation(
        description="Register for an occurrence: CONFIRMED while there is room, WAITLISTED "
        "after. Registering again returns the registration unchanged.",
        extensions=[allow(SignedIn(scope="events"))],
    )
    async def register_for_event(self, info: Info, event_id: strawberry.ID) -> Registration:
        async with info.context.transaction() as session:
            registration, occurrence, event = await service.register_for_event(
                session, info.context.viewer, str(event_id)
            )
        return Registration.of(registration, Event.from_model(occurrence, event))

    @strawberry.mutation(
        description="Withdraw; your place goes to the first person waiting.",
        extensions=[allow(SignedIn(scope="events"))],
    )
    async def cancel_registration(self, info: Info, event_id: strawberry.ID) -> Registration:
        async with info.context.transaction() as session:
            registration, occurrence, event = await service.cancel_registration(
                session, info.context.viewer, str(event_id)
            )
        return Registration.of(registration, Event.from_model(occurrence, event))

    @strawberry.mutation(
        description="A new secret URL for your private feed of registrations; the old one "
        "stops working.",
        extensions=[allow(SignedIn(scope="events"))],
    )
    async def reset_my_calendar_feed(self, info: Info) -> CalendarFeed:
        person_id = info.context.viewer.require_person()
        async with info.context.transaction() as session:
            token = await service.reset_feed_token(session, person_id)
        base = info.context.settings.base_url.rstrip("/")
        return CalendarFeed(url=f"{base}/calendar/feeds/{token}.ics")
