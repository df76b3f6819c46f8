"""Deadlines: the instants at which time alone changes the world, in a heap.

Four timers exist (decisions D02, D07, D13, D14): a session's maximum timeout, a running
job's own time limit, the interactive timeout of an active idle session, and the
optional pending timeout. The core pushes a timer when it starts. An entry is not
removed when its timer stops (a job ends, a session leaves ``active``): it goes stale,
and every read checks an entry against its record, dropping stale ones. The heap is
rebuilt from its valid entries whenever stale ones outnumber them threefold, so it
stays proportional to the live records: the next deadline costs O(log n), not a scan.

Kinds are numbered in the order decision D16 fires them at one instant: expiries first,
so a session that expires at T is not also deactivated at T; then job time limits, then
interactive timeouts, then pending timeouts. Entries due at one instant are ordered by
record (sessions in creation order, each's max TTL before its interactive timeout before
its pending timeout, then jobs in creation order), so that of equal instants written
differently (``10`` and ``10.0``) the same one is returned.

>>> from sessionspec.model.records import SessionState
>>> session = SessionState(0, "s1", "qpu1", None, 0)
>>> deadlines = Deadlines(interactive_ttl=60)
>>> deadlines.push(50, PENDING_TIMEOUT, session)
>>> deadlines.next_after(0)
50
>>> session.got_job = True  # a job arrived: the pending timeout no longer applies
>>> deadlines.next_after(0) is None
True
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from sessionspec.model.clock import later
from sessionspec.model.config import Number

MAX_TTL, TIME_LIMIT, ITTL, PENDING_TIMEOUT = 0, 1, 2, 3
_MIN_COMPACT = 1024
_ORDER = {MAX_TTL: 0, ITTL: 1, PENDING_TIMEOUT: 2, TIME_LIMIT: 1 << 62}  # added to seq << 2

Entry = tuple[Number, int, int, int, Any]


class Deadlines:
    """A heap of ``(due, order, counter, kind, record)`` entries, checked lazily."""

    __slots__ = ("_counter", "_heap", "_limit", "_overdue", "interactive_ttl", "spare_used")

    def __init__(self, interactive_ttl: Number, spare_used: bool = True) -> None:
        self.interactive_ttl = interactive_ttl
        # (a variant: the pending timeout also applies to a session that got a job)
        self.spare_used = spare_used
        self._heap: list[Entry] = []
        self._counter = itertools.count()
        self._limit = _MIN_COMPACT
        # Valid entries not after the clock: never expected (timers start in the future),
        # kept so they fire at the next instant as the reference model would fire them.
        self._overdue: list[Entry] = []

    def __len__(self) -> int:
        return len(self._heap) + len(self._overdue)

    def push(self, due: Number, kind: int, record: Any) -> None:
        heap = self._heap
        heapq.heappush(heap, (due, _ORDER[kind] + (record.seq << 2), next(self._counter), kind, record))
        if len(heap) > self._limit:
            self._heap = [entry for entry in heap if self.valid(entry)]
            heapq.heapify(self._heap)
            self._limit = max(_MIN_COMPACT, 4 * len(self._heap))

    def valid(self, entry: Entry) -> bool:
        """Does the timer of this entry still run, and fall due at the entry's instant?"""
        due, _, _, kind, record = entry
        state: str = record.state
        if kind == MAX_TTL:
            return state == "active" or state == "inactive"
        if kind == TIME_LIMIT:
            return state == "running"
        if kind == ITTL:
            idle_since = record.idle_since
            return (
                state == "active"
                and idle_since is not None
                and later(idle_since, self.interactive_ttl) == due
            )
        return state == "pending" and not (self.spare_used and record.got_job)

    def next_after(self, now: Number) -> Number | None:
        """The earliest valid deadline after ``now``, or None."""
        heap = self._heap
        while heap:
            entry = heap[0]
            # (a running job's time limit, the usual top of the heap, is checked inline)
            if not (entry[3] == TIME_LIMIT and entry[4].state == "running") and not self.valid(entry):
                heapq.heappop(heap)
            elif entry[0] <= now:
                self._overdue.append(heapq.heappop(heap))
            else:
                return entry[0]
        return None

    def pop_due(self, t: Number) -> list[tuple[int, Any]]:
        """Take every valid entry due at or before ``t``: ``(kind, record)`` pairs, by kind."""
        heap, valid = self._heap, self.valid
        due: list[Entry] = self._overdue
        self._overdue = []
        while heap and heap[0][0] <= t:
            entry = heapq.heappop(heap)
            if valid(entry):
                due.append(entry)
        due.sort(key=_kind_then_order)
        return [(entry[3], entry[4]) for entry in due]


def _kind_then_order(entry: Entry) -> tuple[int, int]:
    return entry[3], entry[1]
