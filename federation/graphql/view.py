"""The GraphQL HTTP view: Strawberry's, with every error given its code on the way out."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from federation.graphql.errors import coded


class HubGraphQL(GraphQL[Any, None]):
    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Here and only here: parse, validation and execution errors all pass through,
        # whichever stage of Strawberry produced them.
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        return await super().process_result(request, result)
