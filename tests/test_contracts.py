"""The contracts others rely on: the exported GraphQL schema and the container wiring."""

from __future__ import annotations

from pathlib import Path

import yaml

from federation.schema import export_sdl

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_is_exactly_what_the_code_exports() -> None:
    on_disk = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert on_disk == export_sdl(), (
        "schema/schema.graphql is stale: run `make schema` and commit it"
    )


def test_the_schema_offers_the_stable_roots() -> None:
    sdl = export_sdl()
    for root in ("sites(", "site(", "members("):
        assert f"  {root}" in sdl


def test_compose_runs_the_hub_on_postgresql_15_with_a_healthcheck_and_a_volume() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    db, hub = services["db"], services["hub"]

    assert db["image"].startswith("postgres:15")
    assert "healthcheck" in db
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")
    assert volume[0] in compose["volumes"]
    assert volume[1] == "/var/lib/postgresql/data"

    assert hub["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / hub["build"]["context"] / hub["build"]["dockerfile"]).is_file()
    assert hub["depends_on"]["db"]["condition"] == "service_healthy"
    env = hub["environment"]
    url = env["DATABASE_URL"]
    # The hub reaches the db service by its name, with the db's own credentials.
    assert url.startswith("postgresql://")
    assert "@db:5432/" in url
    user, password = url.split("://")[1].split("@")[0].split(":")
    assert (user, password) == (
        db["environment"]["POSTGRES_USER"],
        db["environment"]["POSTGRES_PASSWORD"],
    )
    assert url.rsplit("/", 1)[1] == db["environment"]["POSTGRES_DB"]
    assert env["FEDERATION_BASE_URL"].startswith("http")
    port = hub["ports"][0].split(":")
    assert port[-1] == "8000"
    assert "healthz" in " ".join(hub["healthcheck"]["test"])


def test_the_image_runs_as_a_non_root_user_and_serves_on_all_interfaces() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    lines = [
        line.strip()
        for line in dockerfile.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    users = [line for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"USER root", "USER 0"}
    assert any(line.startswith("FROM python:3.1") and "slim" in line for line in lines)
    cmd = next(line for line in reversed(lines) if line.startswith(("CMD", "ENTRYPOINT")))
    assert "serve" in cmd
    assert "0.0.0.0" in cmd
    assert "HEALTHCHECK" in dockerfile
