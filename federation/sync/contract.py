"""The sync batch contract, as JSON Schema, written here and exported to
schema/sync-batch.schema.json (`make schema`; a test keeps the file equal to this code).

Two levels, on purpose: a batch whose envelope is wrong is refused whole (400 naming the
path), while a record that is wrong is rejected on its own and the rest of the batch
applies. So the hub checks the envelope with `RECORDS_AS_OBJECTS` and each record with
`RECORD`; the published file describes both at once.
"""

from __future__ import annotations

import json
from typing import Any

MAX_RECORDS = 10_000
MAX_BYTES = 10 * 1024 * 1024

RECORD_TYPES = ("site_profile", "event", "membership", "usage", "booking")
USE_KINDS = ("OPEN_SPACE", "OFFICE", "MEETING_ROOM")

_ID = {"type": "string", "minLength": 1, "maxLength": 128}
_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string", "maxLength": 2000}
_NAME = {"type": "string", "minLength": 1, "maxLength": 200}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_SITE_PROFILE = _object(
    {
        "name": _NAME,
        "description": {"type": "string", "maxLength": 5000},
        "address": _TEXT,
        "postcode": {"type": "string", "maxLength": 16},
        "city": _NAME,
        "website": {"type": ["string", "null"], "maxLength": 300},
        "email": {"type": ["string", "null"], "maxLength": 300},
        "desks": {"type": "integer", "minimum": 0},
        "surfaceM2": {"type": ["integer", "null"], "minimum": 1},
        "acceptsNetworkPasses": {"type": "boolean"},
        "openingHours": {
            "type": "array",
            "items": _object(
                {
                    "day": {"enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
                    "opens": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                    "closes": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                },
                ("day", "opens", "closes"),
            ),
        },
    }
)

_OVERRIDE = {
    "type": "object",
    "properties": {
        "recurrenceId": _DATETIME,
        "startsAt": _DATETIME,
        "endsAt": _DATETIME,
        "title": _NAME,
        "status": {"enum": ["CONFIRMED", "CANCELLED", "POSTPONED"]},
    },
    "required": ["recurrenceId"],
}

_EVENT = _object(
    {
        "title": _NAME,
        "description": {"type": "string", "maxLength": 20000},
        "category": {"type": "string", "maxLength": 64},
        "startsAt": _DATETIME,
        "endsAt": {"type": ["string", "null"], "format": "date-time"},
        "timezone": {"type": "string", "maxLength": 64},
        "allDay": {"type": "boolean"},
        "rrule": {"type": ["string", "null"], "maxLength": 1000},
        "exdates": {"type": "array", "items": _DATETIME},
        "rdates": {"type": "array", "items": _DATETIME},
        "uid": {"type": "string", "maxLength": 500},
        "location": {"type": ["string", "null"], "maxLength": 500},
        "audience": {"type": "string", "maxLength": 64},
        "capacity": {"type": ["integer", "null"], "minimum": 0},
        "status": {"enum": ["CONFIRMED", "CANCELLED", "POSTPONED"]},
        "url": {"type": ["string", "null"], "maxLength": 1000},
        "overrides": {"type": "array", "items": _OVERRIDE},
    },
    ("title", "startsAt"),
)

_MEMBERSHIP = _object(
    {
        "plan": {"type": "string", "maxLength": 120},
        "startsOn": _DATE,
        "endsOn": {"type": ["string", "null"], "format": "date"},
    },
    ("startsOn",),
)

_USAGE = {
    **_object(
        {
            "date": _DATE,
            "kind": {"enum": list(USE_KINDS)},
            "halfDays": {"type": "integer", "minimum": 1, "maximum": 62},
            "membership": _ID,
            "passToken": {"type": "string", "minLength": 1, "maxLength": 4096},
            "at": _DATETIME,
        },
        ("date",),
    ),
    # Whose use: a member of the space, or a visitor's network pass (never both).
    "oneOf": [{"required": ["membership"]}, {"required": ["passToken"]}],
}

_BOOKING = _object(
    {
        "room": _NAME,
        "startsAt": _DATETIME,
        "endsAt": _DATETIME,
        "membership": _ID,
    },
    ("room", "startsAt", "endsAt"),
)

DATA_SCHEMAS: dict[str, dict[str, Any]] = {
    "site_profile": _SITE_PROFILE,
    "event": _EVENT,
    "membership": _MEMBERSHIP,
    "usage": _USAGE,
    "booking": _BOOKING,
}

ENVELOPE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": list(RECORD_TYPES)},
        "externalId": _ID,
        "op": {"enum": ["upsert", "delete"]},
        "updatedAt": _DATETIME,
        "site": {"type": "string", "description": "If given, must be the batch's space."},
        "data": {"type": "object"},
    },
    "required": ["type", "externalId", "op", "updatedAt"],
    "additionalProperties": False,
}


def _record_schema() -> dict[str, Any]:
    by_type = [
        {
            "if": {"properties": {"type": {"const": kind}, "op": {"const": "upsert"}}},
            "then": {"required": ["data"], "properties": {"data": schema}},
        }
        for kind, schema in DATA_SCHEMAS.items()
    ]
    return {**ENVELOPE, "allOf": by_type}


RECORD: dict[str, Any] = _record_schema()


def _batch(records: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "site": {"type": "string", "minLength": 2, "maxLength": 64},
            "batchId": {"type": "string", "minLength": 1, "maxLength": 128},
            "source": {"type": "string", "maxLength": 200},
            "records": {"type": "array", "maxItems": MAX_RECORDS, "items": records},
            "snapshot": {
                "type": "array",
                "items": {"enum": list(RECORD_TYPES)},
                "uniqueItems": True,
            },
        },
        "required": ["site", "batchId", "records"],
        "additionalProperties": False,
    }


# What the hub checks first: the envelope of the batch, records only as objects.
RECORDS_AS_OBJECTS: dict[str, Any] = _batch({"type": "object"})


def batch_schema() -> dict[str, Any]:
    """The published contract: the whole batch, records included."""
    return {
        "$schema": "https://json-schema.org/draft-07/schema#",
        "$id": "https://tiers-lieux.org/schema/sync-batch.schema.json",
        "title": "Sync batch (POST /sync/v1/batches)",
        "description": (
            "One batch of a space's records. Valid records apply, invalid ones are rejected "
            "one by one; a replayed batchId returns the first answer; an older updatedAt never "
            "overwrites newer data; types in `snapshot` remove the records the batch does not "
            f"carry. At most {MAX_RECORDS} records and {MAX_BYTES} bytes."
        ),
        **_batch(RECORD),
    }


def export_json() -> str:
    """The file schema/sync-batch.schema.json, byte for byte."""
    return json.dumps(batch_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":  # `make schema` writes schema/sync-batch.schema.json from here
    import sys

    sys.stdout.write(export_json())
