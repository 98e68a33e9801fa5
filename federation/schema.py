"""The GraphQL schema, composed from each domain's Query (and Mutation), with its limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from federation.auth import schema as auth
from federation.calendar import schema as calendar
from federation.directory import schema as directory
from federation.passes import schema as passes
from federation.settings import Settings
from federation.stats import schema as stats

# Each domain brings its own Query (and Mutation) type; the roots are their union.
QUERIES: tuple[type, ...] = (
    directory.Query,
    auth.Query,
    stats.Query,
    passes.Query,
    calendar.Query,
)
MUTATIONS: tuple[type, ...] = (auth.Mutation, passes.Mutation, calendar.Mutation)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None


class FederationSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors are logged once, where they get their code (federation.graphql.view):
        # expected ones (bad input, refusals) are answers, not incidents.
        return


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema; with settings, also its limits and caches (extensions are per request)."""
    extensions: list[Callable[[], SchemaExtension]] = []
    if settings is not None:
        # Rule classes are built once: the validation cache is keyed by them, so a fresh
        # class per request would never hit.
        rules: list[type[ASTValidationRule]] = [
            depth_limit(settings.max_query_depth, None, None),
            alias_limit(settings.max_aliases),
        ]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        extensions += [
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: ParserCache(maxsize=settings.parser_cache_size),
            lambda: ValidationCache(maxsize=settings.parser_cache_size),
        ]
    options: dict[str, Any] = {"query": Query, "mutation": Mutation, "extensions": extensions}
    return FederationSchema(**options)


def export_sdl() -> str:
    """The schema as SDL, exactly as schema/schema.graphql must hold it."""
    return build_schema().as_str() + "\n"


if __name__ == "__main__":  # `make schema` writes schema/schema.graphql from here
    import sys

    sys.stdout.write(export_sdl())
