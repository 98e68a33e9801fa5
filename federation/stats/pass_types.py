"""GraphQL types of networkStats' pass sections: passes, programmes, settlement."""

from __future__ import annotations

import strawberry

from federation.directory.types import Site
from federation.stats import passes


@strawberry.type(description="Revenue of the passes sold in one price tier.")
class TierRevenue:
    tier: str
    amount_cents: int


@strawberry.type(description="Network passes over the range.")
class PassStats:
    sold: int = strawberry.field(description="Passes sold (or funded) in the range.")
    credits_redeemed: int = strawberry.field(description="Credits taken by check-ins.")
    credits_expired: int = strawberry.field(
        description="Credits left on passes that expired in the range."
    )
    revenue_by_tier: list[TierRevenue]

    @classmethod
    def from_model(cls, row: passes.PassFigures) -> PassStats:
        return cls(
            sold=row.sold,
            credits_redeemed=row.credits_redeemed,
            credits_expired=row.credits_expired,
            revenue_by_tier=[
                TierRevenue(tier=t.tier, amount_cents=t.amount_cents) for t in row.revenue_by_tier
            ],
        )


@strawberry.type(description="A funded programme's figures over the range.")
class ProgrammeStats:
    id: strawberry.ID
    name: str
    funders: list[str]
    beneficiaries: int = strawberry.field(description="People who hold one of its passes.")
    uses: int = strawberry.field(description="Check-ins with its passes in the range.")
    cost_cents: int = strawberry.field(description="What those check-ins cost it.")
    remaining_budget_cents: int

    @classmethod
    def from_model(cls, row: passes.ProgrammeFigures) -> ProgrammeStats:
        return cls(
            id=strawberry.ID(str(row.programme_id)),
            name=row.name,
            funders=row.funders,
            beneficiaries=row.beneficiaries,
            uses=row.uses,
            cost_cents=row.cost_cents,
            remaining_budget_cents=row.remaining_budget_cents,
        )


@strawberry.type(description="What a space earns as a host and pays for the passes it sold.")
class SpaceSettlementStats:
    site: Site
    owed_cents: int = strawberry.field(description="Owed to the space by the other parties.")
    owing_cents: int = strawberry.field(description="Owed by the space to hosts and the network.")
