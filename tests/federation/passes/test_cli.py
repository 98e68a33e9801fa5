"""`federation settlement YYYY-MM [--csv]` as an operator runs it: a real process."""

from __future__ import annotations

from pathlib import Path

from tests.federation.test_cli import federation


def test_the_settlement_command_prints_and_exports_a_month(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    shown = federation("settlement", "2026-03", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "lines (0):" in shown.stdout
    exported = federation("settlement", "2026-03", "--csv", env=env)
    assert exported.returncode == 0
    assert exported.stdout.startswith("\ufeffmonth;section;")
    refused = federation("settlement", "March", env=env)
    assert refused.returncode == 1
    assert "YYYY-MM" in refused.stderr
