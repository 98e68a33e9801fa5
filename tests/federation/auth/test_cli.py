"""`federation user|client|keys ...` as an operator uses them: real processes, real exit codes."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from federation.auth.models import Account, OAuthClient
from federation.auth.service import digest
from federation.db import Database
from tests.federation.test_cli import federation


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub database with Casaco and La Grappe, made once through the CLI."""
    path = tmp_path_factory.mktemp("cli") / "hub.db"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    for slug, name, city, region in [
        ("casaco", "Casaco", "Malakoff", "Île-de-France"),
        ("la-grappe", "La Grappe", "Lille", "Hauts-de-France"),
    ]:
        added = federation(
            "site",
            "add",
            slug,
            "--name",
            name,
            "--legal-form",
            "ASSOCIATION",
            "--address",
            "1 rue",
            "--postcode",
            "00000",
            "--city",
            city,
            "--region",
            region,
            "--lat",
            "48.8",
            "--lon",
            "2.3",
            env=env,
        )
        assert added.returncode == 0, added.stderr
    return path


@pytest.fixture
def env(template: Path, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "hub.db"
    shutil.copyfile(template, path)
    return {"DATABASE_URL": f"sqlite:///{path}"}


def rows(env: dict[str, str], model: type) -> list:  # type: ignore[type-arg]
    async def read() -> list:  # type: ignore[type-arg]
        db = Database(env["DATABASE_URL"].replace("sqlite:", "sqlite+aiosqlite:"))
        try:
            async with db.reading() as session:
                return list(await session.scalars(select(model)))
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_user_create_makes_a_coordinator_with_a_password_from_stdin(env: dict[str, str]) -> None:
    made = federation(
        "user",
        "create",
        "Coordination@Example.org",
        "--name",
        "Coordination",
        "--role",
        "coordinator",
        "--password-stdin",
        "--json",
        env=env,
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["email"] == "Coordination@Example.org"
    assert result["role"] == "coordinator"
    assert {"id", "person_id", "managed_sites", "home_site"} <= result.keys()
    [account] = rows(env, Account)
    assert account.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in account.password_hash
    again = federation(
        "user",
        "create",
        "coordination@example.ORG",
        "--name",
        "X",
        "--role",
        "coworker",
        "--password-stdin",
        env=env,
        stdin="another password!\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_user_create_refuses_what_does_not_make_sense(env: dict[str, str]) -> None:
    cases = [
        (["manager@example.org", "--role", "manager"], "at least one space", "x" * 12),
        (["short@example.org", "--role", "coworker"], "at least 10 characters", "short"),
    ]
    for args, says, password in cases:
        result = federation(
            "user",
            "create",
            *args,
            "--name",
            "N",
            "--password-stdin",
            env=env,
            stdin=password + "\n",
        )
        assert result.returncode == 1, (args, result.stderr)
        assert says in result.stderr
        assert "Traceback" not in result.stderr
    no_tty = federation(
        "user", "create", "a@example.org", "--name", "A", "--role", "coworker", env=env, stdin=""
    )
    assert no_tty.returncode == 2
    assert "--password-stdin" in no_tty.stderr


def test_a_manager_may_manage_several_spaces(env: dict[str, str]) -> None:
    made = federation(
        "user",
        "create",
        "lille@example.org",
        "--name",
        "Lille",
        "--role",
        "manager",
        "--site",
        "la-grappe",
        "--site",
        "casaco",
        "--password-stdin",
        "--json",
        env=env,
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["managed_sites"] == ["casaco", "la-grappe"]


def test_client_create_prints_the_secret_once_and_stores_only_its_hash(
    env: dict[str, str],
) -> None:
    made = federation(
        "client",
        "create",
        "--name",
        "Adaptateur Casaco",
        "--site",
        "casaco",
        "--grant",
        "client_credentials",
        "--scope",
        "sync:write checkin:write",
        "--json",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["scope"] == "sync:write checkin:write"
    secret = result["client_secret"]
    [client] = rows(env, OAuthClient)
    assert client.secret_hash == digest(secret)
    assert secret not in json.dumps(
        [client.client_id, client.name, client.scope, client.redirect_uris]
    )
    listed = federation("client", "list", "--json", env=env)
    assert listed.returncode == 0
    [entry] = json.loads(listed.stdout)
    assert entry["client_id"] == result["client_id"]
    assert entry["site"] == "casaco"
    assert secret not in listed.stdout
    text = federation("client", "list", env=env)
    assert "active" in text.stdout
    assert secret not in text.stdout


def test_a_public_client_gets_no_secret(env: dict[str, str]) -> None:
    made = federation(
        "client",
        "create",
        "--name",
        "Appli mobile",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        "org.tiers-lieux.app:/callback",
        "--scope",
        "profile passes",
        "--public",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "client_id:" in made.stdout
    assert "client_secret" not in made.stdout
    assert "PKCE" in made.stdout


def test_client_create_refuses_unsafe_or_meaningless_clients(env: dict[str, str]) -> None:
    public_cc = ["--grant", "client_credentials", "--scope", "sync:write", "--public"]
    plain_http = ["--grant", "authorization_code", "--scope", "profile"]
    plain_http += ["--redirect-uri", "http://app.example.org/cb"]
    # As in production: plain http is not allowed (a loopback base URL would allow it).
    strict = {**env, "FEDERATION_ALLOW_INSECURE_HTTP": "0"}
    for args, says in [(public_cc, "cannot be public"), (plain_http, "loopback")]:
        result = federation("client", "create", "--name", "X", *args, env=strict)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert says in result.stderr
    assert rows(env, OAuthClient) == []


def test_client_revoke_revokes_once_and_says_so(env: dict[str, str]) -> None:
    made = json.loads(
        federation(
            "client",
            "create",
            "--name",
            "Kiosque",
            "--site",
            "casaco",
            "--grant",
            "client_credentials",
            "--scope",
            "checkin:write",
            "--json",
            env=env,
        ).stdout
    )
    revoked = federation("client", "revoke", made["client_id"], env=env)
    assert revoked.returncode == 0
    assert "revoked" in revoked.stdout
    again = federation("client", "revoke", made["client_id"], env=env)
    assert "already revoked" in again.stdout
    unknown = federation("client", "revoke", "tl_nobody", env=env)
    assert unknown.returncode == 1
    assert "no client" in unknown.stderr
    [entry] = json.loads(federation("client", "list", "--json", env=env).stdout)
    assert entry["revoked_at"] is not None


def test_keys_rotate_makes_a_new_key_sign_while_the_old_one_verifies(env: dict[str, str]) -> None:
    first = json.loads(federation("keys", "rotate", "--json", env=env).stdout)
    second = federation("keys", "rotate", "--json", env=env)
    assert second.returncode == 0, second.stderr
    new = json.loads(second.stdout)
    assert new["kid"] != first["kid"]
    listed = json.loads(federation("keys", "list", "--json", env=env).stdout)
    assert [key["kid"] for key in listed] == [new["kid"], first["kid"]]
    assert listed[0]["retires_at"] is None
    assert listed[1]["retires_at"] is not None
    text = federation("keys", "list", env=env)
    assert "signs" in text.stdout
    assert "verifies until" in text.stdout
