"""The `federation` command as a person uses it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def federation(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "federation", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://hub:s3cret@127.0.0.1:1/federation", "cannot reach the database"),
        ("mysql://hub:s3cret@localhost/federation", "must be a postgresql:// or sqlite:///"),
        ("postgresql://hub:s3cret@", "names no PostgreSQL host"),
    ],
)
def test_a_bad_database_is_one_line_exit_2_and_no_traceback(url: str, says: str) -> None:
    result = federation("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 2
    assert says in result.stderr
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_refuses_an_unreachable_database_before_listening() -> None:
    result = federation(
        "serve", "--port", "0", env={"DATABASE_URL": "postgresql://x:y@127.0.0.1:1/z"}
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr


def test_migrate_creates_the_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "federation", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "federation.db").is_file()


def test_a_space_can_be_added_and_listed(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    added = federation(
        "site",
        "add",
        "la-grappe",
        "--name",
        "La Grappe",
        "--legal-form",
        "ASSOCIATION",
        "--address",
        "75 rue Léon Gambetta",
        "--postcode",
        "59000",
        "--city",
        "Lille",
        "--region",
        "hauts-de-france",
        "--lat",
        "50.6296",
        "--lon",
        "3.0553",
        "--desks",
        "30",
        "--amenity",
        "MEETING_ROOM",
        "--json",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {
        "slug": "la-grappe",
        "name": "La Grappe",
        "city": "Lille",
        "region": "Hauts-de-France",
    }
    again = federation(
        "site",
        "add",
        "la-grappe",
        "--name",
        "La Grappe",
        "--legal-form",
        "ASSOCIATION",
        "--address",
        "x",
        "--postcode",
        "59000",
        "--city",
        "Lille",
        "--region",
        "Hauts-de-France",
        "--lat",
        "50.6",
        "--lon",
        "3.0",
        env=env,
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    listed = federation("site", "list", "--json", env=env)
    assert [s["slug"] for s in json.loads(listed.stdout)] == ["la-grappe"]


def test_adding_a_space_in_an_unknown_region_says_which_regions_exist(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    result = federation(
        "site",
        "add",
        "x-space",
        "--name",
        "X",
        "--legal-form",
        "SCOP",
        "--address",
        "1 rue",
        "--postcode",
        "00000",
        "--city",
        "Nowhere",
        "--region",
        "Atlantis",
        "--lat",
        "1",
        "--lon",
        "1",
        env=env,
    )
    assert result.returncode == 1
    assert "unknown region 'Atlantis'" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_command_it_prints_help_and_exits_2() -> None:
    result = federation()
    assert result.returncode == 2
    assert "serve" in result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_and_answers_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "federation", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        health = None
        for _ in range(150):  # wait for start-up: polling, not a timing assertion
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "the server never answered"
        assert health.json() == {"status": "ok", "database": "ok"}
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": "{ sites { totalCount } }"}
        )
        assert answer.json() == {"data": {"sites": {"totalCount": 0}}}
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert server.stderr is not None
        server.stderr.close()
