"""Lists of strings as one PostgreSQL text[] literal."""

from __future__ import annotations

import pytest
from sqlalchemy import String, cast, select
from sqlalchemy.dialects.postgresql import ARRAY

from federation.db import Database
from federation.kit.arrays import text_array, text_array_param

AWKWARD = ["a", 'b"c', "d\\e", "NULL", "", "é,{} x", " spaced ", '\\\\"']


def test_a_list_becomes_an_array_literal_and_control_characters_keep_the_list() -> None:
    assert text_array(["a", 'b"c']) == '{"a", "b\\"c"}'
    assert text_array([]) == "{}"
    assert text_array(["x\ny"]) == ["x\ny"]


async def test_postgresql_reads_back_exactly_the_strings_sent(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("a PostgreSQL array literal")
    async with db.reading() as session:
        for values in (AWKWARD, ["tab\there"], []):
            parameter = cast(text_array_param("values", values), ARRAY(String))
            assert await session.scalar(select(parameter)) == values
