"""The kit's hub client: a cached token, retries with backoff, and clear refusals."""

from __future__ import annotations

import json

import httpx
import pytest

from sites.kit.client import Hub, HubRefused, HubUnreachable


def make(handler: httpx.MockTransport, sleeps: list[float], retries: int = 3) -> Hub:
    return Hub(
        "http://hub",
        "id",
        "secret",
        retries=retries,
        backoff=0.5,
        sleep=sleeps.append,
        transport=handler,
    )


def test_the_token_is_fetched_once_and_5xx_are_retried_with_exponential_backoff() -> None:
    calls: list[str] = []
    failures = iter([503, 502])

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        status = next(failures, 200)
        return httpx.Response(status, json={"batchId": "b", "applied": {}, "rejected": []})

    sleeps: list[float] = []
    with make(httpx.MockTransport(handle), sleeps) as hub:
        hub.post_batch({"batchId": "b", "records": []})
        hub.post_batch({"batchId": "c", "records": []})
    assert calls.count("/oauth/token") == 1
    assert sleeps == [0.5, 1.0]


def test_network_errors_give_up_after_the_retries() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sleeps: list[float] = []
    with make(httpx.MockTransport(handle), sleeps) as hub, pytest.raises(HubUnreachable):
        hub.token()
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_4xx_stops_at_once_naming_the_record() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return httpx.Response(
            400,
            json={
                "error": "BAD_USER_INPUT",
                "message": "records[1].op must be one of ...",
                "details": {"path": "records[1].op"},
            },
        )

    sleeps: list[float] = []
    batch = {
        "batchId": "b",
        "records": [{"type": "usage", "externalId": "u-1"}, {"type": "usage", "externalId": "u-2"}],
    }
    with make(httpx.MockTransport(handle), sleeps) as hub, pytest.raises(HubRefused) as refused:
        hub.post_batch(batch)
    assert "'u-2'" in str(refused.value)
    assert sleeps == []
    assert json.dumps(batch)  # untouched
