"""GraphQL types of sync: the runs a space's batches left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from federation.sync.models import SyncRun as SyncRunRow


@strawberry.type(description="One record of a batch that the hub refused, and why.")
class SyncRejection:
    index: int
    external_id: str | None
    type: str | None
    reason: str


@strawberry.type(description="One batch a space's adapter sent, as the hub applied it.")
class SyncRun:
    batch_id: str
    received_at: datetime
    client_id: str | None = strawberry.field(description="The OAuth client that sent it.")
    source: str
    created: int
    updated: int
    deleted: int
    unchanged: int
    rejected_count: int
    rejections: list[SyncRejection]

    @classmethod
    def from_model(cls, row: SyncRunRow) -> SyncRun:
        rejected: list[dict[str, Any]] = list(row.answer.get("rejected", []))
        return cls(
            batch_id=row.batch_id,
            received_at=row.received_at,
            client_id=row.client_id,
            source=row.source,
            created=row.created,
            updated=row.updated,
            deleted=row.deleted,
            unchanged=row.unchanged,
            rejected_count=row.rejected,
            rejections=[
                SyncRejection(
                    index=r["index"],
                    external_id=r.get("externalId"),
                    type=r.get("type"),
                    reason=r["reason"],
                )
                for r in rejected
            ],
        )
