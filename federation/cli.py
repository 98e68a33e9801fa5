"""`federation ...` commands: parse arguments, call services, print a clear line on failure."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from federation.db import Database, describe_connection_error
from federation.directory import service as directory
from federation.directory.models import Amenity, LegalForm
from federation.errors import FederationError
from federation.settings import ConfigError, Settings

EXIT_OK, EXIT_REFUSED, EXIT_CONFIG = 0, 1, 2

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_CONFIG
    try:
        settings = Settings.from_env()
        result: int = args.run(args, settings)
    except ConfigError as error:
        print(f"federation: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except FederationError as error:
        print(f"federation: {error.message}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `federation site list | head`
        return EXIT_OK
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="federation",
        description="The Tiers-Lieux federation hub. DATABASE_URL chooses the database "
        "(default: ./federation.db, SQLite).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve the hub")
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo", help="migrate, then load the demo network (idempotent)")
    demo.set_defaults(run=cmd_demo)

    site = commands.add_parser("site", help="spaces of the network").add_subparsers(
        title="site commands", metavar="SUBCOMMAND"
    )
    add = site.add_parser("add", help="add a space to the network")
    add.add_argument("slug", help="short name in URLs, e.g. la-grappe")
    add.add_argument("--name", required=True)
    add.add_argument("--legal-form", required=True, choices=[f.value for f in LegalForm])
    add.add_argument("--address", required=True)
    add.add_argument("--postcode", required=True)
    add.add_argument("--city", required=True)
    add.add_argument("--region", required=True, help="e.g. Hauts-de-France")
    add.add_argument("--lat", type=float, required=True)
    add.add_argument("--lon", type=float, required=True)
    add.add_argument("--desks", type=int, default=0)
    add.add_argument("--surface-m2", type=int)
    add.add_argument("--website")
    add.add_argument("--email")
    add.add_argument("--description", default="")
    add.add_argument(
        "--amenity",
        action="append",
        default=[],
        choices=[a.value for a in Amenity],
        help="repeat for each amenity",
    )
    add.add_argument(
        "--joined", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
    )
    add.add_argument(
        "--no-network-passes", action="store_true", help="the space does not accept network passes"
    )
    add.add_argument("--json", action="store_true", help="print the result as JSON")
    add.set_defaults(run=cmd_site_add)

    listing = site.add_parser("list", help="list the spaces")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_site_list)
    return parser


Work = Callable[[Database], Coroutine[Any, Any, int]]


def with_database(settings: Settings, work: Work) -> int:
    """Migrate (a no-op when up to date), then run one command's work on the database."""
    migrate_database(settings)
    return run_async(settings, work)


def run_async(settings: Settings, work: Work) -> int:
    """Run one command against the database, turning an unreachable one into one clear line."""

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            return await work(db)
        except (OperationalError, DBAPIError) as error:
            raise ConfigError(describe_connection_error(settings.database_url, error)) from None
        finally:
            await db.dispose()

    return asyncio.run(go())


def migrate_database(settings: Settings) -> None:
    from federation.migrations import upgrade

    async def reachable(db: Database) -> int:
        await db.check()
        return EXIT_OK

    run_async(settings, reachable)
    try:
        upgrade(settings.database_url)
    except (OperationalError, DBAPIError, OSError) as error:
        raise ConfigError(describe_connection_error(settings.database_url, error)) from None


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    migrate_database(settings)
    print("federation: database is up to date")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    migrate_database(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        "federation.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        server_header=False,
    )
    return EXIT_OK


def cmd_demo(_: argparse.Namespace, settings: Settings) -> int:
    from federation.demo import load_demo

    summary = with_database(settings, load_demo)
    print(
        "federation: the demo network is loaded"
        if summary == EXIT_OK
        else "federation: demo failed"
    )
    return summary


def cmd_site_add(args: argparse.Namespace, settings: Settings) -> int:
    profile = directory.SiteProfile(
        slug=args.slug,
        name=args.name,
        legal_form=LegalForm(args.legal_form),
        address=args.address,
        postcode=args.postcode,
        city=args.city,
        region=args.region,
        lat=args.lat,
        lon=args.lon,
        desks=args.desks,
        surface_m2=args.surface_m2,
        website=args.website,
        email=args.email,
        description=args.description,
        amenities=[Amenity(a) for a in args.amenity],
        joined_at=args.joined or date.today(),
        accepts_network_passes=not args.no_network_passes,
    )

    async def add(db: Database) -> int:
        async with db.transaction() as session:
            site, _ = await directory.save_site(session, profile, create_only=True)
            result = {
                "slug": site.slug,
                "name": site.name,
                "city": site.city,
                "region": site.region,
            }
        print(json.dumps(result) if args.json else f"added {site.name} ({site.slug})")
        return EXIT_OK

    return with_database(settings, add)


def cmd_site_list(args: argparse.Namespace, settings: Settings) -> int:
    async def show(db: Database) -> int:
        async with db.reading() as session:
            sites = await directory.all_sites(session)
        if args.json:
            print(json.dumps([{"slug": s.slug, "name": s.name, "city": s.city} for s in sites]))
        else:
            for s in sites:
                print(f"{s.slug:24} {s.name} ({s.city})")
        return EXIT_OK

    return with_database(settings, show)
