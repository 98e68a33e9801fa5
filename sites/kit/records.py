"""A record as the hub's sync protocol carries it, and the digest that says if it changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# One encoder for every digest (json.dumps with options builds a new one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class Record:
    type: str
    external_id: str
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.type}:{self.external_id}"

    @property
    def digest(self) -> str:
        """What the record says, not when: an unchanged record is not sent again."""
        return hashlib.sha256(_CANONICAL.encode(self.data).encode()).hexdigest()

    def upsert(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "externalId": self.external_id,
            "op": "upsert",
            "updatedAt": iso(self.updated_at),
            "data": self.data,
        }


def delete(key: str, at: datetime) -> dict[str, Any]:
    kind, _, external_id = key.partition(":")
    return {"type": kind, "externalId": external_id, "op": "delete", "updatedAt": iso(at)}


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: times sent to the hub carry their zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SourceError(Exception):
    """A source that cannot be read as a whole: nothing is sent."""
