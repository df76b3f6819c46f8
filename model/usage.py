"""QPU seconds per instance, summed in job creation order, with ended jobs folded away.

The reference fair-share policy (decision D08) picks the instance that has used the QPU
least. A core that forgets ended jobs (decision D19) keeps that sum itself: per instance,
the sum over its oldest jobs, up to the first one still unfinished (folded once they have
all ended, in creation order), and the jobs from there on. Adding always in creation
order keeps even floating-point sums the same however many jobs were folded.

>>> from sessionspec.model.records import Job
>>> ledger = UsageLedger()
>>> job = Job(0, "j1", "qpu", None, "lab", None, 0, 100)
>>> ledger.add(job)
>>> job.started_at = 5
>>> ledger.totals(8)  # running since 5: 3 s so far
{'lab': 3}
"""

from __future__ import annotations

from collections import deque

from sessionspec.model.clock import elapsed, later
from sessionspec.model.config import Number
from sessionspec.model.records import Job


class UsageLedger:
    """Per instance: the folded sum of its oldest jobs, and its newer jobs."""

    __slots__ = ("_folded", "_tails")

    def __init__(self) -> None:
        self._folded: dict[str, Number] = {}
        self._tails: dict[str, deque[Job]] = {}

    def add(self, job: Job) -> None:
        """A new job of ``job.instance``; jobs ended before it are folded into the sum first.

        Folding here, not when a job ends, keeps the ledger out of a transition that the
        core may roll back: a job is folded only in a later transition.
        """
        instance = job.instance
        tail = self._tails.get(instance)
        if tail is None:
            tail = self._tails[instance] = deque()
        folded = self._folded
        while tail and (ended_at := tail[0].ended_at) is not None:
            started_at = tail.popleft().started_at
            if started_at is not None:
                folded[instance] = later(folded.get(instance, 0), elapsed(started_at, ended_at))
        tail.append(job)

    def held(self) -> int:
        """How many jobs the ledger still holds (for memory checks)."""
        return sum(len(tail) for tail in self._tails.values())

    def totals(self, now: Number, created_before: int | None = None) -> dict[str, Number]:
        """QPU seconds each instance has used by ``now`` (running jobs count up to now).

        Jobs numbered ``created_before`` or later are left out (they belong to a
        transition that was undone).
        """
        usage: dict[str, Number] = {}
        for instance, tail in self._tails.items():
            total = self._folded.get(instance)
            for job in tail:
                if created_before is not None and job.seq >= created_before:
                    break
                started_at = job.started_at
                if started_at is None:
                    continue
                end = now if job.ended_at is None else job.ended_at
                total = elapsed(started_at, end) if total is None else later(total, elapsed(started_at, end))
            if total is not None:
                usage[instance] = total
        return usage
