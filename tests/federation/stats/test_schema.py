"""networkStats: every DESIGN §8 definition on hand-built data with known answers, who
sees what, suppression, bad input, and a bounded number of SQL statements."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text, update

from federation.access import Viewer
from federation.directory.models import Site
from federation.usage.models import UseKind
from federation.usage.service import MembershipRecord, drain, save_membership
from tests.factories import make_site
from tests.federation.stats.helpers import (
    COORDINATOR,
    COWORKER,
    FULL_QUERY,
    hours,
    make_space,
    manager_of,
    record_all,
    use,
    variables,
    weekdays,
)
from tests.support import Hub, count_statements

MARCH = ("2025-03-01", "2025-03-31")  # 21 weekdays


async def stats(hub: Hub, first: str, last: str, viewer: Viewer = COORDINATOR, **extra: Any) -> Any:
    data = await hub.data(FULL_QUERY, variables(first, last, **extra), viewer=viewer)
    return data["networkStats"]


def site_row(found: Any, slug: str) -> dict[str, Any]:
    rows = [row for row in found["bySite"] if row["site"]["slug"] == slug]
    assert len(rows) == 1, found["bySite"]
    row: dict[str, Any] = rows[0]
    return row


# --- definitions --------------------------------------------------------------------------


async def test_a_full_day_counts_two_uses_and_each_rental_one(hub: Hub) -> None:
    space = await make_space(hub.db, desks=10)
    await record_all(
        hub.db,
        [
            use(space, date(2025, 3, 3), "membership:1", units=2),
            use(space, date(2025, 3, 4), "membership:2", kind=UseKind.OFFICE),
            use(space, date(2025, 3, 5), "membership:3", kind=UseKind.MEETING_ROOM),
        ],
    )
    found = await stats(hub, *MARCH)
    assert found["totals"]["uses"] == 4
    row = site_row(found, space.slug)
    assert row["uses"] == 4
    assert {k["kind"]: k["count"] for k in row["usesByKind"]} == {
        "OPEN_SPACE": 2,
        "OFFICE": 1,
        "MEETING_ROOM": 1,
    }
    # Only the open space fills desks: 2 desk half-days of 10 desks x 42 open half-days.
    assert row["occupancyRate"] == round(2 / 420, 4)


async def test_occupancy_is_desk_half_days_used_over_desks_times_open_half_days(hub: Hub) -> None:
    full_days = await make_space(hub.db, desks=10)  # 21 weekdays x 2 half-days x 10 desks
    mornings = await make_space(hub.db, desks=4, opening_hours=hours("09:00", "12:00"))
    no_desks = await make_site(hub.db, desks=0)
    march = weekdays(date(2025, 3, 1), date(2025, 3, 31))
    await record_all(
        hub.db,
        [
            *(use(full_days, d, f"p{i}", units=2) for d in march for i in range(5)),
            *(use(mornings, d, "q1") for d in march),
            use(no_desks, date(2025, 3, 3), "r1", units=2),
        ],
    )
    found = await stats(hub, *MARCH)
    assert site_row(found, full_days.slug)["occupancyRate"] == 0.5  # 210 / 420
    assert site_row(found, mornings.slug)["occupancyRate"] == 0.25  # 21 / 84
    assert site_row(found, no_desks.slug)["occupancyRate"] is None
    # The space without desks adds uses but neither desks nor desk half-days.
    assert found["totals"]["occupancyRate"] == round(231 / 504, 4)
    assert found["totals"]["uses"] == 233
    assert found["series"][0]["occupancyRate"] == round(231 / 504, 4)


async def test_active_coworkers_are_distinct_people_over_the_range_and_the_spaces(
    hub: Hub,
) -> None:
    a, b = await make_space(hub.db), await make_space(hub.db)
    records = [use(a, date(2025, 3, d), f"person:{i}") for i in range(6) for d in (3, 10, 17)]
    # Three of them also work at b (a visit), and two people only at b.
    records += [use(b, date(2025, 3, 12), f"person:{i}", home=a) for i in range(3)]
    records += [use(b, date(2025, 2, 25), f"person:{i}") for i in (6, 7)]
    await record_all(hub.db, records)

    month = await stats(hub, *MARCH)  # one whole month: from counters
    assert month["totals"]["activeCoworkers"] == 6
    assert site_row(month, a.slug)["activeCoworkers"] == 6
    assert site_row(month, b.slug)["activeCoworkers"] is None  # 3 people: suppressed

    ragged = await stats(hub, "2025-02-20", "2025-03-12")  # ragged: distinct over pieces
    assert ragged["totals"]["activeCoworkers"] == 8
    assert site_row(ragged, a.slug)["activeCoworkers"] == 6
    assert site_row(ragged, b.slug)["activeCoworkers"] == 5
    both = await stats(hub, "2025-02-20", "2025-03-12", sites=[a.slug, b.slug])
    assert both["totals"]["activeCoworkers"] == 8
    assert [p["activeCoworkers"] for p in both["series"]] == [2, 6]


async def test_cross_site_visits_are_uses_away_from_home_as_a_home_to_host_matrix(
    hub: Hub,
) -> None:
    a, b = await make_space(hub.db, name="Alpha"), await make_space(hub.db, name="Beta")
    records = [use(b, date(2025, 3, 4), f"person:a{i}", home=a) for i in range(6)]
    records += [use(b, date(2025, 3, 5), "person:a0", home=a, units=2)]
    records += [use(a, date(2025, 3, 6), f"person:b{i}", home=b) for i in range(2)]
    records += [use(a, date(2025, 3, 7), "person:b0", home=b)]
    records += [use(b, date(2025, 3, 7), "pass:x", homeless=True)]  # no home: not a visit
    records += [use(a, date(2025, 3, 7), "person:a0")]  # at home: not a visit
    await record_all(hub.db, records)
    found = await stats(hub, *MARCH)
    assert found["totals"]["crossSiteVisits"] == 8 + 3
    assert found["visits"] == [
        {"fromSite": {"slug": a.slug}, "toSite": {"slug": b.slug}, "count": 8, "suppressed": False},
        {
            "fromSite": {"slug": b.slug},
            "toSite": {"slug": a.slug},
            "count": None,
            "suppressed": True,
        },
    ]


SERIES = [
    ("DAY", "2025-02-24", "2025-03-09", 14),
    ("WEEK", "2024-12-18", "2025-03-05", 12),
    ("MONTH", "2024-11-20", "2025-04-05", 6),
    ("QUARTER", "2024-11-20", "2025-04-05", 3),
    ("YEAR", "2024-11-20", "2025-04-05", 2),
    ("MONTH", "2025-01-01", "2025-03-31", 3),
]


async def test_the_series_has_every_period_empty_ones_included_and_adds_up_to_the_totals(
    hub: Hub,
) -> None:
    a, b = await make_space(hub.db), await make_space(hub.db)
    days = weekdays(date(2024, 11, 1), date(2025, 4, 30))
    quiet = (date(2025, 1, 1), date(2025, 1, 31))  # January: nothing happens
    await record_all(
        hub.db,
        [
            use(a if n % 3 else b, day, f"person:{n % 7}", units=1 + n % 2, home=a)
            for n, day in enumerate(days)
            if not quiet[0] <= day <= quiet[1]
        ],
    )
    for group_by, first, last, periods in SERIES:
        found = await stats(hub, first, last, groupBy=group_by)
        series = found["series"]
        assert len(series) == periods, group_by
        assert (series[0]["from"], series[-1]["to"]) == (first, last)
        assert sum(p["uses"] for p in series) == found["totals"]["uses"] > 0
        assert all(p["activeCoworkers"] <= found["totals"]["activeCoworkers"] for p in series)
        if group_by in ("WEEK", "MONTH"):
            assert any(p["uses"] == 0 and p["activeCoworkers"] == 0 for p in series)


async def test_new_members_are_memberships_starting_in_the_range(hub: Hub) -> None:
    a, b = await make_space(hub.db), await make_space(hub.db)
    async with hub.db.transaction() as session:
        for n, (site, day) in enumerate(
            [
                (a, date(2025, 2, 28)),
                (a, date(2025, 3, 1)),
                (b, date(2025, 3, 31)),
                (b, date(2025, 4, 1)),
            ]
        ):
            await save_membership(
                session,
                MembershipRecord(site.id, f"m{n}", day, datetime(2025, 1, 1, tzinfo=UTC)),
            )
    found = await stats(hub, *MARCH)
    assert found["totals"]["newMembers"] == 2
    assert found["previous"]["totals"]["newMembers"] == 1
    assert found["previous"]["changes"]["newMembers"] == 1


@pytest.mark.parametrize(
    ("first", "last", "previous"),
    [
        ("2025-01-01", "2025-03-31", ("2024-10-01", "2024-12-31")),  # three whole months
        ("2025-03-01", "2025-03-31", ("2025-02-01", "2025-02-28")),  # a month, not 31 days
        ("2025-01-01", "2025-12-31", ("2024-01-01", "2024-12-31")),  # a year
        ("2025-03-10", "2025-03-19", ("2025-02-28", "2025-03-09")),  # ten days
    ],
)
async def test_the_previous_range_has_the_same_length_just_before(
    hub: Hub, first: str, last: str, previous: tuple[str, str]
) -> None:
    space = await make_space(hub.db)
    await record_all(
        hub.db,
        [use(space, date(2025, 3, 12), "p1", units=2), use(space, date(2025, 2, 28), "p1")],
    )
    found = await stats(hub, first, last)
    assert (found["previous"]["from"], found["previous"]["to"]) == previous
    now, before = found["totals"], found["previous"]["totals"]
    assert found["previous"]["changes"]["uses"] == now["uses"] - before["uses"]


# --- who sees what ------------------------------------------------------------------------


async def test_a_coordinator_sees_every_space_most_used_first_and_every_visit(
    hub: Hub,
) -> None:
    a, b, c = [await make_space(hub.db, name=n) for n in ("Alpha", "Beta", "Gamma")]
    await record_all(
        hub.db,
        [
            use(b, date(2025, 3, 3), "x", home=a),
            use(c, date(2025, 3, 3), "y", home=b),
            use(c, date(2025, 3, 4), "z"),
        ],
    )
    found = await stats(hub, *MARCH)
    assert [row["site"]["slug"] for row in found["bySite"]] == [c.slug, b.slug, a.slug]
    assert len(found["visits"]) == 2
    top = await hub.data(
        """query($from: Date!, $to: Date!) { networkStats(from: $from, to: $to) {
             bySite(first: 1) { site { slug } uses } visits(first: 1) { count } } }""",
        variables(*MARCH),
        viewer=COORDINATOR,
    )
    assert top["networkStats"]["bySite"] == [{"site": {"slug": c.slug}, "uses": 2}]
    assert len(top["networkStats"]["visits"]) == 1


async def test_a_manager_sees_their_spaces_and_the_network_totals(hub: Hub) -> None:
    a, b, c = [await make_space(hub.db, name=n) for n in ("Alpha", "Beta", "Gamma")]
    await record_all(
        hub.db,
        [
            use(b, date(2025, 3, 3), "x", home=a),
            use(c, date(2025, 3, 3), "y", home=b),
            use(c, date(2025, 3, 4), "z"),
        ],
    )
    manager = manager_of(a)
    found = await stats(hub, *MARCH, viewer=manager)
    everything = await stats(hub, *MARCH)
    assert found["totals"] == everything["totals"]
    assert found["series"] == everything["series"]
    assert [row["site"]["slug"] for row in found["bySite"]] == [a.slug]
    assert [(v["fromSite"]["slug"], v["toSite"]["slug"]) for v in found["visits"]] == [
        (a.slug, b.slug)
    ]
    own = await stats(hub, *MARCH, viewer=manager, sites=[a.slug])
    assert own["totals"]["uses"] == 0  # a's members used b, not a
    codes = await hub.error_codes(
        FULL_QUERY, variables(*MARCH, sites=[a.slug, b.slug]), viewer=manager
    )
    assert codes == ["FORBIDDEN"]


async def test_a_spaces_client_with_the_stats_scope_sees_what_its_manager_sees(hub: Hub) -> None:
    a, b = await make_space(hub.db), await make_space(hub.db)
    client = Viewer(client_id="alpha-tools", client_site_id=a.id, scopes=frozenset({"stats:read"}))
    found = await stats(hub, *MARCH, viewer=client)
    assert [row["site"]["slug"] for row in found["bySite"]] == [a.slug]
    assert await hub.error_codes(FULL_QUERY, variables(*MARCH, sites=[b.slug]), viewer=client) == [
        "FORBIDDEN"
    ]


@pytest.mark.parametrize(
    ("viewer", "code"),
    [
        (Viewer(), "UNAUTHENTICATED"),
        (COWORKER, "FORBIDDEN"),
        (
            Viewer(person_id=uuid.uuid4(), roles=COORDINATOR.roles, scopes=frozenset({"profile"})),
            "FORBIDDEN",
        ),
        (
            Viewer(client_id="kiosk", client_site_id=1, scopes=frozenset({"checkin:write"})),
            "FORBIDDEN",
        ),
    ],
    ids=["anonymous", "coworker", "token-without-stats-scope", "client-without-stats-scope"],
)
async def test_everyone_else_is_refused(hub: Hub, viewer: Viewer, code: str) -> None:
    await make_space(hub.db)
    assert await hub.error_codes(FULL_QUERY, variables(*MARCH), viewer=viewer) == [code]


# --- suppression --------------------------------------------------------------------------


async def test_per_space_counts_of_one_to_four_people_are_suppressed_but_totals_are_exact(
    hub: Hub,
) -> None:
    empty, four, five = [await make_space(hub.db, name=n) for n in ("Empty", "Four", "Five")]
    await record_all(
        hub.db,
        [
            *(use(four, date(2025, 3, 3), f"four:{i}") for i in range(4)),
            *(use(five, date(2025, 3, 3), f"five:{i}") for i in range(5)),
        ],
    )
    found = await stats(hub, *MARCH)
    rows = {row["site"]["slug"]: row for row in found["bySite"]}
    assert (rows[empty.slug]["activeCoworkers"], rows[empty.slug]["suppressed"]) == (0, False)
    assert (rows[four.slug]["activeCoworkers"], rows[four.slug]["suppressed"]) == (None, True)
    assert rows[four.slug]["uses"] == 4  # uses are not people: shown
    assert (rows[five.slug]["activeCoworkers"], rows[five.slug]["suppressed"]) == (5, False)
    assert found["totals"]["activeCoworkers"] == 9
    only_four = await stats(hub, *MARCH, sites=[four.slug])
    assert only_four["totals"]["activeCoworkers"] == 4


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "extra"),
    [
        ("2025-03-02", "2025-03-01", {}),
        ("2020-01-01", "2025-01-01", {}),
        ("2025-01-01", "2025-03-31", {"sites": ["nowhere"]}),
        ("2025-01-01", "2025-03-31", {"sites": []}),
        ("2024-01-01", "2025-01-01", {"groupBy": "DAY"}),
    ],
    ids=["from-after-to", "over-five-years", "unknown-space", "no-space", "day-over-a-year"],
)
async def test_bad_ranges_and_unknown_spaces_are_bad_user_input(
    hub: Hub, first: str, last: str, extra: dict[str, Any]
) -> None:
    await make_space(hub.db)
    codes = await hub.error_codes(FULL_QUERY, variables(first, last, **extra), viewer=COORDINATOR)
    assert codes == ["BAD_USER_INPUT"]


async def test_five_years_and_a_year_of_days_are_the_limits_not_beyond(hub: Hub) -> None:
    await make_space(hub.db)
    five_years = await stats(hub, "2021-01-01", "2025-12-31", groupBy="YEAR")
    assert len(five_years["series"]) == 5
    leap_year = await stats(hub, "2024-01-01", "2024-12-31", groupBy="DAY")
    assert len(leap_year["series"]) == 366


# --- statements ---------------------------------------------------------------------------


async def test_the_full_query_runs_the_same_few_statements_whatever_the_range_and_spaces(
    hub: Hub,
) -> None:
    # A space outside the visits: bySite lists spaces the visit matrix does not name.
    small = [await make_space(hub.db) for _ in range(3)]
    await record_all(hub.db, [use(small[1], date(2025, 3, 10), "p", home=small[0])])
    await stats(hub, "2025-03-05", "2025-03-20", groupBy="WEEK")  # the capacities, cached
    with count_statements(hub.db) as two_weeks:
        await stats(hub, "2025-03-05", "2025-03-20", groupBy="WEEK")
    for _ in range(10):
        await make_space(hub.db)
    with count_statements(hub.db) as after_new_spaces:
        await stats(hub, "2021-02-17", "2025-11-03", groupBy="WEEK")
    with count_statements(hub.db) as years_of_weeks:
        await stats(hub, "2021-02-17", "2025-11-03", groupBy="WEEK")
    with count_statements(hub.db) as whole_months:
        await stats(hub, "2021-01-01", "2025-10-31")
    # Whether uses wait in the queue, the sites' fingerprint, totals, previous, series,
    # bySite (2), visits (2), the spaces of bySite and of visits (one or two batches, as the
    # resolvers interleave).
    assert two_weeks.count == years_of_weeks.count <= 11, years_of_weeks.statements
    # New spaces: the capacities are read again, once.
    assert after_new_spaces.count == years_of_weeks.count + 1, after_new_spaces.statements
    # Whole periods are read from counters: no more statements.
    assert whole_months.count == years_of_weeks.count


BENCH_QUERY = """
query($from: Date!, $to: Date!, $sites: [String!]) {
  networkStats(from: $from, to: $to, sites: $sites, groupBy: MONTH) {
    totals { uses activeCoworkers newMembers crossSiteVisits occupancyRate }
    series { period uses activeCoworkers occupancyRate }
  }
}
"""


async def test_a_years_totals_and_series_take_four_statements_for_one_space_or_the_network(
    hub: Hub,
) -> None:
    spaces = [await make_space(hub.db) for _ in range(3)]
    await record_all(
        hub.db,
        [use(spaces[i % 3], date(2025, 1 + i % 12, 3), f"p{i}", home=spaces[0]) for i in range(30)],
    )
    await drain(hub.db)  # as the server does every second: the reads below find it empty
    year = {"from": "2025-01-01", "to": "2025-12-31"}
    with count_statements(hub.db) as one_space:
        await hub.data(BENCH_QUERY, {**year, "sites": [spaces[1].slug]}, viewer=COORDINATOR)
    with count_statements(hub.db) as first_network:
        await hub.data(BENCH_QUERY, year, viewer=COORDINATOR)
    with count_statements(hub.db) as network:
        await hub.data(BENCH_QUERY, year, viewer=COORDINATOR)
    # Whether uses wait in the queue (none); the space's slug and capacity; the totals with
    # their people; the series with theirs.
    assert one_space.count == 4, one_space.statements
    # The queue; the sites' fingerprint (and, the first time, every space's capacity);
    # totals; series.
    assert first_network.count == 5, first_network.statements
    assert network.count == 4, network.statements


async def test_an_edit_of_a_spaces_desks_or_opening_hours_is_seen_by_the_next_query(
    hub: Hub,
) -> None:
    space = await make_space(hub.db, desks=10)
    await make_space(hub.db, desks=10)
    march = weekdays(date(2025, 3, 1), date(2025, 3, 31))
    await record_all(hub.db, [use(space, d, f"p{i}", units=2) for d in march for i in range(5)])
    # 210 desk half-days used; 2 spaces x 10 desks x 42 open half-days.
    assert (await stats(hub, *MARCH))["totals"]["occupancyRate"] == round(210 / 840, 4)
    async with hub.db.transaction() as session:
        site = await session.get(Site, space.id)
        assert site is not None
        site.desks = 4
    assert (await stats(hub, *MARCH))["totals"]["occupancyRate"] == round(210 / 588, 4)
    async with hub.db.transaction() as session:
        site = await session.get(Site, space.id)
        assert site is not None
        site.opening_hours = hours("09:00", "12:00")  # mornings only: 21 half-days
    assert (await stats(hub, *MARCH))["totals"]["occupancyRate"] == round(210 / 504, 4)
    # Even a write that leaves `updated_at` alone is seen.
    async with hub.db.transaction() as session:
        await session.execute(update(Site).where(Site.id == space.id).values(desks=3))
        await session.execute(
            text("UPDATE sites SET updated_at = :then WHERE id = :id"),
            {"then": datetime(2020, 1, 1, tzinfo=UTC), "id": space.id},
        )
    assert (await stats(hub, *MARCH))["totals"]["occupancyRate"] == round(210 / 483, 4)
    # A space that joins (or leaves) the network changes its capacity too.
    await make_space(hub.db, desks=10)
    assert (await stats(hub, *MARCH))["totals"]["occupancyRate"] == round(210 / 903, 4)
