"""Demo spaces and people.

Facts about Casaco, La Fontaine and La Grappe come from the articles in shared/seeds:
addresses, surfaces, desks, legal forms, prices, amenities. The other Lille spaces are
named in the Lille programme's article; their street addresses, sizes and prices here
are illustrative, as are all people (French names, real professions).
"""

from __future__ import annotations

import random
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from federation.directory.models import Amenity, LegalForm, PlanUnit, Visibility
from federation.directory.service import PlanLine, ProfileData, SiteProfile, save_person, save_site

DEMO_NAMESPACE = uuid.UUID("6f1c1d0e-2a43-4d6b-9a53-7c1e0f3b5a10")

WEEKDAYS_9_TO_19 = [
    {"day": day, "opens": "09:00", "closes": "19:00"} for day in ("MO", "TU", "WE", "TH", "FR")
]
WEEKDAYS_9_TO_18 = [
    {"day": day, "opens": "09:00", "closes": "18:00"} for day in ("MO", "TU", "WE", "TH", "FR")
]
VAT = Decimal("20.00")

SITES: list[SiteProfile] = [
    SiteProfile(
        slug="casaco",
        name="Casaco",
        legal_form=LegalForm.SCIC,
        description=(
            "Tiers-lieu coopératif (SCIC) de 460 m² sur 3 étages dans un ancien cabinet "
            "d'architecte : 45 postes, salles de réunion, petit jardin, mini fablab animé par "
            "« Les fabriqueurs » dans le garage, casque de réalité virtuelle, et le retrait "
            "hebdomadaire de « La Ruche qui dit Oui ». Au moins trois événements par semaine : "
            "ateliers professionnels, co-développement, Casapéros, CASAcadémie et week-ends "
            "entrepreneuriaux. Tarification « Robin des bois » selon les moyens de chacun."
        ),
        address="6 avenue Jean Jaurès",
        postcode="92240",
        city="Malakoff",
        region="Île-de-France",
        lat=48.8190,
        lon=2.3003,
        surface_m2=460,
        desks=45,
        opening_hours=WEEKDAYS_9_TO_19,
        website="https://www.casaco.fr",
        joined_at=date(2014, 4, 1),
        amenities=[
            Amenity.OPEN_SPACE,
            Amenity.MEETING_ROOM,
            Amenity.EVENT_SPACE,
            Amenity.GARDEN,
            Amenity.FABLAB,
            Amenity.VR_HEADSET,
            Amenity.PRODUCE_PICKUP,
            Amenity.KITCHEN,
        ],
        plans=[
            PlanLine("Coworking régulier", 25000, PlanUnit.MONTH, 1, VAT),
            PlanLine("Occasionnel 10 jours", 15000, PlanUnit.DAY, 10, VAT),
            PlanLine("Occasionnel 15 demi-journées", 15000, PlanUnit.HALF_DAY, 15, VAT),
        ],
    ),
    SiteProfile(
        slug="la-fontaine",
        name="La Fontaine",
        legal_form=LegalForm.ASSOCIATION,
        description=(
            "Espace de coworking coopératif de l'association Canti'net (loi 1901), créé par "
            "trois travailleuses indépendantes dans le centre-ville d'Agen : open space, "
            "location de bureaux privatifs et salle de réunion partagée pour les entreprises. "
            "Objectif : 200 utilisations par mois (demi-journées en open space, locations de "
            "bureau ou de salle de réunion)."
        ),
        address="Centre-ville",
        postcode="47000",
        city="Agen",
        region="Nouvelle-Aquitaine",
        lat=44.2033,
        lon=0.6163,
        desks=14,
        opening_hours=WEEKDAYS_9_TO_18,
        joined_at=date(2014, 10, 17),
        amenities=[
            Amenity.OPEN_SPACE,
            Amenity.PRIVATE_OFFICE,
            Amenity.MEETING_ROOM,
            Amenity.PRINTER,
        ],
        plans=[
            PlanLine("Demi-journée en open space", 800, PlanUnit.HALF_DAY, 1, VAT),
            PlanLine("Bureau privatif (demi-journée)", 2000, PlanUnit.HALF_DAY, 1, VAT),
            PlanLine("Salle de réunion (demi-journée)", 3500, PlanUnit.HALF_DAY, 1, VAT),
            PlanLine("Abonnement mensuel", 14000, PlanUnit.MONTH, 1, VAT),
        ],
    ),
    SiteProfile(
        slug="la-grappe",
        name="La Grappe",
        legal_form=LegalForm.ASSOCIATION,
        description=(
            "Espace de coworking lillois partenaire du programme d'Initiatives et Cité pour "
            "les demandeurs d'emploi ; accueille les réunions d'information collective."
        ),
        address="75 rue Léon Gambetta",
        postcode="59000",
        city="Lille",
        region="Hauts-de-France",
        lat=50.6296,
        lon=3.0553,
        desks=30,
        opening_hours=WEEKDAYS_9_TO_19,
        joined_at=date(2015, 6, 1),
        amenities=[Amenity.OPEN_SPACE, Amenity.MEETING_ROOM, Amenity.EVENT_SPACE, Amenity.KITCHEN],
        plans=[
            PlanLine("Journée", 1500, PlanUnit.DAY, 1, VAT),
            PlanLine("Résident", 22000, PlanUnit.MONTH, 1, VAT),
        ],
    ),
    SiteProfile(
        slug="mutualab",
        name="Mutualab",
        legal_form=LegalForm.ASSOCIATION,
        description="Espace de coworking communautaire et ouvert de la métropole lilloise.",
        address="5 rue Jean Roisin",
        postcode="59000",
        city="Lille",
        region="Hauts-de-France",
        lat=50.6369,
        lon=3.0646,
        desks=40,
        opening_hours=WEEKDAYS_9_TO_19,
        joined_at=date(2015, 6, 1),
        amenities=[
            Amenity.OPEN_SPACE,
            Amenity.MEETING_ROOM,
            Amenity.PHONE_BOOTH,
            Amenity.KITCHEN,
            Amenity.BIKE_PARKING,
        ],
        plans=[
            PlanLine("Demi-journée", 1000, PlanUnit.HALF_DAY, 1, VAT),
            PlanLine("Journée", 1800, PlanUnit.DAY, 1, VAT),
            PlanLine("Nomade 10 jours", 15000, PlanUnit.DAY, 10, VAT),
            PlanLine("Résident", 24000, PlanUnit.MONTH, 1, VAT),
        ],
    ),
]

# Lille spaces named by the Initiatives et Cité programme; details are illustrative.
_LILLE = [
    ("wereso", "Werésó", LegalForm.COMPANY, "Lille", "59000", 50.6340, 3.0500, 20),
    (
        "entreprise-ouverte",
        "Entreprise Ouverte",
        LegalForm.ASSOCIATION,
        "Lille",
        "59000",
        50.6280,
        3.0720,
        18,
    ),
    ("besquare", "Besquare", LegalForm.COMPANY, "Villeneuve-d'Ascq", "59650", 50.6380, 3.1460, 35),
    ("co-factory", "Co-Factory", LegalForm.COMPANY, "Roubaix", "59100", 50.6920, 3.1740, 28),
    (
        "multiburo-lille",
        "Multiburo Lille",
        LegalForm.COMPANY,
        "Lille",
        "59000",
        50.6370,
        3.0700,
        50,
    ),
    (
        "les-3-teinturiers",
        "Les 3 Teinturiers",
        LegalForm.SCIC,
        "Roubaix",
        "59100",
        50.6880,
        3.1800,
        16,
    ),
    (
        "la-maison-du-coworking",
        "La Maison du Co-working",
        LegalForm.ASSOCIATION,
        "Lille",
        "59800",
        50.6330,
        3.0600,
        22,
    ),
]
for slug, name, form, city, postcode, lat, lon, desks in _LILLE:
    SITES.append(
        SiteProfile(
            slug=slug,
            name=name,
            legal_form=form,
            description=f"Espace de coworking de la métropole lilloise ({city}), partenaire du "
            "programme d'accueil de demandeurs d'emploi d'Initiatives et Cité.",
            address="Métropole Européenne de Lille",
            postcode=postcode,
            city=city,
            region="Hauts-de-France",
            lat=lat,
            lon=lon,
            desks=desks,
            opening_hours=WEEKDAYS_9_TO_18,
            joined_at=date(2015, 6, 1),
            amenities=[Amenity.OPEN_SPACE, Amenity.MEETING_ROOM],
            plans=[
                PlanLine("Journée", 1500 + desks * 10, PlanUnit.DAY, 1, VAT),
                PlanLine("Mensuel", 18000 + desks * 100, PlanUnit.MONTH, 1, VAT),
            ],
            # Multiburo is a business centre that only takes its own customers.
            accepts_network_passes=slug != "multiburo-lille",
        )
    )

SITES.append(
    SiteProfile(
        slug="tiers-lieu-solidaire-93",
        name="Tiers-lieu solidaire de Seine-Saint-Denis",
        legal_form=LegalForm.ASSOCIATION,
        description=(
            "Tiers-lieu solidaire en création en Seine-Saint-Denis : un espace de travail "
            "partagé ouvert à tous, qui reflète les habitants du territoire, pour que "
            "demandeurs d'emploi, salariés et entrepreneurs s'y rencontrent."
        ),
        address="Seine-Saint-Denis",
        postcode="93200",
        city="Saint-Denis",
        region="Île-de-France",
        lat=48.9362,
        lon=2.3574,
        desks=12,
        opening_hours=WEEKDAYS_9_TO_18,
        joined_at=date(2017, 5, 2),
        amenities=[Amenity.OPEN_SPACE, Amenity.STEP_FREE_ACCESS, Amenity.CHILDCARE],
        plans=[PlanLine("Journée solidaire", 500, PlanUnit.DAY, 1, VAT)],
    )
)

WOMEN = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Emma",
    "Louise",
    "Jeanne",
    "Alice",
    "Juliette",
    "Clara",
    "Margaux",
    "Pauline",
    "Mathilde",
    "Élise",
    "Anaïs",
    "Lucie",
    "Marion",
    "Hélène",
    "Nadia",
    "Fatou",
    "Yasmine",
    "Sophie",
    "Céline",
    "Mariette",
    "Isabelle",
    "Aurélie",
    "Emmanuelle",
    "Maud",
]
MEN = [
    "Lucas",
    "Hugo",
    "Thomas",
    "Nicolas",
    "Julien",
    "Maxime",
    "Antoine",
    "Romain",
    "Mehdi",
    "Karim",
    "Baptiste",
    "Pierre",
    "Théo",
    "Louis",
    "Arthur",
    "Gabriel",
    "Raphaël",
    "Paul",
    "Vincent",
    "Olivier",
    "Sébastien",
    "Aurélien",
    "Yanis",
    "Malik",
]
FIRST_NAMES = WOMEN + MEN
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Diallo",
    "Benali",
    "Nguyen",
    "Traoré",
]

# (profession, skills it brings) — the trades the seeds list, and their neighbours.
PROFESSIONS: list[tuple[str, list[str]]] = [
    ("Développeur web", ["Python", "JavaScript", "Django", "Accessibilité numérique"]),
    ("Intégrateur web", ["React", "TypeScript", "PHP", "WordPress"]),
    ("Graphiste", ["Identité visuelle", "Illustration", "InDesign", "Mise en page"]),
    ("Webdesigner", ["UX design", "Figma", "Design d'interface", "WordPress"]),
    ("Journaliste", ["Rédaction", "Enquête", "Podcast", "Fact-checking"]),
    ("Consultant", ["Stratégie", "Conduite du changement", "Facilitation", "ESS"]),
    ("Consultant RSE", ["RSE", "Bilan carbone", "ESS", "Facilitation"]),
    ("Commercial", ["Prospection", "Négociation", "CRM", "Vente B2B"]),
    ("Contrôleur de gestion", ["Comptabilité", "Tableaux de bord", "Excel", "Finance"]),
    ("Monteur vidéo", ["Montage vidéo", "Premiere Pro", "Motion design", "Tournage"]),
    ("Formateur", ["Pédagogie", "Formation d'adultes", "Animation d'ateliers", "Facilitation"]),
    ("Photographe", ["Photographie", "Retouche", "Reportage", "Lightroom"]),
    ("Traducteur", ["Traduction anglais", "Traduction espagnol", "Relecture", "Sous-titrage"]),
    ("Community manager", ["Réseaux sociaux", "Stratégie de contenu", "Rédaction", "Canva"]),
    ("Architecte", ["Architecture", "Rénovation", "Autocad", "Éco-construction"]),
    ("Chargé de communication", ["Relations presse", "Rédaction", "Événementiel", "Canva"]),
    ("Juriste", ["Droit des sociétés", "Statuts coopératifs", "RGPD", "Contrats"]),
    ("Data analyst", ["SQL", "Python", "Visualisation de données", "Statistiques"]),
    ("Illustrateur", ["Illustration", "Bande dessinée", "Aquarelle", "Procreate"]),
    (
        "Cheffe de projet ESS",
        ["ESS", "Gestion de projet", "Financement participatif", "Subventions"],
    ),
    ("Coach professionnel", ["Coaching", "Co-développement", "Orientation", "Facilitation"]),
    ("Développeur mobile", ["Kotlin", "Swift", "Flutter", "API REST"]),
]

# The feminine form where French has one ("graphiste", "journaliste" are both).
FEMININE = {
    "Développeur web": "Développeuse web",
    "Intégrateur web": "Intégratrice web",
    "Consultant": "Consultante",
    "Consultant RSE": "Consultante RSE",
    "Commercial": "Commerciale",
    "Contrôleur de gestion": "Contrôleuse de gestion",
    "Monteur vidéo": "Monteuse vidéo",
    "Formateur": "Formatrice",
    "Traducteur": "Traductrice",
    "Chargé de communication": "Chargée de communication",
    "Illustrateur": "Illustratrice",
    "Chef de projet ESS": "Cheffe de projet ESS",
    "Coach professionnel": "Coach professionnelle",
    "Développeur mobile": "Développeuse mobile",
}

# How the demo's people spread over spaces: (slug, how many call it home).
HOMES = [
    ("casaco", 45),
    ("la-fontaine", 20),
    ("mutualab", 20),
    ("la-grappe", 15),
    ("wereso", 8),
    ("entreprise-ouverte", 8),
    ("besquare", 7),
    ("co-factory", 7),
    ("les-3-teinturiers", 6),
    ("la-maison-du-coworking", 6),
    ("tiers-lieu-solidaire-93", 8),
]
VISIBILITY_WEIGHTS = [
    (Visibility.PUBLIC, 30),
    (Visibility.NETWORK, 40),
    (Visibility.SITE, 20),
    (Visibility.HIDDEN, 10),
]


def demo_person_id(index: int) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"person-{index}")


def demo_people(site_ids: dict[str, int]) -> list[tuple[uuid.UUID, ProfileData]]:
    """About 150 people, the same ones every run (seeded), in every visibility."""
    rng = random.Random(2017)
    people: list[tuple[uuid.UUID, ProfileData]] = []
    kinds, weights = zip(*VISIBILITY_WEIGHTS, strict=True)
    names = {profile.slug: profile.name for profile in SITES}
    index = 0
    for slug, count in HOMES:
        for _ in range(count):
            woman = rng.random() < 0.55
            first = rng.choice(WOMEN if woman else MEN)
            last = rng.choice(LAST_NAMES)
            profession, skills = rng.choice(PROFESSIONS)
            if woman:
                profession = FEMININE.get(profession, profession)
            chosen = rng.sample(skills, k=rng.randint(2, len(skills)))
            visibility = rng.choices(kinds, weights)[0]
            people.append(
                (
                    demo_person_id(index),
                    ProfileData(
                        display_name=f"{first} {last}",
                        profession=profession,
                        bio=f"{profession}, travaille à {names[slug]} "
                        f"et dans le réseau depuis {2015 + index % 9}.",
                        skills=chosen,
                        visibility=visibility,
                        home_site_id=site_ids[slug],
                    ),
                )
            )
            index += 1
    return people


async def load(session: AsyncSession) -> dict[str, int]:
    """Spaces, then people; returns the spaces' ids by slug for the other demo loaders."""
    site_ids: dict[str, int] = {}
    for profile in SITES:
        site, _ = await save_site(session, profile)
        site_ids[site.slug] = site.id
    for person_id, data in demo_people(site_ids):
        await save_person(session, data, person_id=person_id)
    return site_ids
