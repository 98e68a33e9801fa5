"""Settlement rules without a database: worth of credits, rounding, lines and netting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from federation.passes.settlement import (
    NETWORK,
    Amounts,
    Party,
    PartyKind,
    Redemption,
    credit_worth,
    net_positions,
    split,
    statement_of,
    to_csv,
)

SPACES = [Party(PartyKind.SPACE, i, f"Space {i}", f"space-{i}") for i in range(1, 7)]
PROGRAMME = Party(PartyKind.PROGRAMME, 1, "Lille", "lille")


def test_a_fully_used_pass_pays_out_exactly_its_price() -> None:
    price, credits = 15000, 7  # 15000 / 7 is not whole cents
    paid = [credit_worth(price, credits, used=u, units=1) for u in range(credits)]
    assert sum(paid) == price
    assert set(paid) == {2142, 2143}


def test_the_network_share_rounds_down_and_the_host_keeps_the_rest() -> None:
    assert split(1500, 500) == Amounts(host_cents=1425, share_cents=75)
    assert split(2143, 500) == Amounts(host_cents=2036, share_cents=107)  # 107.15 -> 107


def test_a_space_redeeming_its_own_pass_owes_only_the_network_share() -> None:
    statement = statement_of([Redemption(SPACES[0], SPACES[0], Amounts(1425, 75))])
    assert [(line.payer, line.payee, line.amount_cents) for line in statement.lines] == [
        (SPACES[0], NETWORK, 75)
    ]


def test_netting_three_spaces_trading_in_a_circle() -> None:
    a, b, c = SPACES[:3]
    statement = statement_of(
        [
            Redemption(a, b, Amounts(1000, 0)),
            Redemption(b, c, Amounts(1000, 0)),
            Redemption(c, a, Amounts(400, 0)),
        ]
    )
    assert len(statement.lines) == 3
    assert [(t.payer, t.payee, t.amount_cents) for t in statement.transfers] == [(a, c, 600)]


def test_the_csv_has_a_bom_and_semicolons() -> None:
    statement = statement_of([Redemption(PROGRAMME, SPACES[1], Amounts(2036, 107))])
    text = to_csv("2026-03", statement)
    assert text.startswith("\ufeffmonth;section;")
    assert "2026-03;line;PROGRAMME;lille;Lille;SPACE;space-2;Space 2;2036;20,36" in text


redemptions = st.lists(
    st.builds(
        lambda payer, host, worth, share: Redemption(payer, host, split(worth, share)),
        st.sampled_from([*SPACES, PROGRAMME]),
        st.sampled_from(SPACES),
        st.integers(min_value=0, max_value=50_000),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=60,
)


@given(redemptions)
def test_every_month_balances_and_netting_keeps_net_positions(month: list[Redemption]) -> None:
    statement = statement_of(month)
    positions = net_positions(statement.lines)
    assert sum(positions.values()) == 0
    assert net_positions(statement.transfers) == positions
    assert len(statement.transfers) <= max(len(positions) - 1, 0)
    assert all(t.amount_cents > 0 for t in statement.transfers)
    # Gross lines add up to what was redeemed, less what spaces pay themselves.
    self_paid = sum(r.amounts.host_cents for r in month if r.payer == r.host)
    redeemed = sum(r.amounts.worth_cents for r in month)
    assert sum(line.amount_cents for line in statement.lines) == redeemed - self_paid


@given(
    st.integers(min_value=0, max_value=10_000_000),
    st.integers(min_value=1, max_value=60),
    st.data(),
)
def test_credits_are_worth_their_price_whatever_the_order_of_use(
    price: int, credits: int, data: st.DataObject
) -> None:
    steps = data.draw(st.lists(st.integers(min_value=1, max_value=3), max_size=credits))
    used = 0
    paid = 0
    for units in steps:
        if used + units > credits:
            break
        paid += credit_worth(price, credits, used=used, units=units)
        used += units
    paid += credit_worth(price, credits, used=used, units=credits - used)
    assert paid == price
