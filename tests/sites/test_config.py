"""site.toml: what a space writes, and the messages when it is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sites.kit.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_hub_url_can_be_overridden_from_the_environment(tmp_path: Path) -> None:
    folder = write(
        tmp_path, 'site = "casaco"\nhub = "http://a"\n[[source]]\nkind = "ics"\nurl = "x"\n'
    )
    assert load(folder, {}).hub == "http://a"
    assert load(folder, {"FEDERATION_HUB_URL": "https://hub.example/"}).hub == "https://hub.example"


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    folder = write(tmp_path, 'site = "casaco"\nhub = http://a\n')
    with pytest.raises(ConfigError, match="line 2"):
        load(folder, {})


def test_a_wrong_key_names_the_key_and_its_line(tmp_path: Path) -> None:
    folder = write(tmp_path, 'site = "casaco"\nbatch_size = 50000\n[[source]]\nkind = "ics"\n')
    with pytest.raises(ConfigError, match=r"`batch_size`.*line 2"):
        load(folder, {})
    folder = write(tmp_path, 'site = "casaco"\n\n[[source]]\nkind = "ftp"\n')
    with pytest.raises(ConfigError, match=r"`kind`.*line 3"):
        load(folder, {})


def test_secrets_never_come_from_the_file(tmp_path: Path) -> None:
    folder = write(tmp_path, 'site = "c"\n[[source]]\nkind = "rest"\nclient_secret = "x"\n')
    with pytest.raises(ConfigError, match=r"environment.*line 4"):
        load(folder, {})


def test_the_command_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    folder = write(tmp_path, "site = \n")
    done = subprocess.run(
        [sys.executable, "-m", "sites", "run", str(folder), "--dry-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "line 1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("space", ["casaco", "la-fontaine", "mutualab"])
def test_each_real_space_has_a_dry_run(space: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sites", "run", f"sites/{space}", "--dry-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
    assert "membership:" in done.stdout
