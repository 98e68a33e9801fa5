"""`python -m bench generate|run`: the national dataset, and HTTP load against real servers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="load the national dataset into a database")
    gen.add_argument(
        "--scale", type=float, default=1.0, help="1 = the French network (3,500 spaces)"
    )
    gen.add_argument("--db", required=True, help="database URL (postgresql://… or sqlite:///…)")
    gen.add_argument("--seed", type=int, default=2023)
    run = commands.add_parser("run", help="drive a real hub (and the floors, and the peer)")
    run.add_argument("--db", required=True)
    run.add_argument(
        "--scenario", action="append", help="a scenario name (repeatable); default all"
    )
    run.add_argument("--concurrency", default="1,8,32")
    run.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--no-floor", action="store_true")
    run.add_argument("--no-peer", action="store_true")
    run.add_argument(
        "--sync-records",
        type=int,
        default=100_000,
        help="usage records the sync_ingest scenario sends, in 10 batches",
    )
    run.add_argument(
        "--hot-credits",
        type=int,
        default=100,
        help="credits of checkin_hot's pass: fewer than a run takes tests exhaustion under"
        " concurrency; many more measure accepted check-ins",
    )
    run.add_argument("--output", default=None, help="results JSON (default bench/results/)")
    report = commands.add_parser("report", help="Markdown tables for BENCHMARKS.md from a run")
    report.add_argument("results", nargs="+", help="bench/results/*.json files")
    args = parser.parse_args(argv)
    if args.command == "report":
        from bench.report import main as report_main

        report_main(*args.results)
        return 0
    if args.command == "generate":
        from bench.generate import generate

        print(f"generating scale {args.scale} (seed {args.seed}) into {args.db}")
        done = generate(args.db, args.scale, seed=args.seed)
        print(
            f"{done.sites:,} spaces, {done.people:,} people, {done.memberships:,} memberships, "
            f"{done.uses:,} uses in {done.seconds:.1f} s"
        )
        return 0
    from bench.run import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
