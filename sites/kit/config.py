"""`site.toml`: which space, which hub, which sources. Errors name the key and the line."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("ics", "csv", "rest", "kiosk")
DEFAULT_HUB = "http://127.0.0.1:8000"


class ConfigError(Exception):
    """site.toml is missing, malformed or incomplete; the message says where."""


@dataclass(frozen=True)
class SourceConfig:
    kind: str
    options: dict[str, Any]
    folder: Path
    index: int

    def require(self, key: str, text: str) -> Any:
        if key not in self.options:
            raise ConfigError(
                f"site.toml: source #{self.index + 1} ({self.kind}) needs `{key}`"
                + _line_hint(text, "[[source]]", self.index)
            )
        return self.options[key]

    def path_or_url(self, key: str = "url") -> str:
        value = str(self.options.get(key) or self.options.get("path") or "")
        if value.startswith(("http://", "https://")):
            return value
        return str((self.folder / value).resolve())


@dataclass(frozen=True)
class SiteConfig:
    folder: Path
    site: str
    hub: str
    sources: list[SourceConfig] = field(default_factory=list)
    batch_size: int = 5000
    timezone: str = "Europe/Paris"

    @property
    def state_file(self) -> Path:
        return self.folder / ".sync-state.json"


def _line_hint(text: str, needle: str, occurrence: int = 0) -> str:
    found = [i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith(needle)]
    if len(found) > occurrence:
        return f" (line {found[occurrence]})"
    return ""


def _key_line(text: str, key: str) -> str:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return f" (line {number})"
    return ""


def load(folder: Path, environ: dict[str, str] | None = None) -> SiteConfig:
    """Read `<folder>/site.toml`; FEDERATION_HUB_URL overrides `hub`."""
    env = os.environ if environ is None else environ
    path = folder / "site.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (a space's folder holds its site.toml)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: malformed TOML: {error}") from None
    site = raw.get("site")
    if not isinstance(site, str) or not site:
        raise ConfigError(
            f"{path}: `site` must be the space's slug, a string{_key_line(text, 'site')}"
        )
    hub = env.get("FEDERATION_HUB_URL") or raw.get("hub") or DEFAULT_HUB
    if not isinstance(hub, str) or not hub.startswith(("http://", "https://")):
        raise ConfigError(f"{path}: `hub` must be an http(s) URL{_key_line(text, 'hub')}")
    batch_size = raw.get("batch_size", 5000)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= 10_000:
        raise ConfigError(
            f"{path}: `batch_size` is a number of records, 1 to 10000"
            + _key_line(text, "batch_size")
        )
    timezone = raw.get("timezone", "Europe/Paris")
    if not isinstance(timezone, str):
        raise ConfigError(f"{path}: `timezone` is a zone name{_key_line(text, 'timezone')}")
    sources_raw = raw.get("source", [])
    if not isinstance(sources_raw, list) or not sources_raw:
        raise ConfigError(f"{path}: at least one [[source]] is needed")
    sources: list[SourceConfig] = []
    for index, options in enumerate(sources_raw):
        kind = options.get("kind")
        if kind not in KINDS:
            raise ConfigError(
                f"{path}: source #{index + 1}: `kind` is one of {', '.join(KINDS)} "
                f"(got {kind!r}){_line_hint(text, '[[source]]', index)}"
            )
        for secret in ("client_secret", "secret", "password"):
            if secret in options:
                raise ConfigError(
                    f"{path}: source #{index + 1}: `{secret}` does not belong in the file; "
                    f"credentials come from the environment{_key_line(text, secret)}"
                )
        sources.append(SourceConfig(kind, dict(options), folder, index))
    return SiteConfig(
        folder=folder,
        site=site,
        hub=hub.rstrip("/"),
        sources=sources,
        batch_size=batch_size,
        timezone=timezone,
    )
