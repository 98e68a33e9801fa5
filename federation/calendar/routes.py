"""iCalendar feeds: `/calendar.ics` (filters `site`, `category`, `region`, `from`, `to`),
`/sites/{slug}/calendar.ics`, and a person's private feed at a secret URL.

Calendar apps poll: every feed answers with an ETag and Last-Modified, and 304 when
nothing changed. A feed is streamed from one server-side cursor, a chunk of stored
VEVENTs at a time, never built whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from federation.access import Viewer, viewer_of
from federation.calendar import ics, service
from federation.calendar.models import Category
from federation.calendar.recurrence import DEFAULT_TIMEZONE
from federation.db import Database
from federation.errors import BadUserInput, NotFound
from federation.kit.clock import PARIS, utcnow

MEDIA_TYPE = "text/calendar; charset=utf-8"
# By default a feed holds three months back and the rest of a year ahead.
DEFAULT_PAST_DAYS = 90


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(
            f"`{name}` must be a date, YYYY-MM-DD (got {value!r})", argument=name
        ) from None


def _category(request: Request) -> Category | None:
    value = request.query_params.get("category")
    if not value:
        return None
    try:
        return Category(value.upper())
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        raise BadUserInput(
            f"unknown category {value!r}: one of {choices}", argument="category"
        ) from None


def _feed_request(request: Request, site: str | None) -> service.FeedRequest:
    first = _day(request, "from")
    last = _day(request, "to")
    today = datetime.now(PARIS).date()
    first = first or today - timedelta(days=DEFAULT_PAST_DAYS)
    last = last or first + timedelta(days=service.MAX_RANGE_DAYS)
    start, end = service.check_range(
        datetime.combine(first, time(), PARIS), datetime.combine(last, time(), PARIS)
    )
    filters = service.EventFilter(
        site=site or request.query_params.get("site") or None,
        region=request.query_params.get("region") or None,
        category=_category(request),
    )
    return service.FeedRequest(filters=filters, start=start, end=end)


def _audience_key(viewer: Viewer) -> str:
    if viewer.is_coordinator:
        return "all"
    if viewer.is_anonymous:
        return "public"
    return "network:" + ",".join(str(i) for i in sorted(service.member_site_ids(viewer)))


def _not_modified(request: Request, etag: str, last: datetime | None) -> bool:
    given = request.headers.get("if-none-match")
    if given is not None:
        return etag in {tag.strip() for tag in given.split(",")} or given.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and last is not None:
        try:
            return last.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _cache_headers(etag: str, last: datetime | None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if last is not None:
        headers["Last-Modified"] = format_datetime(last.astimezone(UTC), usegmt=True)
    return headers


async def _feed(request: Request, *, site: str | None, name: str) -> Response:
    viewer = await viewer_of(request)
    feed = _feed_request(request, site)
    db: Database = request.app.state.db
    async with db.reading() as session:
        if site is not None and await service.site_exists(session, site) is False:
            raise NotFound(f"no space {site!r}")
        summary = await service.feed_summary(session, viewer, feed)
    fingerprint = "|".join(
        [
            str(request.url.path),
            str(sorted(request.query_params.multi_items())),
            _audience_key(viewer),
            str(summary.count),
            summary.last_revised.isoformat() if summary.last_revised else "-",
        ]
    )
    etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
    headers = _cache_headers(etag, summary.last_revised)
    if _not_modified(request, etag, summary.last_revised):
        return Response(status_code=304, headers=headers)

    async def body() -> AsyncIterator[bytes]:
        yield ics.header(name, summary.timezones or [DEFAULT_TIMEZONE])
        async with db.reading() as reading:
            async for text in service.feed_events(reading, viewer, feed):
                yield text.encode()
        yield ics.FOOTER

    return StreamingResponse(body(), media_type=MEDIA_TYPE, headers=headers)


async def network_feed(request: Request) -> Response:
    return await _feed(request, site=None, name="Tiers-lieux : agenda du réseau")


async def site_feed(request: Request) -> Response:
    slug = request.path_params["slug"]
    return await _feed(request, site=slug, name=f"Tiers-lieux : agenda de {slug}")


async def person_feed(request: Request) -> Response:
    token = request.path_params["token"]
    db: Database = request.app.state.db
    async with db.reading() as session:
        person_id = await service.person_of_feed_token(session, token)
        if person_id is None:
            raise NotFound("no such feed (its address may have been reset)")
        since = utcnow() - timedelta(days=DEFAULT_PAST_DAYS)
        rows, sites = await service.person_feed(session, person_id, since=since)
    zones = {event.timezone for _, _, event in rows} or {DEFAULT_TIMEZONE}
    content = (
        ics.header("Tiers-lieux : mes inscriptions", zones)
        + ics.to_ical(ics.registration_component(r, o, e, sites) for r, o, e in rows)
        + ics.FOOTER
    )
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    stamps = [max(e.revised_at, r.updated_at) for r, _, e in rows]
    last = max(stamps) if stamps else None
    headers = _cache_headers(etag, last)
    headers["Referrer-Policy"] = "no-referrer"
    if _not_modified(request, etag, last):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=MEDIA_TYPE, headers=headers)


ROUTES = [
    Route("/calendar.ics", network_feed, methods=["GET"]),
    Route("/sites/{slug}/calendar.ics", site_feed, methods=["GET"]),
    Route("/calendar/feeds/{token}.ics", person_feed, methods=["GET"]),
]
