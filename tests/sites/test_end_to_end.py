"""From a space's own files, through `python -m sites run` and a running hub with a real
client-credentials token, to the hub's GraphQL answers; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from federation.access import Role, Viewer
from federation.auth.models import GrantKind
from sites.kit.runner import run
from tests.factories import make_site
from tests.federation.auth.support import MadeClient, make_client
from tests.sites.hub_server import serving
from tests.support import Hub

ROOT = Path(__file__).resolve().parents[2]
COORDINATOR = Viewer(roles=frozenset({Role.COORDINATOR}), person_id=__import__("uuid").uuid4())
STATS = """
query($site: String!) {
  networkStats(from: "2026-01-01", to: "2026-02-28", sites: [$site]) { totals { uses } }
}
"""
RUNS = '{ syncRuns(site: "%s") { totalCount nodes { created rejectedCount } } }'


def space(tmp_path: Path, name: str, *, without: str | None = None) -> Path:
    folder = tmp_path / name
    shutil.copytree(ROOT / "sites" / name, folder)
    if without is not None:  # drop the sources of one kind from site.toml
        text = (folder / "site.toml").read_text(encoding="utf-8")
        blocks = text.split("[[source]]")
        kept = [b for b in blocks[1:] if f'kind = "{without}"' not in b]
        (folder / "site.toml").write_text("[[source]]".join([blocks[0], *kept]), encoding="utf-8")
    return folder


async def client_for(hub: Hub, slug: str) -> MadeClient:
    await make_site(hub.db, slug)
    return await make_client(
        hub.db, grant=GrantKind.CLIENT_CREDENTIALS, site=slug, scope="sync:write"
    )


def env(base: str, client: MadeClient) -> dict[str, str]:
    assert client.secret is not None
    return {
        "FEDERATION_HUB_URL": base,
        "SITE_CLIENT_ID": client.client_id,
        "SITE_CLIENT_SECRET": client.secret,
    }


async def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def uses_of(hub: Hub, slug: str) -> int:
    data = await hub.data(STATS, {"site": slug}, viewer=COORDINATOR)
    uses: int = data["networkStats"]["totals"]["uses"]
    return uses


async def test_la_fontaine_syncs_with_one_command_and_a_second_run_sends_nothing(
    hub: Hub, tmp_path: Path
) -> None:
    client = await client_for(hub, "la-fontaine")
    folder = space(tmp_path, "la-fontaine")
    with serving(hub.db.url) as base:
        first = await in_thread(
            subprocess.run,
            [sys.executable, "-m", "sites", "run", str(folder)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**env(base, client), "PATH": ""},
            check=False,
        )
        assert first.returncode == 0, first.stderr
        assert "sent 225 records" in first.stdout
        again = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
    assert again.total == 0
    halves = sum(
        int(line.rsplit(";", 1)[1])
        for line in (folder / "utilisations.csv").read_bytes().decode("cp1252").splitlines()[1:]
    )
    assert await uses_of(hub, "la-fontaine") == halves
    runs = (await hub.data(RUNS % "la-fontaine", viewer=COORDINATOR))["syncRuns"]
    assert runs["totalCount"] == 1
    assert runs["nodes"][0] == {"created": 225, "rejectedCount": 0}


async def test_mutualab_syncs_from_its_api_and_a_changed_source_sends_only_the_change(
    hub: Hub, tmp_path: Path
) -> None:
    client = await client_for(hub, "mutualab")
    folder = space(tmp_path, "mutualab", without="ics")
    with serving(hub.db.url) as base:
        first = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
        assert first.rejected == []
        assert first.applied["created"] == 444
        uses = await uses_of(hub, "mutualab")
        pages = folder / "api" / "check_ins-2"
        text = pages.read_text(encoding="utf-8")
        pages.write_text(text.replace('"id": "ci-00400",', '"id": "ci-00400-gone",', 1))
        second = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
    assert second.total == 2  # the new id, and a delete for the old one
    assert second.applied["created"] == 1
    assert second.applied["deleted"] == 1
    assert await uses_of(hub, "mutualab") == uses


async def test_a_refusing_hub_stops_with_a_message_naming_the_record(
    hub: Hub, tmp_path: Path
) -> None:
    client = await client_for(hub, "casaco")
    folder = space(tmp_path, "casaco", without="ics")
    wrong = {**env("http://127.0.0.1:9", client)}
    with serving(hub.db.url) as base:
        wrong["FEDERATION_HUB_URL"] = base
        wrong["SITE_CLIENT_SECRET"] = "not-the-secret"
        done = await in_thread(
            subprocess.run,
            [sys.executable, "-m", "sites", "run", str(folder)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=wrong,
            check=False,
        )
    assert done.returncode == 1
    assert "SITE_CLIENT_ID" in done.stderr
    assert not (folder / ".sync-state.json").exists()


EVENTS = """
query($site: String!) {
  events(site: $site, from: "2026-01-01T00:00:00Z", to: "2026-03-31T00:00:00Z", first: 100) {
    nodes { title category startsAt status }
  }
}
"""


@pytest.mark.parametrize("name", ["casaco"])
async def test_casaco_syncs_its_calendar_and_spreadsheets_into_events_and_statistics(
    hub: Hub, tmp_path: Path, name: str
) -> None:
    client = await client_for(hub, name)
    folder = space(tmp_path, name)
    with serving(hub.db.url) as base:
        report = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
        assert report.rejected == []
        assert report.applied["created"] == 6 + 40 + 527
        assert await uses_of(hub, name) > 527  # full days count two
        found = (await hub.data(EVENTS, {"site": name}))["events"]["nodes"]
        titles = {e["title"] for e in found}
        assert {
            "Casapéro",
            "Casapéro spécial anniversaire",
            "Atelier de co-développement",
        } <= titles
        assert {e["category"] for e in found if e["title"] == "Casapéro"} == {"AFTERWORK"}
        assert not any(
            e["startsAt"].startswith("2026-02-12") and e["title"] == "Casapéro" for e in found
        )  # EXDATE
        # The feed drops an event: the next run cancels it (it stays visible as cancelled).
        feed = folder / "events.ics"
        text = feed.read_text(encoding="utf-8")
        start = text.index("BEGIN:VEVENT\nUID:casacademie")
        feed.write_text(text[:start] + text[text.index("END:VEVENT\n", start) + 11 :])
        second = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
        assert second.total == 1
        assert second.applied["deleted"] == 1
        third = await in_thread(run, folder, environ=env(base, client), say=lambda _: None)
        assert third.total == 0
    found = (await hub.data(EVENTS, {"site": name}))["events"]["nodes"]
    cancelled = [e for e in found if e["title"].startswith("CASAcadémie")]
    assert [e["status"] for e in cancelled] == ["CANCELLED"]
