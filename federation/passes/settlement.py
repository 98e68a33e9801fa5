"""The settlement rules, without I/O: what one redemption is worth, the month's gross lines
between parties, and the netted transfers that settle them.

Rounding, the one rule: a pass sold P cents for C credits is worth, after u of its
credits were used, floor(P × u / C) cents. A redemption of `units` credits when `used`
were already spent is worth floor(P × (used + units) / C) − floor(P × used / C): every
amount is whole cents, and a fully used pass pays out exactly P, never a cent more or
less. The network keeps floor(worth × share) of it (share in basis points); the host
earns the rest, so host + network = worth exactly.
"""

from __future__ import annotations

import csv
import enum
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BASIS_POINTS = 10_000


class PartyKind(enum.StrEnum):
    SPACE = "SPACE"
    PROGRAMME = "PROGRAMME"
    NETWORK = "NETWORK"


@dataclass(frozen=True, slots=True, order=True)
class Party:
    kind: PartyKind
    id: int  # the space's or programme's id; 0 for the network
    name: str
    slug: str


NETWORK = Party(PartyKind.NETWORK, 0, "Réseau des Tiers-Lieux", "network")


@dataclass(frozen=True, slots=True)
class Amounts:
    host_cents: int
    share_cents: int

    @property
    def worth_cents(self) -> int:
        return self.host_cents + self.share_cents


def credit_worth(price_cents: int, credits: int, *, used: int, units: int) -> int:
    """Cents that `units` credits are worth after `used` were spent (see the module rule)."""
    if credits <= 0 or units < 0 or used < 0 or used + units > credits:
        raise ValueError("units must fit in the pass's credits")
    return price_cents * (used + units) // credits - price_cents * used // credits


def split(worth_cents: int, share_bp: int) -> Amounts:
    """The network's share (rounded down) and the host's earnings (the rest)."""
    share = worth_cents * share_bp // BASIS_POINTS
    return Amounts(host_cents=worth_cents - share, share_cents=share)


@dataclass(frozen=True, slots=True)
class Redemption:
    """One redemption as the ledger sees it: who pays, at which host, how much."""

    payer: Party
    host: Party
    amounts: Amounts


@dataclass(frozen=True, slots=True)
class Line:
    payer: Party
    payee: Party
    amount_cents: int


def lines_of(redemptions: Iterable[Redemption]) -> list[Line]:
    """Gross amounts per (payer, payee) pair. A space redeeming its own pass pays itself
    nothing, but still owes the network its share."""
    totals: dict[tuple[Party, Party], int] = defaultdict(int)
    for r in redemptions:
        if r.host != r.payer:
            totals[(r.payer, r.host)] += r.amounts.host_cents
        if r.payer != NETWORK:
            totals[(r.payer, NETWORK)] += r.amounts.share_cents
    return [
        Line(payer, payee, amount)
        for (payer, payee), amount in sorted(totals.items())
        if amount > 0
    ]


def net_positions(lines: Iterable[Line]) -> dict[Party, int]:
    """What each party receives (positive) or pays (negative) over the lines; sums to 0."""
    net: dict[Party, int] = defaultdict(int)
    for line in lines:
        net[line.payer] -= line.amount_cents
        net[line.payee] += line.amount_cents
    return {party: amount for party, amount in net.items() if amount != 0}


def transfers_of(positions: Mapping[Party, int]) -> list[Line]:
    """Payments that settle `positions`: the largest debtor pays the largest creditor, as
    much as one of them needs, until all are square. Each payment squares at least one
    party, so n parties need at most n − 1 payments."""
    if sum(positions.values()) != 0:
        raise ValueError("positions must balance to zero")
    debtors = sorted(((-v, p) for p, v in positions.items() if v < 0), reverse=True)
    creditors = sorted(((v, p) for p, v in positions.items() if v > 0), reverse=True)
    owed, payers = [a for a, _ in debtors], [p for _, p in debtors]
    due, payees = [a for a, _ in creditors], [p for _, p in creditors]
    result: list[Line] = []
    i = j = 0
    while i < len(owed) and j < len(due):
        amount = min(owed[i], due[j])
        result.append(Line(payers[i], payees[j], amount))
        owed[i] -= amount
        due[j] -= amount
        if owed[i] == 0:
            i += 1
        if due[j] == 0:
            j += 1
    return result


@dataclass(frozen=True, slots=True)
class Statement:
    lines: Sequence[Line]
    transfers: Sequence[Line]


def statement_of(redemptions: Iterable[Redemption]) -> Statement:
    lines = lines_of(redemptions)
    return Statement(lines=lines, transfers=transfers_of(net_positions(lines)))


def to_csv(month: str, statement: Statement) -> str:
    """The statement for spreadsheets: `;`-separated, euros with a decimal comma (French
    spreadsheets), a byte-order mark so they read UTF-8; lines first, then transfers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "month",
            "section",
            "payer_kind",
            "payer_slug",
            "payer_name",
            "payee_kind",
            "payee_slug",
            "payee_name",
            "amount_cents",
            "amount_eur",
        ]
    )
    for section, rows in (("line", statement.lines), ("transfer", statement.transfers)):
        for line in rows:
            writer.writerow(
                [
                    month,
                    section,
                    line.payer.kind.value,
                    line.payer.slug,
                    line.payer.name,
                    line.payee.kind.value,
                    line.payee.slug,
                    line.payee.name,
                    line.amount_cents,
                    f"{line.amount_cents // 100},{line.amount_cents % 100:02d}",
                ]
            )
    return "\ufeff" + out.getvalue()
