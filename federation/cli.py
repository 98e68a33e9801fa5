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

from federation.access import Role
from federation.auth import service as auth
from federation.auth.models import GrantKind
from federation.auth.tokens import SCOPE_NAMES
from federation.db import Database, describe_connection_error
from federation.directory import service as directory
from federation.directory.models import Amenity, LegalForm
from federation.errors import FederationError
from federation.keys import service as keys
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

    user = commands.add_parser("user", help="people's accounts").add_subparsers(
        title="user commands", metavar="SUBCOMMAND"
    )
    create_user = user.add_parser(
        "create", help="create an account (and its hidden directory profile)"
    )
    create_user.add_argument("email")
    create_user.add_argument("--name", required=True, help="the name the person shows")
    create_user.add_argument("--role", required=True, choices=[r.value for r in Role])
    create_user.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="SLUG",
        help="a manager's space (repeat for several); for others, their home space",
    )
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.add_argument("--json", action="store_true", help="print the result as JSON")
    create_user.set_defaults(run=cmd_user_create)

    client = commands.add_parser("client", help="OAuth clients").add_subparsers(
        title="client commands", metavar="SUBCOMMAND"
    )
    create_client = client.add_parser(
        "create", help="register an OAuth client; prints its secret once"
    )
    create_client.add_argument("--name", required=True)
    create_client.add_argument(
        "--site", metavar="SLUG", help="the space whose software this is (its tokens act for it)"
    )
    create_client.add_argument("--grant", required=True, choices=[g.value for g in GrantKind])
    create_client.add_argument(
        "--redirect-uri", action="append", default=[], metavar="URI", help="repeat for several"
    )
    create_client.add_argument(
        "--scope", required=True, help=f"space-separated, among: {' '.join(SCOPE_NAMES)}"
    )
    create_client.add_argument(
        "--public", action="store_true", help="no secret (a browser or mobile app): PKCE only"
    )
    create_client.add_argument("--json", action="store_true")
    create_client.set_defaults(run=cmd_client_create)
    list_clients = client.add_parser("list", help="list the clients")
    list_clients.add_argument("--json", action="store_true")
    list_clients.set_defaults(run=cmd_client_list)
    revoke_client = client.add_parser(
        "revoke", help="revoke a client and every refresh token it holds"
    )
    revoke_client.add_argument("client_id")
    revoke_client.set_defaults(run=cmd_client_revoke)

    key = commands.add_parser("keys", help="the hub's signing keys").add_subparsers(
        title="keys commands", metavar="SUBCOMMAND"
    )
    rotate = key.add_parser("rotate", help="a new key signs from now on; older ones keep verifying")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(run=cmd_keys_rotate)
    list_keys = key.add_parser("list", help="list the keys that sign or verify")
    list_keys.add_argument("--json", action="store_true")
    list_keys.set_defaults(run=cmd_keys_list)

    stats = commands.add_parser("stats", help="network statistics").add_subparsers(
        title="stats commands", metavar="SUBCOMMAND"
    )
    rebuild = stats.add_parser(
        "rebuild",
        help="recompute the statistics' rollups from the raw uses and memberships",
        description="Recompute every rollup of every calendar period (day, week, month, "
        "quarter, year) that meets the range; without --from/--to, all of them.",
    )
    rebuild.add_argument("--from", dest="first", type=_day, help="YYYY-MM-DD (default: the start)")
    rebuild.add_argument("--to", dest="last", type=_day, help="YYYY-MM-DD (default: the end)")
    rebuild.set_defaults(run=cmd_stats_rebuild)

    settle = commands.add_parser(
        "settlement",
        help="a month's settlement between spaces: gross lines and netted transfers",
    )
    settle.add_argument("month", help="YYYY-MM")
    settle.add_argument("--csv", action="store_true", help="write the CSV export to stdout")
    settle.set_defaults(run=cmd_settlement)
    calendar = commands.add_parser("calendar", help="the pooled event calendar").add_subparsers(
        title="calendar commands", metavar="SUBCOMMAND"
    )
    extend = calendar.add_parser(
        "extend",
        help="materialise recurring events' occurrences further ahead (run daily)",
        description="Occurrences exist for a rolling horizon; this rolls it forward to "
        "--days ahead of today for every recurring event that stops short of it.",
    )
    extend.add_argument("--days", type=_days, default=400, help="how far ahead (default: 400)")
    extend.set_defaults(run=cmd_calendar_extend)
    return parser


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not 1 <= days <= 3660:
        raise argparse.ArgumentTypeError("between 1 and 3660 days")
    return days


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date, YYYY-MM-DD: {value!r}") from None


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


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("--password-stdin: no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for a password: use --password-stdin")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ConfigError("the two passwords differ")
    return first


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> int:
    new = auth.NewAccount(
        email=args.email,
        display_name=args.name,
        password=_read_password(args),
        role=Role(args.role),
        site_slugs=args.site,
    )

    async def create(db: Database) -> int:
        async with db.transaction() as session:
            account = await auth.create_account(session, new)
            view = await auth.describe_account(session, account.id)
        assert view is not None
        result = {
            "id": str(account.id),
            "person_id": str(account.person_id),
            "email": account.email,
            "role": new.role.value,
            "managed_sites": list(view.managed_slugs),
            "home_site": args.site[0] if args.site else None,
        }
        if args.json:
            print(json.dumps(result))
        else:
            print(f"created {new.role.value} {account.email} (person {account.person_id})")
        return EXIT_OK

    return with_database(settings, create)


def cmd_client_create(args: argparse.Namespace, settings: Settings) -> int:
    new = auth.NewClient(
        name=args.name,
        grant=GrantKind(args.grant),
        scope=args.scope,
        site_slug=args.site,
        redirect_uris=args.redirect_uri,
        public=args.public,
    )

    async def create(db: Database) -> int:
        async with db.transaction() as session:
            client, secret = await auth.create_client(
                session, new, allow_insecure_http=settings.allow_insecure_http
            )
        if args.json:
            result: dict[str, Any] = {
                "client_id": client.client_id,
                "name": client.name,
                "site": args.site,
                "grant": client.grant_kind.value,
                "redirect_uris": client.redirect_uris,
                "scope": client.scope,
                "public": secret is None,
            }
            if secret is not None:
                result["client_secret"] = secret
            print(json.dumps(result))
            return EXIT_OK
        print(f"client_id:     {client.client_id}")
        if secret is not None:
            print(f"client_secret: {secret}")
            print("Store the secret now: the hub keeps only a hash and cannot show it again.")
        else:
            print("Public client: no secret; it must use PKCE (S256).")
        return EXIT_OK

    return with_database(settings, create)


def cmd_client_list(args: argparse.Namespace, settings: Settings) -> int:
    async def show(db: Database) -> int:
        async with db.reading() as session:
            listed = await auth.list_clients(session)
        rows: list[dict[str, Any]] = [
            {
                "client_id": entry.client.client_id,
                "name": entry.client.name,
                "site": entry.site_slug,
                "grant": entry.client.grant_kind.value,
                "scope": entry.client.scope,
                "public": entry.client.is_public,
                "revoked_at": entry.client.revoked_at.isoformat()
                if entry.client.revoked_at
                else None,
            }
            for entry in listed
        ]
        if args.json:
            print(json.dumps(rows))
            return EXIT_OK
        for row in rows:
            status = f"revoked {row['revoked_at'][:10]}" if row["revoked_at"] else "active"
            print(
                f"{row['client_id']:26} {row['name']} [{row['site'] or 'network'}] "
                f"{row['grant']} ({row['scope']}) {status}"
            )
        return EXIT_OK

    return with_database(settings, show)


def cmd_client_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def revoke(db: Database) -> int:
        async with db.transaction() as session:
            client, was_live = await auth.revoke_client(session, args.client_id)
        if was_live:
            print(
                f"revoked {client.client_id} ({client.name}): its refresh tokens stop now, "
                "its access tokens within 15 minutes"
            )
        else:
            print(f"{client.client_id} was already revoked")
        return EXIT_OK

    return with_database(settings, revoke)


def _key_row(key: Any) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "created_at": key.created_at.isoformat(),
        "retires_at": key.retires_at.isoformat() if key.retires_at else None,
    }


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    async def rotate(db: Database) -> int:
        async with db.transaction() as session:
            key = await keys.rotate_signing_key(session)
        if args.json:
            print(json.dumps(_key_row(key)))
        else:
            print(
                f"new signing key {key.kid}; older keys keep verifying until they retire "
                "(running hubs pick the new key up within 5 minutes)"
            )
        return EXIT_OK

    return with_database(settings, rotate)


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    async def show(db: Database) -> int:
        async with db.reading() as session:
            live = await keys.live_keys(session)
        rows = [_key_row(key) for key in live]
        if args.json:
            print(json.dumps(rows))
            return EXIT_OK
        for i, row in enumerate(rows):
            role = "signs" if i == 0 else f"verifies until {row['retires_at'][:10]}"
            print(f"{row['kid']:24} {row['alg']} created {row['created_at'][:10]} {role}")
        return EXIT_OK

    return with_database(settings, show)


def cmd_stats_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from federation.usage.service import rebuild_rollups

    async def rebuild(db: Database) -> int:
        async with db.transaction() as session:
            done = await rebuild_rollups(session, args.first, args.last)
        span = f"{done.first or 'the start'} to {done.last or 'the end'}"
        print(
            f"federation: statistics rebuilt from {span} "
            f"({done.uses} uses, {done.memberships} memberships)"
        )
        return EXIT_OK

    return with_database(settings, rebuild)


def cmd_settlement(args: argparse.Namespace, settings: Settings) -> int:
    from federation.access import Viewer
    from federation.passes import service as passes
    from federation.passes import settlement

    # The operator of the hub reads the whole network's statement, as a coordinator does.
    operator = Viewer(client_id="cli", roles=frozenset({Role.COORDINATOR}))

    async def show(db: Database) -> int:
        async with db.reading() as session:
            statement = await passes.monthly_statement(session, operator, args.month)
        if args.csv:
            sys.stdout.write(settlement.to_csv(args.month, statement))
            return EXIT_OK
        for title, lines in (("lines", statement.lines), ("transfers", statement.transfers)):
            print(f"{title} ({len(lines)}):")
            for line in lines:
                print(
                    f"  {line.payer.slug} -> {line.payee.slug}: {line.amount_cents / 100:.2f} EUR"
                )
        return EXIT_OK

    return with_database(settings, show)


def cmd_calendar_extend(args: argparse.Namespace, settings: Settings) -> int:
    from federation.calendar.service import extend_horizon

    async def extend(db: Database) -> int:
        async with db.transaction() as session:
            moved = await extend_horizon(session, days=args.days)
        print(f"federation: occurrences materialised {args.days} days ahead ({moved} events)")
        return EXIT_OK

    return with_database(settings, extend)
