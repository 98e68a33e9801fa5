"""When a manager last set a space's network-pass policy through the hub

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

`setAcceptedPassProducts` stamps it; a synced site profile whose `updatedAt` is older
leaves `accepts_network_passes` as the manager set it (newer wins, as everywhere in sync).
Null for every existing space: until a manager sets it, sync's value stands.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column("network_passes_set_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("network_passes_set_at")
