"""The one place where errors become GraphQL `extensions.code`.

Domain errors keep their code and message; GraphQL's own parse and validation errors
get the usual codes; anything else is a bug, logged with its traceback and masked.
"""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError, GraphQLSyntaxError

from federation.errors import FederationError

log = logging.getLogger("federation.graphql")

# graphql-core's messages for a value that does not fit its type: the client's input is wrong.
_BAD_VALUE = re.compile(
    r"^(Variable '\$|Expected value of type|Field '[^']+' of required type|"
    r"Value '[^']*' does not exist in|Enum '[^']+' cannot represent|"
    r"(Int|Float|String|Boolean|ID|Date|DateTime|UUID|Decimal|JSON) cannot represent|"
    r"Argument '[^']+' of (non-null|required) type)"
)


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: a message fit to show and a stable code."""
    original = error.original_error
    if isinstance(original, FederationError):
        return _with(error, original.message, {"code": original.code, **original.details})
    if original is None or isinstance(error, GraphQLSyntaxError):
        if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif _BAD_VALUE.match(error.message):
            code = "BAD_USER_INPUT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        return _with(error, error.message, {**(error.extensions or {}), "code": code})
    if isinstance(original, GraphQLError):  # an error raised by a nested GraphQL layer
        return coded(original)
    log.error("unexpected error in %s", error.path, exc_info=original)
    return _with(error, "Internal server error.", {"code": "INTERNAL_SERVER_ERROR"})


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
