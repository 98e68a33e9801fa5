"""iCalendar feeds (a Google, Nextcloud or Outlook calendar, by URL or file) -> events.

Real feeds are untidy; what this tolerates, and how:
- no VTIMEZONE, or several copies of one: TZID names are resolved with the system's zone
  database; the copies are ignored;
- Windows zone names ("Romance Standard Time"): mapped to IANA names;
- floating times: read in the feed's X-WR-TIMEZONE, else the space's zone;
- all-day events (DATE values) and events without DTEND (one day, or no duration);
- Google's split series (`<uid>_R<date>`): a modified instance whose master carries the base
  UID is attached to that master; a split series stays a series of its own;
- lines that are not iCalendar content lines: skipped with a warning naming the line.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import Record, SourceError

log = logging.getLogger("sites.ics")

# NAME (;PARAM=VALUE)* : VALUE, with quoted parameter values allowed.
_CONTENT_LINE = re.compile(
    r'^[A-Za-z0-9-]+(;[A-Za-z0-9-]+=("[^"]*"|[^";:,]*)(,("[^"]*"|[^";:,]*))*)*:'
)
_GOOGLE_SPLIT = re.compile(r"^(?P<base>.+?)_R\d{8}(T\d{6}Z?)?(?P<domain>@.*)?$")


def fetch(location: str) -> bytes:
    if location.startswith(("http://", "https://")):
        try:
            response = httpx.get(location, timeout=30, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise SourceError(f"cannot fetch the calendar {location}: {error}") from None
        return response.content
    try:
        with open(location, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise SourceError(f"cannot read the calendar {location}: {error.strerror}") from None


def clean(text: str, origin: str) -> str:
    """Unfold, drop what is not a content line (warning), keep one copy of each VTIMEZONE."""
    unfolded: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if raw[:1] in (" ", "\t") and unfolded:
            unfolded[-1] = (unfolded[-1][0], unfolded[-1][1] + raw[1:])
        elif raw.strip():
            unfolded.append((number, raw))
    kept: list[str] = []
    seen_zones: set[str] = set()
    skipping_zone = False
    zone_lines: list[str] = []
    for number, line in unfolded:
        if not _CONTENT_LINE.match(line):
            log.warning("%s line %d is not an iCalendar line, skipped: %.60s", origin, number, line)
            continue
        upper = line.upper()
        if upper.startswith("BEGIN:VTIMEZONE"):
            zone_lines = [line]
            skipping_zone = True
            continue
        if skipping_zone:
            zone_lines.append(line)
            if upper.startswith("END:VTIMEZONE"):
                skipping_zone = False
                tzid = next((z for z in zone_lines if z.upper().startswith("TZID")), "")
                if tzid not in seen_zones:
                    seen_zones.add(tzid)
                    kept.extend(zone_lines)
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def zone_named(name: str | None) -> tzinfo | None:
    if not name:
        return None
    name = name.strip().strip('"')
    name = WINDOWS_TO_OLSON.get(name, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _Times:
    """Turns DTSTART/DTEND-like properties into aware datetimes, in the right zone."""

    def __init__(self, default: tzinfo) -> None:
        self.default = default

    def zone_of(self, prop: Any) -> tzinfo:
        tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
        return zone_named(tzid) or self.default

    def moment(self, prop: Any) -> datetime | date:
        value = prop.dt
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return value.replace(tzinfo=self.zone_of(prop))
            key = getattr(value.tzinfo, "key", None) or str(value.tzinfo)
            better = zone_named(key)
            return value.replace(tzinfo=better) if better and key in WINDOWS_TO_OLSON else value
        if isinstance(value, date):
            return value
        raise ValueError(f"not a date or date-time: {value!r}")

    def aware(self, value: datetime | date) -> datetime:
        if isinstance(value, datetime):
            return value
        return datetime.combine(value, time(0), tzinfo=self.default)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read(source: SourceConfig, site: SiteConfig) -> list[Record]:
    location = source.path_or_url("url")
    raw = fetch(location)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    try:
        calendar = Calendar.from_ical(clean(text, location))
    except ValueError as error:
        raise SourceError(f"{location}: not an iCalendar feed: {error}") from None
    feed_zone = zone_named(str(calendar.get("X-WR-TIMEZONE") or "")) or ZoneInfo(site.timezone)
    times = _Times(feed_zone)
    category = str(source.options.get("category", "OTHER"))
    # Words in a title -> the hub's category, e.g. "Casapéro" = "AFTERWORK".
    categories = {str(k).lower(): str(v) for k, v in source.options.get("categories", {}).items()}
    audience = str(source.options.get("audience", "PUBLIC"))
    masters: dict[str, dict[str, Any]] = {}
    updated: dict[str, datetime] = {}
    overrides: list[tuple[str, dict[str, Any], datetime]] = []
    for component in calendar.walk("VEVENT"):
        event: Any = component  # icalendar's property types are a wide union
        uid = str(event.get("UID") or "").strip()
        if not uid or event.get("DTSTART") is None:
            log.warning("%s: an event without UID or DTSTART, skipped (%s)", location, uid)
            continue
        try:
            start = times.moment(event["DTSTART"])
            end_prop = event.get("DTEND")
            end: datetime | date | None = times.moment(end_prop) if end_prop else None
        except (ValueError, TypeError) as error:
            log.warning("%s: event %s has unreadable times, skipped: %s", location, uid, error)
            continue
        all_day = not isinstance(start, datetime)
        if end is None and event.get("DURATION") is not None:
            end = start + event["DURATION"].dt
        if end is None and all_day:
            end = start + timedelta(days=1)
        modified = event.get("LAST-MODIFIED") or event.get("DTSTAMP")
        stamp = modified.dt if modified is not None else datetime(2000, 1, 1, tzinfo=UTC)
        if isinstance(stamp, datetime) and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        if not isinstance(stamp, datetime):
            stamp = datetime.combine(stamp, time(0), tzinfo=UTC)
        starts_at = times.aware(start)
        zone = getattr(starts_at.tzinfo, "key", None) or getattr(feed_zone, "key", site.timezone)
        status = str(event.get("STATUS") or "").upper()
        if event.get("RECURRENCE-ID") is not None:
            recurrence = times.aware(times.moment(event["RECURRENCE-ID"]))
            override: dict[str, Any] = {
                "recurrenceId": _iso(recurrence),
                "startsAt": _iso(starts_at),
            }
            if end is not None:
                override["endsAt"] = _iso(times.aware(end))
            if event.get("SUMMARY"):
                override["title"] = str(event["SUMMARY"])[:200]
            if status == "CANCELLED":
                override["status"] = "CANCELLED"
            overrides.append((uid, override, stamp))
            continue
        data: dict[str, Any] = {
            "title": (str(event.get("SUMMARY") or "").strip() or "(sans titre)")[:200],
            "startsAt": _iso(starts_at),
            "endsAt": _iso(times.aware(end)) if end is not None else None,
            "timezone": zone,
            "allDay": all_day,
            "uid": uid,
            "category": next(
                (v for k, v in categories.items() if k in str(event.get("SUMMARY", "")).lower()),
                category,
            ),
            "audience": audience,
            "status": "CANCELLED" if status == "CANCELLED" else "CONFIRMED",
        }
        if event.get("DESCRIPTION"):
            data["description"] = str(event["DESCRIPTION"])[:20000]
        if event.get("LOCATION"):
            data["location"] = str(event["LOCATION"])[:500]
        if event.get("RRULE") is not None:
            rule = event["RRULE"].to_ical()
            data["rrule"] = rule.decode() if isinstance(rule, bytes) else str(rule)
        exdates = _dates(event.get("EXDATE"), times)
        if exdates:
            data["exdates"] = exdates
        rdates = _dates(event.get("RDATE"), times)
        if rdates:
            data["rdates"] = rdates
        masters[uid] = data
        updated[uid] = stamp
    for uid, override, stamp in overrides:
        master_uid = uid if uid in masters else _google_base(uid)
        if master_uid is None or master_uid not in masters:
            log.warning("%s: a changed occurrence of %s has no series, skipped", location, uid)
            continue
        masters[master_uid].setdefault("overrides", []).append(override)
        updated[master_uid] = max(updated[master_uid], stamp)
    records = []
    for uid, data in masters.items():
        if "overrides" in data:
            data["overrides"].sort(key=lambda o: o["recurrenceId"])
        records.append(Record("event", uid[:128], updated[uid], data))
    return records


def _google_base(uid: str) -> str | None:
    """`abc_R20260310T090000@google.com` -> `abc@google.com` (Google's split series)."""
    found = _GOOGLE_SPLIT.match(uid)
    if not found:
        return None
    return found.group("base") + (found.group("domain") or "")


def _dates(prop: Any, times: _Times) -> list[str]:
    if prop is None:
        return []
    props = prop if isinstance(prop, list) else [prop]
    found: list[str] = []
    for item in props:
        zone = times.zone_of(item)
        for value in item.dts:
            moment = value.dt
            if isinstance(moment, datetime):
                aware = moment if moment.tzinfo else moment.replace(tzinfo=zone)
            else:
                aware = datetime.combine(moment, time(0), tzinfo=times.default)
            found.append(_iso(aware))
    return sorted(found)
