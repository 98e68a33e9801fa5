"""The statistics as one CSV table for spreadsheets. Pure: no I/O.

One header, one row per figure group, a `section` column to filter on: `total` and
`previous` (the range and the one before), `period` (the series), `site` (each space),
`visit` (a home -> host cell of the matrix). Semicolon-separated, UTF-8 with a byte order
mark (what spreadsheets in France open without asking), decimal commas on request.
Suppressed figures are empty cells with `suppressed` = 1; figures a section does not have
are empty too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from federation.stats.service import NetworkFigures, Totals
from federation.usage.models import UseKind

COLUMNS = (
    "section",
    "period",
    "from",
    "to",
    "site",
    "site_name",
    "home_site",
    "uses",
    "open_space",
    "office",
    "meeting_room",
    "active_coworkers",
    "new_members",
    "occupancy_rate",
    "cross_site_visits",
    "suppressed",
)
KIND_COLUMNS = {
    UseKind.OPEN_SPACE: "open_space",
    UseKind.OFFICE: "office",
    UseKind.MEETING_ROOM: "meeting_room",
}

Cell = str | int | float | None


def write(
    figures: NetworkFigures, sites: Mapping[int, tuple[str, str]], *, decimal_comma: bool = False
) -> bytes:
    """The CSV file's bytes; `sites` gives each space id its (slug, name)."""

    def number(value: float | None) -> str:
        if value is None:
            return ""
        text = f"{value:.4f}"
        return text.replace(".", ",") if decimal_comma else text

    def row(section: str, **cells: Cell) -> list[str]:
        values = {**cells, "section": section}
        if "occupancy_rate" in values:
            rate = values["occupancy_rate"]
            values["occupancy_rate"] = number(rate if isinstance(rate, float) else None)
        return ["" if values.get(c) is None else str(values[c]) for c in COLUMNS]

    def totals(section: str, first: object, last: object, t: Totals) -> list[str]:
        return row(
            section,
            **{"from": str(first), "to": str(last)},
            uses=t.uses,
            active_coworkers=t.active_coworkers,
            new_members=t.new_members,
            occupancy_rate=t.occupancy_rate,
            cross_site_visits=t.cross_site_visits,
            suppressed=0,
        )

    request = figures.request
    rows = [
        list(COLUMNS),
        totals("total", request.first, request.last, figures.totals),
        totals("previous", figures.previous.first, figures.previous.last, figures.previous.totals),
    ]
    for p in figures.series:
        rows.append(
            row(
                "period",
                period=p.label,
                **{"from": str(p.first), "to": str(p.last)},
                uses=p.uses,
                active_coworkers=p.active_coworkers,
                occupancy_rate=p.occupancy_rate,
                suppressed=0,
            )
        )
    for s in figures.by_site:
        slug, name = sites[s.site_id]
        kinds = {KIND_COLUMNS[kind]: count for kind, count in s.uses_by_kind.items()}
        rows.append(
            row(
                "site",
                **{"from": str(request.first), "to": str(request.last)},
                site=slug,
                site_name=name,
                uses=s.uses,
                **kinds,
                active_coworkers=s.active_coworkers,
                occupancy_rate=s.occupancy_rate,
                suppressed=int(s.suppressed),
            )
        )
    for v in figures.visits:
        slug, name = sites[v.host_site_id]
        rows.append(
            row(
                "visit",
                **{"from": str(request.first), "to": str(request.last)},
                site=slug,
                site_name=name,
                home_site=sites[v.home_site_id][0],
                cross_site_visits=v.uses,
                suppressed=int(v.suppressed),
            )
        )
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
