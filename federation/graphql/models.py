"""The one table the GraphQL layer owns: how far each public table's data has moved."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base


class DataVersion(Base):
    """One row per public table, bumped by database triggers in the writing transaction
    (migration 0008), whatever wrote: the ORM, a Core bulk statement, a CLI command or
    another process. The public-read cache compares these before answering from memory.
    The row named `*` is the lock every writer takes first (see the migration)."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
