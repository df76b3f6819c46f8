"""QPU seconds per instance for a live world, summed exactly as the reference policy sums them.

:func:`sessionspec.model.policy.instance_usage` adds up, in job creation order, how long each job of
an instance ran. A live world forgets ended jobs, so it keeps that sum itself: per
instance, the sum over the oldest jobs, up to the first one still unfinished (folded
once they have all ended, in creation order), and the jobs from there on. Adding in
the same order as the reference keeps even floating-point sums bit for bit equal, so
the reference policy, fed :meth:`UsageLedger.usage_world`, makes the same choice it
would make on the whole world.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from sessionspec.model.clock import elapsed, later
from sessionspec.model.config import Number
from sessionspec.model.live_records import LiveJob
from sessionspec.model.world import JobRecord, World


class UsageLedger:
    """Per instance: the folded sum of its oldest jobs, and its newer jobs."""

    __slots__ = ("_folded", "_tails")

    def __init__(self) -> None:
        self._folded: dict[str, Number] = {}
        self._tails: dict[str, deque[LiveJob]] = {}

    def add(self, job: LiveJob) -> None:
        """A new job of ``job.instance``; jobs ended before it are folded into the sum first.

        Folding here, not when a job ends, keeps the ledger out of a transition that a
        live world may roll back: a job is folded only in a later transition.
        """
        tail = self._tails.get(job.instance)
        if tail is None:
            tail = self._tails[job.instance] = deque()
        folded = self._folded
        while tail and (ended_at := tail[0].ended_at) is not None:
            started_at = tail.popleft().started_at
            if started_at is not None:
                folded[job.instance] = later(folded.get(job.instance, 0), elapsed(started_at, ended_at))
        tail.append(job)

    def held(self) -> int:
        """How many jobs the ledger still holds (for memory checks)."""
        return sum(len(tail) for tail in self._tails.values())

    def usage_world(self, world: World, created_from: int) -> World:
        """A world whose jobs give ``policy.instance_usage`` the usage of the whole history.

        ``world`` holds the current records of the jobs it still has (they win over the
        ledger's copies); jobs numbered ``created_from`` or later that ``world`` does not
        hold never existed for it and are left out. Each folded sum becomes one ended job
        that ran from 0 for that long (0 + sum and sum - 0 are exact).
        """
        current: Mapping[str, JobRecord] = {job.id: job for job in world.jobs}
        jobs = [
            JobRecord("", "", None, instance, None, "completed", 0, 0, total)
            for instance, total in self._folded.items()
        ]
        for tail in self._tails.values():
            for live in tail:
                record = current.get(live.id)
                if record is None and live.seq < created_from:
                    record = live.record()
                if record is not None:
                    jobs.append(record)
        return World(world.config, world.now, (), tuple(jobs))
