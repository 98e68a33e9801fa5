"""Demo memberships and uses: seven calendar months of life in every demo space, ending today.

Pseudonymous, as spaces sync them: members are opaque external ids, uses name a
membership (or, for the network's people visiting another space, the person). Volumes
follow the seeds: La Fontaine around its goal of 200 uses a month; Casaco about 100
coworkers on 45 desks with meeting rooms rented most days; the Lille spaces quieter, the
Seine-Saint-Denis space just starting. Weekdays only, busier mid-week, quieter in
summer and at Christmas; people of the network visit neighbouring spaces.

Idempotent: every use has an external id and every day's uses come from a generator
seeded by the space and the day, so a second run the same day adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.demo.directory import HOMES, demo_person_id
from federation.kit.clock import today_in_paris
from federation.usage.models import UseKind, UseSource
from federation.usage.periods import Period, add_months, period_start
from federation.usage.service import (
    MembershipRecord,
    UseRecord,
    import_memberships,
    import_uses,
    membership_subject,
    person_subject,
)

MONTHS = 7
SYNCED_AT = datetime(2026, 1, 1, tzinfo=UTC)
WEEKDAY = (0.85, 1.05, 1.0, 1.1, 0.8, 0.0, 0.0)  # Monday first; closed at weekends
SEASON = {1: 0.95, 2: 1.0, 3: 1.05, 4: 1.0, 5: 0.95, 6: 1.0}
SEASON |= {7: 0.75, 8: 0.45, 9: 1.1, 10: 1.1, 11: 1.05, 12: 0.8}


@dataclass(frozen=True, slots=True)
class Activity:
    """A space's usual weekday: members, open-space visits, rentals."""

    members: int
    new_members_a_month: float
    people_a_day: float  # open-space visitors on an ordinary weekday
    full_day_share: float  # how many of them stay the whole day (two uses)
    offices_a_day: float
    meeting_rooms_a_day: float
    plans: tuple[str, ...]


ACTIVITY = {
    # 45 desks, ~100 coworkers: ~30 a day, most for the day (about 55 % occupancy).
    "casaco": Activity(100, 4, 30, 0.7, 0, 1.2, ("Coworking régulier", "Occasionnel 10 jours")),
    # ~200 uses a month: ~6 open-space uses, 2 office and 1 meeting-room rentals a day.
    "la-fontaine": Activity(35, 1.5, 4.5, 0.35, 2.0, 1.0, ("Abonnement mensuel",)),
    "mutualab": Activity(60, 3, 14, 0.6, 0, 0.8, ("Résident", "Nomade 10 jours")),
    "la-grappe": Activity(40, 2, 10, 0.5, 0, 0.6, ("Mensuel", "Journée")),
    "wereso": Activity(25, 1, 5, 0.5, 0.5, 0.3, ("Mensuel", "Journée")),
    "entreprise-ouverte": Activity(22, 1, 4, 0.5, 0, 0.3, ("Mensuel", "Journée")),
    "besquare": Activity(40, 1.5, 8, 0.6, 1.0, 0.5, ("Mensuel", "Journée")),
    "co-factory": Activity(30, 1, 6, 0.6, 0, 0.4, ("Mensuel", "Journée")),
    "multiburo-lille": Activity(45, 1, 10, 0.7, 3.0, 1.5, ("Mensuel", "Journée")),
    "les-3-teinturiers": Activity(18, 0.5, 3, 0.5, 0, 0.2, ("Mensuel", "Journée")),
    "la-maison-du-coworking": Activity(25, 1, 5, 0.5, 0, 0.3, ("Mensuel", "Journée")),
    "tiers-lieu-solidaire-93": Activity(15, 2, 2.5, 0.4, 0, 0.1, ("Journée solidaire",)),
}

# Where the network's people go besides home: (home, host, how many of them, visits a
# month each). Mutualab and La Grappe trade enough people to be shown; the rest stay
# under the threshold and are suppressed.
VISITS = [
    ("mutualab", "la-grappe", 7, 2.0),
    ("la-grappe", "mutualab", 6, 1.5),
    ("mutualab", "wereso", 5, 1.0),
    ("besquare", "co-factory", 3, 1.0),
    ("casaco", "tiers-lieu-solidaire-93", 3, 1.5),
    ("tiers-lieu-solidaire-93", "casaco", 4, 2.0),
    ("la-fontaine", "casaco", 1, 0.5),
    ("les-3-teinturiers", "co-factory", 2, 1.0),
]


def window(today: date) -> tuple[date, date]:
    """Seven calendar months: the current one so far and the six before."""
    return add_months(period_start(Period.MONTH, today), -(MONTHS - 1)), today


def _memberships(slug: str, site_id: int, first: date, today: date) -> list[MembershipRecord]:
    activity = ACTIVITY[slug]
    rng = random.Random(f"members:{slug}:{first.isoformat()}")
    days = (today - first).days + 1
    new = round(activity.new_members_a_month * MONTHS)
    records = []
    for n in range(activity.members + new):
        if n < activity.members:  # members from before the window, some since years
            starts_on = first - timedelta(days=rng.randint(30, 6 * 365))
        else:
            starts_on = first + timedelta(days=rng.randrange(days))
        ends_on = None
        if n < activity.members and rng.random() < 0.1:  # a few leave during the window
            ends_on = first + timedelta(days=rng.randrange(days))
        records.append(
            MembershipRecord(
                site_id=site_id,
                external_id=f"demo-{slug}-{n:03d}",
                starts_on=starts_on,
                source_updated_at=SYNCED_AT,
                plan=rng.choice(activity.plans),
                ends_on=ends_on,
            )
        )
    return records


def _scaled(rng: random.Random, mean: float) -> int:
    """A count around `mean`: its whole part, plus one with the remaining probability."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def _uses_of_day(
    slug: str,
    site_id: int,
    day: date,
    members: list[tuple[int, MembershipRecord]],
) -> list[UseRecord]:
    activity = ACTIVITY[slug]
    factor = WEEKDAY[day.weekday()] * SEASON[day.month]
    if not factor:
        return []
    rng = random.Random(f"uses:{slug}:{day.isoformat()}")
    active = [
        membership_id
        for membership_id, m in members
        if m.starts_on <= day and (m.ends_on is None or day <= m.ends_on)
    ]
    if not active:
        return []
    records: list[UseRecord] = []

    def add(kind: UseKind, units: int, membership_id: int) -> None:
        records.append(
            UseRecord(
                site_id,
                day,
                kind,
                units,
                membership_subject(membership_id),
                site_id,
                UseSource.SYNC,
                external_id=f"demo-{day.isoformat()}-{len(records):03d}",
            )
        )

    people = min(len(active), _scaled(rng, activity.people_a_day * factor * rng.uniform(0.8, 1.2)))
    for membership_id in rng.sample(active, people):
        add(UseKind.OPEN_SPACE, 2 if rng.random() < activity.full_day_share else 1, membership_id)
    for _ in range(_scaled(rng, activity.offices_a_day * factor)):
        add(UseKind.OFFICE, 1, rng.choice(active))
    for _ in range(_scaled(rng, activity.meeting_rooms_a_day * factor)):
        add(UseKind.MEETING_ROOM, 1, rng.choice(active))
    return records


def _people_by_home() -> dict[str, list[int]]:
    indexes: dict[str, list[int]] = {}
    index = 0
    for slug, count in HOMES:
        indexes[slug] = list(range(index, index + count))
        index += count
    return indexes


def _visits(site_ids: dict[str, int], first: date, today: date) -> list[UseRecord]:
    """People of the network at another space, with their pass: persons, not memberships."""
    homes = _people_by_home()
    records = []
    for home, host, people, a_month in VISITS:
        rng = random.Random(f"visits:{home}:{host}")
        visitors = rng.sample(homes[home], people)
        day = first
        while day <= today:
            factor = WEEKDAY[day.weekday()] * SEASON[day.month]
            for n, person in enumerate(visitors):
                seeded = random.Random(f"visit:{home}:{host}:{person}:{day.isoformat()}")
                if factor and seeded.random() < a_month * factor / 21:
                    records.append(
                        UseRecord(
                            site_ids[host],
                            day,
                            UseKind.OPEN_SPACE,
                            2 if seeded.random() < 0.6 else 1,
                            person_subject(demo_person_id(person)),
                            site_ids[home],
                            UseSource.CHECK_IN,
                            external_id=f"demo-visit-{day.isoformat()}-{home}-{n}",
                        )
                    )
            day += timedelta(days=1)
    return records


async def load(session: AsyncSession, site_ids: dict[str, int]) -> None:
    """Memberships and seven months of uses for every demo space."""
    today = today_in_paris()
    first, last = window(today)
    memberships = [
        record for slug in ACTIVITY for record in _memberships(slug, site_ids[slug], first, last)
    ]
    ids = await import_memberships(session, memberships)
    uses: list[UseRecord] = []
    for slug in ACTIVITY:
        site_id = site_ids[slug]
        members = [(ids[(site_id, m.external_id)], m) for m in memberships if m.site_id == site_id]
        day = first
        while day <= last:
            uses.extend(_uses_of_day(slug, site_id, day, members))
            day += timedelta(days=1)
    uses.extend(_visits(site_ids, first, last))
    await import_uses(session, uses)
