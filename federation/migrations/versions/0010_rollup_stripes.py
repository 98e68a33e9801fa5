"""Usage rollups striped: the uses, active people and visits counters split in 16 rows

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24

Every check-in of a day adds to the same counters (its space's and the network's, for each
period kind), and each row lock is held until the commit, so concurrent check-ins queued on
them. `usage_uses_by_period`, `usage_active_counts` and `usage_visits_by_period` get a
`shard` column, last in their primary key: the stripe of the subject counted, the first
byte of the MD5 of its text modulo 16 (`usage_stripe(subject)`; the hub's
`usage.rollups.stripe`). Reads sum over the stripes.

The three tables are built anew and filled set-based from `uses` (uses and visits) and
`usage_active_subjects` (active people), grouped by stripe: what the hub would have
written use by use. The downgrade folds the stripes back.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PERIODS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
KINDS = ("OPEN_SPACE", "OFFICE", "MEETING_ROOM")
STRIPES = 16

_PG_FUNCTION = f"""
CREATE FUNCTION usage_stripe(text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (get_byte(decode(md5($1), 'hex'), 0) % {STRIPES})::smallint $$
"""


def _stripe(subject: str) -> int:
    """`usage_stripe` for SQLite, which has no MD5 (the hub registers the same on its
    connections)."""
    return hashlib.md5(subject.encode(), usedforsecurity=False).digest()[0] % STRIPES


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _period_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("period", _enum(PERIODS, "period"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
    ]


def _shard() -> list[sa.Column[object]]:
    return [sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False)]


# Each table: its key columns after (period, starts_on, site_id), and its counter.
TABLES: dict[str, tuple[list[str], str]] = {
    "usage_uses_by_period": (["kind"], "uses"),
    "usage_active_counts": (["home_site_id"], "people"),
    "usage_visits_by_period": (["home_site_id"], "uses"),
}


def _create(name: str, *, striped: bool, keyed: bool) -> None:
    """One of the three tables as 0004 made it, with `shard` when striped; without its
    primary key when not `keyed` (PostgreSQL builds it once, after the fill)."""
    extra, counter = TABLES[name]
    columns: list[sa.Column[object]] = _period_columns()
    if extra == ["kind"]:
        columns.append(sa.Column("kind", _enum(KINDS, "use_kind"), nullable=False))
    else:
        columns.append(sa.Column("home_site_id", sa.Integer(), autoincrement=False, nullable=False))
    if striped:
        columns += _shard()
    columns.append(sa.Column(counter, sa.Integer(), nullable=False))
    key = ["period", "starts_on", "site_id", *extra, *(["shard"] if striped else [])]
    constraints: list[sa.Constraint] = [
        sa.CheckConstraint(f"{counter} >= 0", name=op.f(f"ck_{name}_{counter}_not_negative"))
    ]
    if keyed:
        constraints.append(sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    op.create_table(name, *columns, *constraints)


def _add_keys(*, striped: bool) -> None:
    for name, (extra, _) in TABLES.items():
        key = ["period", "starts_on", "site_id", *extra, *(["shard"] if striped else [])]
        op.create_primary_key(op.f(f"pk_{name}"), name, key)


def _period_start(period: str, column: str, *, postgres: bool) -> str:
    """The first day of `column`'s period, as the hub computes it."""
    if period == "DAY":
        return column
    if postgres:
        return f"CAST(date_trunc('{period.lower()}', {column}) AS date)"
    if period == "WEEK":  # back to Monday: strftime('%w') is 0 on Sunday
        days = f"'-' || ((CAST(strftime('%w', {column}) AS INTEGER) + 6) % 7) || ' days'"
        return f"date({column}, {days})"
    if period == "MONTH":
        return f"date({column}, 'start of month')"
    if period == "QUARTER":
        months = f"'-' || ((CAST(strftime('%m', {column}) AS INTEGER) - 1) % 3) || ' months'"
        return f"date({column}, 'start of month', {months})"
    return f"date({column}, 'start of year')"


def _fill(*, postgres: bool) -> None:
    """The striped rows, from the raw uses and the active subjects."""
    # Each subject's stripe once (MD5 per subject, not per use), then the uses by day.
    op.execute(
        "CREATE TEMPORARY TABLE stripes_0010 AS SELECT subject, usage_stripe(subject) AS shard"
        " FROM uses GROUP BY subject"
    )
    op.execute(
        "CREATE TEMPORARY TABLE days_0010 AS SELECT day, site_id, kind,"
        " CASE WHEN home_site_id <> site_id THEN home_site_id END AS home, shard,"
        " sum(units) AS units FROM uses JOIN stripes_0010 USING (subject) GROUP BY 1, 2, 3, 4, 5"
    )
    for period in PERIODS:
        start = _period_start(period, "day", postgres=postgres)
        days = f"(SELECT {start} AS s, site_id, kind, home, shard, units FROM days_0010) AS d"  # noqa: S608
        # The periods and table names are this file's constants, never input.
        for site in ("site_id", "0"):
            grouped = "s, site_id, kind, shard" if site == "site_id" else "s, kind, shard"
            op.execute(
                "INSERT INTO usage_uses_by_period (period, starts_on, site_id, kind, shard, uses)"  # noqa: S608
                f" SELECT '{period}', s, {site}, kind, shard, sum(units) FROM {days}"
                f" GROUP BY {grouped}"
            )
        for site, home, grouped in (
            ("site_id", "home", "s, site_id, home, shard"),
            ("site_id", "0", "s, site_id, shard"),
            ("0", "0", "s, shard"),
        ):
            op.execute(
                "INSERT INTO usage_visits_by_period"  # noqa: S608
                " (period, starts_on, site_id, home_site_id, shard, uses)"
                f" SELECT '{period}', s, {site}, {home}, shard, sum(units) FROM {days}"
                f" WHERE home IS NOT NULL GROUP BY {grouped}"
            )
    # A subject that only the rollups still know (out of step with the uses) keeps its count.
    op.execute(
        "INSERT INTO usage_active_counts"
        " (period, starts_on, site_id, home_site_id, shard, people)"
        " SELECT a.period, a.starts_on, a.site_id, a.home_site_id,"
        " coalesce(st.shard, usage_stripe(a.subject)), count(*)"
        " FROM usage_active_subjects a LEFT JOIN stripes_0010 st ON st.subject = a.subject"
        " GROUP BY 1, 2, 3, 4, 5"
    )
    op.execute("DROP TABLE days_0010")
    op.execute("DROP TABLE stripes_0010")


def _register_sqlite_stripe() -> None:
    connection = op.get_bind().connection.driver_connection
    assert connection is not None
    connection.create_function("usage_stripe", 1, _stripe, deterministic=True)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(_PG_FUNCTION)
    else:
        _register_sqlite_stripe()
    for name in TABLES:
        op.drop_table(name)
        _create(name, striped=True, keyed=not postgres)
    _fill(postgres=postgres)
    if postgres:
        _add_keys(striped=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, (extra, counter) in TABLES.items():
        key = ", ".join(["period", "starts_on", "site_id", *extra])
        op.execute(
            f"CREATE TEMPORARY TABLE folded_0010 AS SELECT {key}, sum({counter}) AS {counter}"  # noqa: S608
            f" FROM {name} GROUP BY {key}"
        )
        op.drop_table(name)
        _create(name, striped=False, keyed=not postgres)
        op.execute(
            f"INSERT INTO {name} ({key}, {counter}) SELECT {key}, {counter} FROM folded_0010"  # noqa: S608
        )
        op.execute("DROP TABLE folded_0010")
    if postgres:
        _add_keys(striped=False)
        op.execute("DROP FUNCTION usage_stripe(text)")
