"""Scheduling policies: who starts when the rules leave a choice.

The rules say *which* jobs may start on a free backend; when more than one may, a policy
picks. A policy is any object with a ``choose`` method: it gets a :class:`Choice` (the
backend, the candidates oldest first, each instance's QPU usage so far) and must return
one of the candidates. It must be deterministic (no clocks, no global randomness) so
that every run can be replayed.

>>> from sessionspec.model.world import JobRecord
>>> a = JobRecord("a", "qpu1", None, "big-lab", None, "queued", 0)
>>> b = JobRecord("b", "qpu1", None, "small-lab", None, "queued", 1)
>>> usage = {"big-lab": 50, "small-lab": 10}
>>> REFERENCE_POLICY.choose(Choice("qpu1", "fair-share", (a, b), 7, usage.get)).id
'b'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from sessionspec.model.config import Number


class Candidate(Protocol):
    """What a policy may read of a job it can pick."""

    @property
    def id(self) -> str: ...
    @property
    def instance(self) -> str: ...
    @property
    def session(self) -> str | None: ...
    @property
    def submitted_at(self) -> Number: ...


class Choice(NamedTuple):
    """One free choice of the scheduler: which of ``jobs`` starts on ``backend``."""

    backend: str
    tier: str  # "reservation" or "fair-share": the tier of the rules that offers the jobs
    jobs: Sequence[Candidate]  # oldest first
    now: Number
    # QPU seconds an instance has used so far (None: none yet), running jobs up to now
    usage: Callable[[str], Number | None]
    # the candidate of this id, if it is one (without listing them all)
    offer: Callable[[str], Candidate | None] = lambda job_id: None


class Policy(Protocol):
    """Picks one job among the candidates the rules allow on a backend."""

    def choose(self, choice: Choice) -> Candidate: ...


class LeastUsedInstancePolicy:
    """IBM's documented fair share: the least-used instance first, then FIFO in it.

    Ties between instances go to the one whose waiting job is oldest. Candidates
    arrive oldest first, so FIFO within an instance is their given order.
    """

    def choose(self, choice: Choice) -> Candidate:
        usage = choice.usage
        jobs = choice.jobs
        best = jobs[0]
        best_usage = usage(best.instance) or 0
        for job in jobs[1:]:
            used = usage(job.instance) or 0
            if used < best_usage:
                best, best_usage = job, used
        return best


REFERENCE_POLICY = LeastUsedInstancePolicy()
