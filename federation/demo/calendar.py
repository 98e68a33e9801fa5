"""Demo events, from three months back to three months ahead of today.

Casaco's weekly rhythm comes from the articles in shared/seeds (at least three events a
week: professional workshops, co-development, Casapéro afterworks, the monthly
CASAcadémie, an entrepreneurial weekend, the weekly "La Ruche qui dit Oui" pick-up);
La Fontaine's coworking life in Agen (Canti'net's animations and events); the collective
information sessions of the Lille programme (Initiatives et Cité) at La Grappe; and one
network meeting. Titles and times beyond the articles are illustrative.

Every event has a stable UID and is saved only when it differs, and registrations are
made once, so a second run changes nothing.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.calendar import service
from federation.calendar.models import (
    AttendanceMode,
    Audience,
    Category,
    EventStatus,
    Occurrence,
    RegistrationMode,
    RegistrationStatus,
)
from federation.calendar.models import Event as EventRow
from federation.calendar.recurrence import Override
from federation.calendar.service import EventData
from federation.demo.directory import demo_people
from federation.kit.clock import PARIS, today_in_paris

WINDOW_DAYS = 91
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


@dataclass(frozen=True)
class DemoEvent:
    key: str
    site: str | None
    title: str
    category: Category
    weekday: str  # first occurrence: this weekday on or after the window's start (+ offset)
    start: time
    minutes: int
    rrule: str | None = None
    offset_days: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    # Occurrence numbers (0-based) to exclude, and to move by a day.
    excluded: tuple[int, ...] = ()
    moved: tuple[int, ...] = ()


CASACO_ADDRESS = "6 avenue Jean Jaurès, 92240 Malakoff"
EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent(
        "casaco-ateliers-pro",
        "casaco",
        "Atelier pro du mardi : trouver ses premiers clients",
        Category.WORKSHOP,
        "TU",
        time(12, 30),
        90,
        "FREQ=WEEKLY;BYDAY=TU",
        fields={
            "capacity": 20,
            "price": "Gratuit pour les coworkers, 10 € sinon",
            "keywords": ("atelier", "entrepreneuriat"),
            "description": "Chaque mardi midi, un coworker partage son métier et ses "
            "méthodes : prospection, devis, statut, communication.",
        },
    ),
    DemoEvent(
        "casaco-codev",
        "casaco",
        "Co-développement",
        Category.CO_DEVELOPMENT,
        "TH",
        time(9, 0),
        120,
        "FREQ=WEEKLY;BYDAY=TH",
        fields={
            "capacity": 8,
            "audience": Audience.NETWORK,
            "description": "Un groupe de pairs aide chacun à avancer sur une situation "
            "professionnelle réelle (méthode Payette et Champagne).",
            "keywords": ("co-développement", "pairs"),
        },
        # The series' exceptions: one Thursday off, one moved to the Friday.
        excluded=(16,),
        moved=(18,),
    ),
    DemoEvent(
        "casaco-casapero",
        "casaco",
        "Casapéro",
        Category.AFTERWORK,
        "FR",
        time(19, 0),
        180,
        "FREQ=WEEKLY;BYDAY=FR",
        fields={
            "description": "L'afterwork de Casaco : coworkers, voisins et curieux, dans le "
            "jardin quand il fait beau.",
            "registration_mode": RegistrationMode.NONE,
            "keywords": ("afterwork", "convivialité"),
        },
    ),
    DemoEvent(
        "casaco-ruche",
        "casaco",
        "Distribution de La Ruche qui dit Oui",
        Category.MARKET,
        "WE",
        time(17, 30),
        120,
        "FREQ=WEEKLY;BYDAY=WE",
        fields={
            "description": "Retrait hebdomadaire des commandes de produits locaux.",
            "registration_mode": RegistrationMode.EXTERNAL,
            "registration_links": ("https://laruchequiditoui.fr",),
            "keywords": ("circuit court", "alimentation"),
        },
    ),
    DemoEvent(
        "casaco-casacademie",
        "casaco",
        "CASAcadémie : formation du mois",
        Category.TRAINING,
        "MO",
        time(9, 30),
        480,
        "FREQ=MONTHLY;BYDAY=1MO",
        fields={
            "capacity": 12,
            "price": "Tarif « Robin des bois » : selon vos moyens",
            "description": "Une journée de formation par un coworker (gestion, numérique, "
            "communication), ouverte au réseau.",
            "accessibility": ("mi",),
        },
    ),
    DemoEvent(
        "casaco-weekend",
        "casaco",
        "Week-end entrepreneurial",
        Category.WEEKEND,
        "SA",
        time(9, 0),
        60 * 33,
        offset_days=WINDOW_DAYS + 35,
        fields={
            "capacity": 30,
            "price": "40 € les deux jours, repas compris",
            "description": "Deux jours pour passer de l'idée au projet, avec des coworkers "
            "expérimentés.",
        },
    ),
    DemoEvent(
        "casaco-vr",
        "casaco",
        "Découverte du casque de réalité virtuelle",
        Category.WORKSHOP,
        "WE",
        time(14, 0),
        120,
        offset_days=WINDOW_DAYS + 14,
        fields={"capacity": 6, "status": EventStatus.CANCELLED},
    ),
    DemoEvent(
        "fontaine-petit-dejeuner",
        "la-fontaine",
        "Petit-déjeuner des coworkers",
        Category.MEETING,
        "TU",
        time(8, 30),
        90,
        "FREQ=MONTHLY;BYDAY=1TU",
        fields={
            "description": "Canti'net réunit les coworkers de La Fontaine pour partager "
            "projets et coups de main.",
        },
    ),
    DemoEvent(
        "fontaine-atelier-numerique",
        "la-fontaine",
        "Atelier numérique de Canti'net",
        Category.WORKSHOP,
        "WE",
        time(14, 0),
        120,
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        fields={"capacity": 10, "keywords": ("numérique",)},
    ),
    DemoEvent(
        "fontaine-portes-ouvertes",
        "la-fontaine",
        "Portes ouvertes de La Fontaine",
        Category.OPEN_DAY,
        "SA",
        time(10, 0),
        420,
        offset_days=WINDOW_DAYS + 21,
        fields={"description": "Visite de l'open space, des bureaux et de la salle de réunion."},
    ),
    DemoEvent(
        "grappe-information",
        "la-grappe",
        "Réunion d'information collective : un espace de coworking pour les demandeurs d'emploi",
        Category.INFO_SESSION,
        "MO",
        time(9, 30),
        120,
        "FREQ=MONTHLY;BYDAY=2MO",
        fields={
            "capacity": 15,
            "description": "Le programme d'Initiatives et Cité, financé par la Métropole "
            "Européenne de Lille, la DIRECCTE et la région, finance le coworking de 30 "
            "demandeurs d'emploi pendant 6 mois dans les espaces lillois.",
            "keywords": ("emploi", "Initiatives et Cité"),
        },
    ),
    DemoEvent(
        "reseau-rencontre",
        None,
        "Rencontre du réseau des tiers-lieux",
        Category.MEETING,
        "TH",
        time(14, 0),
        180,
        offset_days=WINDOW_DAYS + 42,
        fields={
            "audience": Audience.NETWORK,
            "attendance_mode": AttendanceMode.MIXED,
            "online_url": "https://visio.tiers-lieux.example/rencontre",
            "location_address": "Casaco, " + CASACO_ADDRESS,
        },
    ),
)


def _first_day(start: date, weekday: str) -> date:
    return start + timedelta(days=(_WEEKDAYS[weekday] - start.weekday()) % 7)


def _uid(key: str) -> str:
    return f"{key}@demo.tiers-lieux.hub"


def event_data(demo: DemoEvent, today: date) -> EventData:
    window_start = today - timedelta(days=WINDOW_DAYS)
    day = _first_day(window_start + timedelta(days=demo.offset_days), demo.weekday)
    starts_at = datetime.combine(day, demo.start, PARIS)
    ends_at = starts_at + timedelta(minutes=demo.minutes)
    rrule = None
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[Override, ...] = ()
    if demo.rrule:
        last = today + timedelta(days=WINDOW_DAYS)
        until = datetime.combine(last, time(23, 59), PARIS).astimezone(UTC)
        rrule = f"{demo.rrule};UNTIL={until:%Y%m%dT%H%M%SZ}"
        weekly = "WEEKLY" in demo.rrule

        def nth(n: int) -> datetime:
            return datetime.combine(day + timedelta(weeks=n), demo.start, PARIS)

        if weekly:
            exdates = tuple(nth(n) for n in demo.excluded)
            overrides = tuple(
                Override(
                    nth(n),
                    nth(n) + timedelta(days=1),
                    nth(n) + timedelta(days=1, minutes=demo.minutes),
                    f"{demo.title} (exceptionnellement le vendredi)",
                )
                for n in demo.moved
            )
    return EventData(
        title=demo.title,
        category=demo.category,
        starts_at=starts_at,
        ends_at=ends_at,
        rrule=rrule,
        exdates=exdates,
        overrides=overrides,
        **demo.fields,
    )


async def load(session: AsyncSession, site_ids: dict[str, int]) -> None:
    today = today_in_paris()
    for demo in EVENTS:
        await service.save_event(
            session,
            uid=_uid(demo.key),
            site_id=site_ids[demo.site] if demo.site else None,
            data=event_data(demo, today),
        )
    await _register(session, site_ids)


async def _register(session: AsyncSession, site_ids: dict[str, int]) -> None:
    """Coworkers of each space register for its events: the co-development groups fill up
    and get a waiting list; past workshops keep who came."""
    homes: dict[int, list[uuid.UUID]] = {}
    for person_id, data in demo_people(site_ids):
        if data.home_site_id is not None:
            homes.setdefault(data.home_site_id, []).append(person_id)
    rng = random.Random(2026)
    now = datetime.now(UTC)
    wanted = {
        _uid("casaco-codev"): 10,
        _uid("casaco-ateliers-pro"): 7,
        _uid("casaco-casacademie"): 9,
        _uid("grappe-information"): 12,
        _uid("fontaine-atelier-numerique"): 5,
    }
    rows = await session.execute(
        select(Occurrence, EventRow.uid, EventRow.site_id)
        .join(EventRow, EventRow.id == Occurrence.event_id)
        .where(EventRow.uid.in_(list(wanted)), Occurrence.status == EventStatus.CONFIRMED)
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    for occurrence, uid, site_id in rows:
        people = homes.get(site_id or 0, [])
        chosen = rng.sample(people, k=min(wanted[uid], len(people)))
        # Registered a few days before, so a second run (same day) finds them unchanged.
        registered_at = occurrence.starts_at - timedelta(days=3)
        for rank, person_id in enumerate(chosen):
            registration = await service.register_person(
                session,
                person_id,
                occurrence.id,
                now=registered_at + timedelta(minutes=rank),
            )
            if occurrence.ends_at < now and registration.status is RegistrationStatus.CONFIRMED:
                # Most people who registered came; about one in seven did not.
                await service.record_attendance(
                    session,
                    occurrence_id=occurrence.id,
                    person_id=person_id,
                    attended=rank % 7 != 6,
                )
