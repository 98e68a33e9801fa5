"""What one use or membership adds to (or takes from) each rollup. Pure: no I/O.

A transaction's changes are netted here before anything is written, so the rows it
touches are written once each, in one global order (no deadlocks between writers).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from federation.usage.periods import Period, periods_of

if TYPE_CHECKING:  # the models import this module (for `stripe`)
    from federation.usage.models import UseKind

K = TypeVar("K")

NETWORK = 0  # site_id of network-wide rows
ANY_HOME = 0  # home_site_id of rows that are not about one home

STRIPES = 16

UseKey = tuple[Period, date, int, "UseKind", int]  # period, starts_on, site_id, kind, shard
SubjectKey = tuple[Period, date, int, int, str]  # period, starts_on, site_id, home_site_id, subject
ScopeKey = tuple[Period, date, int, int, int]  # period, starts_on, site_id, home_site_id, shard
MemberKey = tuple[Period, date, int]  # period, starts_on, site_id


def stripe(subject: str) -> int:
    """The stripe (`shard` column) of a subject's rollup rows: the first byte of the MD5 of
    its UTF-8 text, modulo 16; `usage_stripe(subject)` in SQL gives the same.

    Why: every use of a day adds to the same few counters (its space's and the network's,
    for each period kind), and a row lock is held until commit, so concurrent writers of
    the rollups would queue on them. Each counter is split into 16 rows, summed when read;
    a use's stripe follows its subject, so a subject's removals always take from the row
    its additions went to and every row stays a valid count. (Since migration 0012 uses
    reach the rollups through one applier at a time, so the stripes no longer spare
    check-ins a wait; they stay, summed at read, until a migration folds them.)"""
    return hashlib.md5(subject.encode(), usedforsecurity=False).digest()[0] % STRIPES


@dataclass(frozen=True, slots=True)
class UseFact:
    """What the rollups need to know about one use."""

    site_id: int
    day: date
    kind: UseKind
    units: int
    subject: str
    home_site_id: int | None

    @property
    def is_visit(self) -> bool:
        return self.home_site_id is not None and self.home_site_id != self.site_id


@dataclass(slots=True)
class Deltas:
    """Net changes to every rollup table, keyed by row."""

    uses: defaultdict[UseKey, int] = field(default_factory=lambda: defaultdict(int))
    subjects: defaultdict[SubjectKey, int] = field(default_factory=lambda: defaultdict(int))
    visits: defaultdict[ScopeKey, int] = field(default_factory=lambda: defaultdict(int))
    members: defaultdict[MemberKey, int] = field(default_factory=lambda: defaultdict(int))

    def add_use(self, use: UseFact, sign: int) -> None:
        units = sign * use.units
        shard = stripe(use.subject)
        for period, start in periods_of(use.day):
            self.uses[(period, start, use.site_id, use.kind, shard)] += units
            self.uses[(period, start, NETWORK, use.kind, shard)] += units
            self.subjects[(period, start, use.site_id, ANY_HOME, use.subject)] += sign
            self.subjects[(period, start, NETWORK, ANY_HOME, use.subject)] += sign
            if use.is_visit:
                assert use.home_site_id is not None
                self.subjects[(period, start, use.site_id, use.home_site_id, use.subject)] += sign
                self.visits[(period, start, use.site_id, use.home_site_id, shard)] += units
                self.visits[(period, start, use.site_id, ANY_HOME, shard)] += units
                self.visits[(period, start, NETWORK, ANY_HOME, shard)] += units

    def add_membership(self, site_id: int, starts_on: date, sign: int) -> None:
        for period, start in periods_of(starts_on):
            self.members[(period, start, site_id)] += sign
            self.members[(period, start, NETWORK)] += sign

    def netted(self) -> Deltas:
        """The same changes without the rows they leave as they were."""
        return Deltas(
            uses=_nonzero(self.uses),
            subjects=_nonzero(self.subjects),
            visits=_nonzero(self.visits),
            members=_nonzero(self.members),
        )

    def __bool__(self) -> bool:
        return bool(self.uses or self.subjects or self.visits or self.members)


def _nonzero(counts: defaultdict[K, int]) -> defaultdict[K, int]:
    return defaultdict(int, {key: value for key, value in counts.items() if value})


def people_changes(
    subject_deltas: dict[SubjectKey, int], after: dict[SubjectKey, int]
) -> dict[ScopeKey, int]:
    """How many people each scope gains or loses, from each subject row's change and the
    row's value once changed: a row that goes from 0 to more adds one, one that falls to 0
    takes one away, in the subject's stripe."""
    changes: defaultdict[ScopeKey, int] = defaultdict(int)
    for key, delta in subject_deltas.items():
        now = after[key]
        before = now - delta
        if before == 0 and now > 0:
            changes[(*key[:4], stripe(key[4]))] += 1
        elif before > 0 and now == 0:
            changes[(*key[:4], stripe(key[4]))] -= 1
    return {key: value for key, value in changes.items() if value}
