"""One module per kind of source, each with `read(source, site) -> list[Record]`."""

from __future__ import annotations

from collections.abc import Callable

from sites.kit.config import SiteConfig, SourceConfig
from sites.kit.records import Record
from sites.kit.sources import csv, ics, kiosk, rest

Reader = Callable[[SourceConfig, SiteConfig], list[Record]]

READERS: dict[str, Reader] = {
    "ics": ics.read,
    "csv": csv.read,
    "rest": rest.read,
    "kiosk": kiosk.read,
}


def read(source: SourceConfig, site: SiteConfig) -> list[Record]:
    return READERS[source.kind](source, site)
