"""Settings from the environment. Bad configuration is one clear line, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line meant for a person."""


DEFAULT_SQLITE_FILE = "federation.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_MAX_PAGE_SIZE = 100

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    base_url: str = DEFAULT_BASE_URL
    graphiql: bool = True
    introspection: bool = True
    # GraphQL limits: generous for real clients, tight enough that one request cannot
    # ask the database for the whole network.
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    parser_cache_size: int = 512
    # Anonymous query answers kept in memory per process (federation.graphql.cache).
    response_cache: bool = True
    response_cache_size: int = 1024
    response_cache_ttl: int = 30
    # Plain http for the OAuth server is only for loopback and tests (RFC 9700 §2.6).
    allow_insecure_http: bool = False
    sql_echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base_url = _base_url(env.get("FEDERATION_BASE_URL", DEFAULT_BASE_URL))
        loopback = urlsplit(base_url).hostname in {"127.0.0.1", "localhost", "::1"}
        return cls(
            database_url=normalise_database_url(env.get("DATABASE_URL", "")),
            base_url=base_url,
            graphiql=_flag(env, "FEDERATION_GRAPHIQL", default=True),
            introspection=_flag(env, "FEDERATION_INTROSPECTION", default=True),
            max_page_size=_int(env, "FEDERATION_MAX_PAGE_SIZE", DEFAULT_MAX_PAGE_SIZE),
            allow_insecure_http=_flag(env, "FEDERATION_ALLOW_INSECURE_HTTP", default=loopback),
            sql_echo=_flag(env, "FEDERATION_SQL_ECHO", default=False),
            response_cache=_flag(env, "FEDERATION_RESPONSE_CACHE", default=True),
            response_cache_size=_int(env, "FEDERATION_RESPONSE_CACHE_SIZE", 1024),
            response_cache_ttl=_int(env, "FEDERATION_RESPONSE_CACHE_TTL", 30),
        )


def normalise_database_url(raw: str) -> str:
    """Turn what a person writes into the async driver URL SQLAlchemy needs.

    Accepts `sqlite:///file.db`, `postgresql://…`, `postgres://…` (Heroku-style) and the
    explicit driver forms. An empty value means the SQLite file in the working directory.
    """
    raw = raw.strip()
    if not raw:
        return f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(f"DATABASE_URL is not a database URL: {mask_password(raw)!r}") from None
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        if not url.host and not url.query.get("host"):
            raise ConfigError(f"DATABASE_URL names no PostgreSQL host: {mask_password(raw)!r}")
        if not url.database:
            raise ConfigError(f"DATABASE_URL names no PostgreSQL database: {mask_password(raw)!r}")
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if not url.database or url.database == ":memory:":
            # An in-memory database would vanish between the migration and the server.
            raise ConfigError("DATABASE_URL must name a SQLite file, e.g. sqlite:///federation.db")
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        raise ConfigError(
            f"DATABASE_URL must be a postgresql:// or sqlite:/// URL, not {backend}:// "
            f"({mask_password(raw)!r})"
        )
    return url.render_as_string(hide_password=False)


def mask_password(url: str | URL) -> str:
    """The URL as it may appear in logs and error messages."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError):
        # Not parseable: still never echo what could be a secret after a colon.
        text = str(url)
        if "@" in text and "://" in text:
            scheme, rest = text.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}"
        return text
    return parsed.render_as_string(hide_password=True)


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {value!r})")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {value!r})") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive (got {number})")
    return number


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"FEDERATION_BASE_URL must be an absolute http(s) URL such as "
            f"https://hub.example.org (got {value!r})"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"FEDERATION_BASE_URL must not carry a query or fragment: {value!r}")
    return value.strip().rstrip("/")
