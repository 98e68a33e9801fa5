"""Domain errors with stable codes.

Services raise these; exactly one place turns them into GraphQL `extensions.code`
(federation.graphql.errors) and one into HTTP JSON (federation.app). Anything that
is not a FederationError is a bug: it is logged and masked, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FederationError(Exception):
    code: str = "INTERNAL_SERVER_ERROR"
    http_status: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = dict(self.details)
        return body


class BadUserInput(FederationError):
    code = "BAD_USER_INPUT"
    http_status = 400


class Unauthenticated(FederationError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(FederationError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(FederationError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(FederationError):
    code = "CONFLICT"
    http_status = 409


class Refused(FederationError):
    """A business rule said no (PASS_EXHAUSTED, CAPACITY_FULL, ...): the code names the rule."""

    http_status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code
