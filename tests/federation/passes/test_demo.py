"""The demo's passes: Casaco's real carnets, the Lille programme, and a settlement with figures."""

from __future__ import annotations

from federation.demo import load_demo
from federation.kit.clock import today_in_paris
from federation.usage.periods import Period, add_months, period_start
from tests.federation.passes.helpers import coordinator
from tests.support import Hub


async def test_the_demo_has_the_seeds_passes_and_a_settled_month(hub: Hub) -> None:
    await load_demo(hub.db)
    data = await hub.data(
        "{ passProducts { name kind credits unit priceTiers { name priceCents } "
        "issuer { slug } programme { name funders places } } }"
    )
    products = {p["name"]: p for p in data["passProducts"]}
    days = products["Casaco — carnet 10 jours"]
    halves = products["Casaco — carnet 15 demi-journées"]
    assert (days["credits"], days["unit"]) == (10, "DAY")
    assert (halves["credits"], halves["unit"]) == (15, "HALF_DAY")
    for carnet in (days, halves):
        tiers = {t["name"]: t["priceCents"] for t in carnet["priceTiers"]}
        assert tiers["standard"] == 15000
        assert set(tiers) == {"solidaire", "standard", "soutien"}
    kinds = {p["kind"] for p in products.values()}
    assert kinds == {"CARNET", "MEMBERSHIP", "FUNDED"}
    [funded] = [p for p in products.values() if p["kind"] == "FUNDED"]
    assert funded["programme"]["places"] == 30
    assert "Initiatives et Cité" in funded["programme"]["funders"]
    assert "DIRECCTE" in funded["programme"]["funders"]
    last_month = add_months(period_start(Period.MONTH, today_in_paris()), -1)
    month = f"{last_month:%Y-%m}"
    statement = await hub.data(
        "query($m: String!) { settlement(month: $m) { lines { amountCents } "
        "transfers { amountCents } } }",
        {"m": month},
        viewer=coordinator(),
    )
    assert len(statement["settlement"]["lines"]) >= 5
    assert statement["settlement"]["transfers"]
