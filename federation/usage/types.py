"""Usage enums as GraphQL sees them (registered here, so models never import Strawberry)."""

from __future__ import annotations

import strawberry

from federation.usage import models

strawberry.enum(
    models.UseKind,
    description=(
        "What a use is: OPEN_SPACE a half-day at a desk of the open space (a full day counts "
        "two), OFFICE a private office rental, MEETING_ROOM a meeting-room rental."
    ),
)
