"""Opaque cursors and pages for Relay connections.

A cursor is the sort key of the last row seen (keyset pagination), so walking a list
never skips or repeats a row when rows are added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import BadUserInput

T = TypeVar("T")
U = TypeVar("U")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_CURSOR_PREFIX = "c1:"


def encode_cursor(key: Sequence[Any]) -> str:
    raw = _CURSOR_PREFIX + json.dumps(list(key), separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, types: Sequence[type]) -> list[Any]:
    """The sort key inside a cursor, checked against the key's types.

    BAD_USER_INPUT for anything this list did not give out, so a forged cursor never
    reaches SQL as a value of the wrong type.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError
        key = json.loads(raw[len(_CURSOR_PREFIX) :])
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput("`after` is not a cursor this list gave out", argument="after") from None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(_is(value, kind) for value, kind in zip(key, types, strict=True))
    ):
        raise BadUserInput("`after` is a cursor from another list", argument="after")
    return key


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    after: str | None

    @classmethod
    def of(cls, first: int | None, after: str | None, *, limit: int = MAX_PAGE_SIZE) -> PageRequest:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if size < 0 or size > limit:
            raise BadUserInput(f"`first` must be between 0 and {limit}", argument="first")
        return cls(first=size, after=after)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, each with its cursor, and how to count the whole list if asked."""

    items: Sequence[T]
    cursors: Sequence[str]
    has_next_page: bool
    # Counts the whole list; run only when a client asks for totalCount.
    count: Callable[[AsyncSession], Awaitable[int]] = field(repr=False)

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(item) for item in self.items], self.cursors, self.has_next_page, self.count)


def known_count(total: int) -> Callable[[AsyncSession], Awaitable[int]]:
    """For lists already counted while fetching them."""

    async def count(_: AsyncSession) -> int:
        return total

    return count


def page_of(
    rows: Sequence[T],
    request: PageRequest,
    *,
    key: Callable[[T], Sequence[Any]],
    count: Callable[[AsyncSession], Awaitable[int]],
) -> Page[T]:
    """Cut the `first + 1` rows a query fetched into a page, with keyset cursors."""
    visible = rows[: request.first]
    return Page(
        items=visible,
        cursors=[encode_cursor(key(row)) for row in visible],
        has_next_page=len(rows) > request.first,
        count=count,
    )
