"""iCalendar (RFC 5545) output, made with the icalendar library, without I/O.

A series is one VEVENT with its RRULE, EXDATE and RDATE, plus one VEVENT per overridden
occurrence (same UID, RECURRENCE-ID): never flattened, so a calendar app keeps one series.
DTSTAMP is the event's last revision (not "now"), so a feed read twice is byte-identical
and clients see changes only when there are some; SEQUENCE rises on significant changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent
from icalendar.prop import vRecur

from federation.calendar.models import (
    Event,
    EventOverride,
    EventStatus,
    Occurrence,
    Registration,
    RegistrationStatus,
)
from federation.calendar.recurrence import zone
from federation.directory.models import Site

PRODID = "-//Collectif des Tiers-Lieux//Federation Hub//FR"
_STATUS = {
    EventStatus.CONFIRMED: "CONFIRMED",
    EventStatus.FULL: "CONFIRMED",
    EventStatus.POSTPONED: "TENTATIVE",
    EventStatus.CANCELLED: "CANCELLED",
}


def header(name: str, timezones: Iterable[str]) -> bytes:
    """BEGIN:VCALENDAR, its properties and a VTIMEZONE for every TZID the feed uses."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for tzid in sorted(set(timezones)):
        calendar.add_component(Timezone.from_tzid(tzid))
    text: bytes = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert text.endswith(end)
    return text[: -len(end)]


FOOTER = b"END:VCALENDAR\r\n"


def _when(moment: datetime, event: Event) -> datetime | date:
    local = moment.astimezone(zone(event.timezone))
    return local.date() if event.all_day else local


def _location(event: Event, sites: Mapping[int, Site]) -> str | None:
    if event.location_address:
        return event.location_address
    site = sites.get(event.location_site_id or event.site_id or 0)
    if site is None:
        return None
    return f"{site.name}, {site.address}, {site.postcode} {site.city}"


def _common(component: VEvent, event: Event, sites: Mapping[int, Site]) -> None:
    component.add("uid", event.uid)
    component.add("dtstamp", event.revised_at.astimezone(UTC))
    component.add("last-modified", event.revised_at.astimezone(UTC))
    component.add("created", event.created_at.astimezone(UTC))
    component.add("sequence", event.sequence)
    if event.description:
        component.add("description", event.description)
    component.add("categories", [event.category.value])
    location = _location(event, sites)
    if location:
        component.add("location", location)
    if event.url:
        component.add("url", event.url)
    component.add("class", "PUBLIC" if event.audience.value == "PUBLIC" else "PRIVATE")


def series_components(
    event: Event, overrides: Sequence[EventOverride], sites: Mapping[int, Site]
) -> list[VEvent]:
    """The master VEVENT of the event, then one per overridden occurrence."""
    master = VEvent()
    _common(master, event, sites)
    master.add("summary", event.title)
    master.add("dtstart", _when(event.starts_at, event))
    master.add("dtend", _when(event.ends_at, event))
    master.add("status", _STATUS[event.status])
    if event.rrule:
        master.add("rrule", vRecur.from_ical(event.rrule))
        for text in event.exdates:
            master.add("exdate", _when(datetime.fromisoformat(text), event))
    for text in event.rdates:
        master.add("rdate", _when(datetime.fromisoformat(text), event))
    components = [master]
    for override in sorted(overrides, key=lambda o: o.recurrence_id):
        moved = VEvent()
        _common(moved, event, sites)
        moved.add("summary", override.title or event.title)
        moved.add("recurrence-id", _when(override.recurrence_id, event))
        moved.add("dtstart", _when(override.starts_at, event))
        moved.add("dtend", _when(override.ends_at, event))
        status = EventStatus.CANCELLED if event.status is EventStatus.CANCELLED else None
        moved.add("status", _STATUS[status or override.status or event.status])
        components.append(moved)
    return components


def occurrence_uid(occurrence: Occurrence, event: Event) -> str:
    """One occurrence of a series, on its own (a person's feed): stable for its life."""
    if not event.rrule and not event.rdates:
        return event.uid
    return f"{occurrence.recurrence_id.astimezone(UTC):%Y%m%dT%H%M%SZ}-{event.uid}"


def registration_component(
    registration: Registration, occurrence: Occurrence, event: Event, sites: Mapping[int, Site]
) -> VEvent:
    """A registered occurrence in the person's private feed; a withdrawal is a cancellation."""
    component = VEvent()
    _common(component, event, sites)
    component.pop("uid")
    component.add("uid", occurrence_uid(occurrence, event))
    stamp = max(event.revised_at, registration.updated_at).astimezone(UTC)
    component.pop("dtstamp")
    component.add("dtstamp", stamp)
    component.pop("last-modified")
    component.add("last-modified", stamp)
    withdrawn = registration.status is RegistrationStatus.CANCELLED
    component.pop("sequence")
    component.add("sequence", event.sequence + (1 if withdrawn else 0))
    title = occurrence.title or event.title
    if registration.status is RegistrationStatus.WAITLISTED:
        title = f"{title} (liste d'attente)"
    component.add("summary", title)
    component.add("dtstart", _when(occurrence.starts_at, event))
    component.add("dtend", _when(occurrence.ends_at, event))
    if withdrawn:
        status = "CANCELLED"
    elif registration.status is RegistrationStatus.WAITLISTED:
        status = "TENTATIVE"
    else:
        status = _STATUS[occurrence.status]
    component.add("status", status)
    return component


def to_ical(components: Iterable[VEvent]) -> bytes:
    return b"".join(component.to_ical() for component in components)
