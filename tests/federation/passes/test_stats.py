"""networkStats' pass sections and the programme funder report."""

from __future__ import annotations

from federation.passes.models import Programme
from tests.federation.passes.helpers import coordinator, manager_of
from tests.federation.passes.test_statement import _month_of_visits
from tests.support import Hub

QUERY = """{ networkStats(from: "2026-03-01", to: "2026-03-31") {
  passes { sold creditsRedeemed creditsExpired revenueByTier { tier amountCents } }
  programmes { name funders beneficiaries uses costCents remainingBudgetCents }
  settlement { site { slug } owedCents owingCents } } }"""


async def test_network_stats_show_passes_programmes_and_settlement(hub: Hub) -> None:
    await _month_of_visits(hub.db)
    stats = (await hub.data(QUERY, viewer=coordinator()))["networkStats"]
    # Both passes were sold on 5 March, in the standard tier.
    assert stats["passes"]["sold"] == 2
    assert stats["passes"]["revenueByTier"] == [{"tier": "standard", "amountCents": 30000}]
    assert stats["passes"]["creditsRedeemed"] == 5
    [programme] = stats["programmes"]
    assert (programme["beneficiaries"], programme["uses"], programme["costCents"]) == (1, 1, 750)
    assert programme["remainingBudgetCents"] == 100_000 - 15000
    settlement = {s["site"]["slug"]: (s["owedCents"], s["owingCents"]) for s in stats["settlement"]}
    assert settlement["mutualab"] == (4275, 0)
    assert settlement["casaco"] == (0, 4275 + 300)
    assert settlement["la-grappe"] == (713, 0)


async def test_a_manager_sees_their_own_space_in_the_settlement(hub: Hub) -> None:
    sites = await _month_of_visits(hub.db)
    stats = (await hub.data(QUERY, viewer=manager_of(sites["casaco"])))["networkStats"]
    assert [s["site"]["slug"] for s in stats["settlement"]] == ["casaco"]
    assert stats["programmes"] == []  # Casaco takes no part in the Lille programme


async def test_the_programme_funder_report(hub: Hub) -> None:
    await _month_of_visits(hub.db)
    async with hub.db.reading() as session:
        from sqlalchemy import select

        programme_id = await session.scalar(select(Programme.id))
    answer = await hub.get(f"/stats/programmes/{programme_id}.csv", viewer=coordinator())
    assert answer.status_code == 200
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeffprogramme;month;uses;beneficiaries;cost_cents")
    assert ";2026-03;1;1;750" in text
    assert (await hub.get("/stats/programmes/999.csv", viewer=coordinator())).status_code == 404
    assert (await hub.get(f"/stats/programmes/{programme_id}.csv")).status_code == 401
