"""`python -m sites run sites/<space> [--dry-run]`: sync one space with the hub.

Exit codes: 0 done (some records may have been rejected: they are listed), 2 bad
configuration or unreadable source (nothing sent), 1 the hub refused or could not be reached.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sites.kit.client import HubRefused, HubUnreachable
from sites.kit.config import ConfigError
from sites.kit.records import SourceError
from sites.kit.runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sites", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="sync one space from its folder's site.toml")
    run_parser.add_argument("folder", type=Path, help="the space's folder, e.g. sites/casaco")
    run_parser.add_argument(
        "--dry-run", action="store_true", help="print what would be sent, send nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        report = run(args.folder, dry_run=args.dry_run)
    except (ConfigError, SourceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except HubRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except HubUnreachable as error:
        print(f"error: cannot reach the hub: {error}", file=sys.stderr)
        return 1
    return 0 if report is not None else 1


if __name__ == "__main__":
    sys.exit(main())
