"""Configuration from the environment: sensible defaults, one clear line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.settings import ConfigError, Settings, mask_password, normalise_database_url


def test_without_database_url_the_hub_uses_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'federation.db'}"
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://hub:pw@db:5432/federation",
            "postgresql+psycopg://hub:pw@db:5432/federation",
        ),
        ("postgres://hub:pw@db/federation", "postgresql+psycopg://hub:pw@db/federation"),
        ("postgresql+psycopg://hub@db/federation", "postgresql+psycopg://hub@db/federation"),
        ("sqlite:///hub.db", "sqlite+aiosqlite:///hub.db"),
    ],
)
def test_database_urls_are_normalised_to_the_async_drivers(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://u:secret@h/db", "must be a postgresql:// or sqlite:/// URL"),
        ("not a url", "is not a database URL"),
        ("postgresql://u:secret@/db", "names no PostgreSQL host"),
        ("postgresql://u:secret@host", "names no PostgreSQL database"),
        ("sqlite://", "must name a SQLite file"),
    ],
)
def test_a_bad_database_url_is_one_clear_line_without_the_password(
    given: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        normalise_database_url(given)
    text = str(raised.value)
    assert message in text
    assert "secret" not in text
    assert "\n" not in text


def test_passwords_are_masked_even_in_urls_sqlalchemy_cannot_parse() -> None:
    assert "secret" not in mask_password("postgresql://user:secret@host/db")
    assert "secret" not in mask_password("weird://user:secret@host:notaport/db")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FEDERATION_BASE_URL": "hub.example.org"}, "FEDERATION_BASE_URL must be an absolute"),
        ({"FEDERATION_GRAPHIQL": "maybe"}, "FEDERATION_GRAPHIQL must be one of"),
        ({"FEDERATION_MAX_PAGE_SIZE": "lots"}, "FEDERATION_MAX_PAGE_SIZE must be a whole number"),
    ],
)
def test_other_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_graphiql_and_introspection_can_be_switched_off() -> None:
    settings = Settings.from_env({"FEDERATION_GRAPHIQL": "off", "FEDERATION_INTROSPECTION": "0"})
    assert (settings.graphiql, settings.introspection) == (False, False)


def test_insecure_http_is_allowed_only_for_a_loopback_base_url_unless_set() -> None:
    assert Settings.from_env({}).allow_insecure_http is True
    public = Settings.from_env({"FEDERATION_BASE_URL": "http://hub.example.org"})
    assert public.allow_insecure_http is False
