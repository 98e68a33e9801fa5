"""The hub, seen from a space: an OAuth client-credentials token (kept until it expires)
and `POST /sync/v1/batches` with retries on network errors and 5xx."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger("sites.client")

SCOPE = "sync:write"


class HubRefused(Exception):
    """The hub said no (4xx): retrying would not help. The message names the record."""


class HubUnreachable(Exception):
    """Network errors or 5xx, still after every retry."""


class Hub:
    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._http = httpx.Client(base_url=self.url, timeout=60, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def token(self) -> str:
        """An access token, fetched again only when the last one is about to expire."""
        if self._token is not None and self._clock() < self._expires - 30:
            return self._token
        response = self._with_retries(
            lambda: self._http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": SCOPE},
                auth=(self._client_id, self._secret),
            )
        )
        if response.status_code != 200:
            raise HubRefused(
                f"the hub refused the client credentials ({response.status_code}): "
                f"{_message(response)}; check SITE_CLIENT_ID and SITE_CLIENT_SECRET"
            )
        body = response.json()
        self._token = str(body["access_token"])
        self._expires = self._clock() + float(body.get("expires_in", 300))
        return self._token

    def post_batch(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Send one batch; the hub's answer. A replay after a lost answer is harmless:
        the hub answers a known batch id with its first answer."""

        def send() -> httpx.Response:
            return self._http.post(
                "/sync/v1/batches",
                json=batch,
                headers={"Authorization": f"Bearer {self.token()}"},
            )

        response = self._with_retries(send)
        if response.status_code == 401:
            self._token = None
            response = self._with_retries(send)
        if response.status_code >= 400:
            raise HubRefused(_refusal(response, batch))
        answer: dict[str, Any] = response.json()
        return answer

    def _with_retries(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        for attempt in range(self._retries + 1):
            try:
                response = call()
            except httpx.TransportError as error:
                problem = f"network error: {error}"
            else:
                if response.status_code < 500:
                    return response
                problem = f"the hub answered {response.status_code}"
            if attempt == self._retries:
                raise HubUnreachable(f"{problem} (after {self._retries} retries)")
            delay = self._backoff * 2**attempt
            log.warning("%s; retrying in %.1f s", problem, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error"))
    return str(body)[:200]


def _refusal(response: httpx.Response, batch: dict[str, Any]) -> str:
    message = _message(response)
    try:
        path = str(response.json().get("details", {}).get("path", ""))
    except (ValueError, AttributeError):
        path = ""
    where = ""
    if path.startswith("records["):
        index = int(path[len("records[") : path.index("]")])
        if index < len(batch.get("records", [])):
            record = batch["records"][index]
            where = f" (record {record.get('type')} {record.get('externalId')!r})"
    return (
        f"the hub refused batch {batch.get('batchId')} ({response.status_code}){where}: {message}"
    )
