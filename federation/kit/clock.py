"""The hub's notion of now, in one place so tests and the demo can reason about time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_paris() -> date:
    """The network's calendar day: a check-in at 00:30 in Agen belongs to that day, not UTC's."""
    return datetime.now(PARIS).date()
