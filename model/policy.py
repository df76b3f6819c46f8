"""Scheduling policies: who starts when the rules leave a choice.

The rules say *which* jobs may start on a free backend (see
:func:`sessionspec.model.scheduler.allowed_starts`); when more than one may, a policy picks.
A policy is any object with a ``choose`` method; it must return one of the
candidates it is given, and it must be deterministic (no clocks, no global
randomness) so that every run can be replayed.
from sessionspec.model.world import JobRecord, World
>>> a = JobRecord("a", "qpu1", None, "big-lab", None, "queued", 0)
>>> b = JobRecord("b", "qpu1", None, "small-lab", None, "queued", 1)
>>> REFERENCE_POLICY.choose(World.empty(), "qpu1", (a, b)).id
'a'
"""

from __future__ import annotations

from typing import Protocol

from sessionspec.model.clock import elapsed, later
from sessionspec.model.config import Number
from sessionspec.model.world import JobRecord, World


class Policy(Protocol):
    """Picks one job among the candidates the rules allow on a backend."""

    def choose(self, world: World, backend: str, candidates: tuple[JobRecord, ...]) -> JobRecord: ...


def instance_usage(world: World) -> dict[str, Number]:
    """QPU seconds each instance has used so far (running jobs count up to now)."""
    usage: dict[str, Number] = {}
    for job in world.jobs:
        if job.started_at is None:
            continue
        end = world.now if job.ended_at is None else job.ended_at
        usage[job.instance] = later(usage.get(job.instance, 0), elapsed(job.started_at, end))
    return usage


class LeastUsedInstancePolicy:
    """IBM's documented fair share: the least-used instance first, then FIFO in it.

    Ties between instances go to the one whose waiting job is oldest. Candidates
    arrive oldest first, so FIFO within an instance is their given order.
    """

    def choose(self, world: World, backend: str, candidates: tuple[JobRecord, ...]) -> JobRecord:
        usage = instance_usage(world)
        best = candidates[0]
        best_usage = usage.get(best.instance, 0)
        for job in candidates[1:]:
            used = usage.get(job.instance, 0)
            if used < best_usage:
                best, best_usage = job, used
        return best


REFERENCE_POLICY = LeastUsedInstancePolicy()
