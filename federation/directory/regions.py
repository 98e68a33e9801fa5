"""France's regions (2016 map, plus overseas), the directory's `region` vocabulary."""

from __future__ import annotations

from federation.errors import BadUserInput
from federation.kit.text import fold

REGIONS: tuple[str, ...] = (
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
    "Guadeloupe",
    "Martinique",
    "Guyane",
    "La Réunion",
    "Mayotte",
)

_BY_KEY = {fold(name).replace("-", " "): name for name in REGIONS}


def canonical_region(text: str) -> str:
    """'ile de france' -> 'Île-de-France'; BAD_USER_INPUT for a region France does not have."""
    found = _BY_KEY.get(fold(text).replace("-", " "))
    if found is None:
        raise BadUserInput(
            f"unknown region {text!r}; expected one of: {', '.join(REGIONS)}", argument="region"
        )
    return found
