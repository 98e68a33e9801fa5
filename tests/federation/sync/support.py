"""Helpers for the sync tests: a space's client as a viewer, records, batches."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from federation.access import Viewer
from tests.support import Hub, _viewer


def space_client(site_id: int, *, scopes: str = "sync:write") -> Viewer:
    return Viewer(
        client_id=f"adapter-{site_id}", client_site_id=site_id, scopes=frozenset(scopes.split())
    )


def membership(
    external_id: str,
    starts_on: str = "2026-01-05",
    *,
    plan: str = "Résident",
    updated_at: str = "2026-01-05T09:00:00Z",
    ends_on: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"plan": plan, "startsOn": starts_on}
    if ends_on:
        data["endsOn"] = ends_on
    return {
        "type": "membership",
        "externalId": external_id,
        "op": "upsert",
        "updatedAt": updated_at,
        "data": data,
    }


def use(
    external_id: str,
    member: str,
    day: str = "2026-02-02",
    *,
    half_days: int = 1,
    kind: str = "OPEN_SPACE",
    updated_at: str = "2026-02-02T18:00:00Z",
) -> dict[str, Any]:
    return {
        "type": "usage",
        "externalId": external_id,
        "op": "upsert",
        "updatedAt": updated_at,
        "data": {"date": day, "kind": kind, "halfDays": half_days, "membership": member},
    }


def delete(kind: str, external_id: str, updated_at: str = "2026-03-01T00:00:00Z") -> dict[str, Any]:
    return {"type": kind, "externalId": external_id, "op": "delete", "updatedAt": updated_at}


def batch(site: str, *records: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "site": site,
        "batchId": extra.pop("batch_id", None) or uuid.uuid4().hex,
        "source": "tests",
        "records": list(records),
        **extra,
    }


async def post(hub: Hub, body: Any, viewer: Viewer, **kwargs: Any) -> httpx.Response:
    token = _viewer.set(viewer)
    try:
        if isinstance(body, bytes | str):
            return await hub.http.post(
                "/sync/v1/batches",
                content=body,
                headers={"content-type": "application/json"},
                **kwargs,
            )
        return await hub.http.post("/sync/v1/batches", json=body, **kwargs)
    finally:
        _viewer.reset(token)
