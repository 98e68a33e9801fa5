"""Recurrence rules without I/O: RRULE, EXDATE, RDATE and overridden occurrences, expanded
by python-dateutil in the event's own time zone.

dateutil builds each occurrence from a date and the wall-clock time of DTSTART with the
zone attached, so "every Tuesday at 18:00 Europe/Paris" stays at 18:00 local across the
March and October changes (17:00 then 16:00 UTC), as RFC 5545 wants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr
from icalendar.prop import vRecur

from federation.errors import BadUserInput

DEFAULT_TIMEZONE = "Europe/Paris"
# More than any real series needs in a window; a rule that yields more is refused.
MAX_OCCURRENCES = 3000
_ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; BAD_USER_INPUT for anything else."""
    try:
        if not name or ("/" not in name and name != "UTC"):
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadUserInput(
            f"`timezone` must be an IANA time zone such as Europe/Paris (got {name!r})",
            field="timezone",
        ) from None


@dataclass(frozen=True, slots=True)
class Override:
    """One occurrence changed: `recurrence_id` is the start the rule gave it."""

    recurrence_id: datetime
    starts_at: datetime
    ends_at: datetime
    title: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    starts_at: datetime
    ends_at: datetime
    timezone: str = DEFAULT_TIMEZONE
    rrule: str | None = None
    exdates: Sequence[datetime] = ()
    rdates: Sequence[datetime] = ()
    overrides: Sequence[Override] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Instance:
    recurrence_id: datetime
    starts_at: datetime
    ends_at: datetime
    title: str | None = None
    status: str | None = None


def normalise_rrule(rule: str) -> str:
    """The rule as stored and published (no `RRULE:` prefix, upper case); BAD_USER_INPUT
    with the parser's reason if dateutil or icalendar cannot read it."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    text = text.upper()
    if not text or "\n" in text or "DTSTART" in text:
        raise BadUserInput(
            "`rrule` must be one RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU", field="rrule"
        )
    try:
        parts = dict(part.split("=", 1) for part in text.split(";"))
        rrulestr(text, dtstart=datetime(2026, 1, 5, 18, tzinfo=UTC))
        vRecur.from_ical(text)
    except (ValueError, TypeError, KeyError) as error:
        raise BadUserInput(f"`rrule` is not a valid RRULE: {error}", field="rrule") from None
    if parts.get("FREQ") not in _ALLOWED_FREQUENCIES:
        raise BadUserInput("`rrule` must repeat DAILY, WEEKLY, MONTHLY or YEARLY", field="rrule")
    return text


def _rule(rule: str, start: datetime) -> rrule:
    try:
        parsed = rrulestr(rule, dtstart=start)
    except ValueError:
        # UNTIL in local time next to an aware DTSTART: read it as the zone's wall clock.
        naive = rrulestr(rule, dtstart=start.replace(tzinfo=None))
        assert isinstance(naive, rrule)
        parsed = naive.replace(dtstart=start, until=_aware_until(naive, start))
    assert isinstance(parsed, rrule)
    return parsed


def _aware_until(naive: rrule, start: datetime) -> datetime | None:
    until: datetime | None = getattr(naive, "_until", None)
    return until.replace(tzinfo=start.tzinfo) if until is not None else None


def expand(series: Series, *, until: datetime, since: datetime | None = None) -> list[Instance]:
    """Occurrences starting before `until` (and, if given, ending after `since`), by start,
    with EXDATEs removed, RDATEs added and overrides applied."""
    tz = zone(series.timezone)
    start = series.starts_at.astimezone(tz)
    duration = series.ends_at - series.starts_at
    starts: Iterable[datetime]
    if series.rrule:
        rules = rruleset()
        rules.rrule(_rule(series.rrule, start))
        rules.rdate(start)  # DTSTART is always the first occurrence (RFC 5545 §3.8.5.3)
        for moment in series.rdates:
            rules.rdate(moment.astimezone(tz))
        for moment in series.exdates:
            rules.exdate(moment.astimezone(tz))
        starts = rules
    else:
        excluded = {moment.astimezone(UTC) for moment in series.exdates}
        singles = {start, *(moment.astimezone(tz) for moment in series.rdates)}
        starts = sorted(moment for moment in singles if moment.astimezone(UTC) not in excluded)
    overrides = {o.recurrence_id.astimezone(UTC): o for o in series.overrides}
    found: list[Instance] = []
    for moment in starts:
        if moment >= until:
            break
        key = moment.astimezone(UTC)
        override = overrides.get(key)
        if override is not None:
            instance = Instance(
                key,
                override.starts_at.astimezone(UTC),
                override.ends_at.astimezone(UTC),
                override.title,
                override.status,
            )
        else:
            instance = Instance(key, key, (moment + duration).astimezone(UTC))
        if since is None or instance.ends_at > since:
            found.append(instance)
        if len(found) > MAX_OCCURRENCES:
            raise BadUserInput(
                f"`rrule` gives more than {MAX_OCCURRENCES} occurrences in the calendar's "
                "horizon; use a coarser rule",
                field="rrule",
            )
    found.sort(key=lambda i: (i.starts_at, i.recurrence_id))
    return found


def local(moment: datetime, timezone: str) -> datetime:
    """`moment` on the wall clock of `timezone`."""
    return moment.astimezone(zone(timezone))


def horizon(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)
