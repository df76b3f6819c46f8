"""Handing a divergence over to the reference oracle, so that its report is the reference's.

The fast oracle (:mod:`sessionspec.oracle.fast`) judges with one long-running core that
forgets retired records. At the first step it cannot confirm, it undoes that step, rebuilds the
reference world of that moment and lets :class:`~sessionspec.oracle.reference.Oracle` redo the
step: the line, rule, expectation, message and context of the report are then the
reference oracle's own. The rebuilt world holds what the core holds (every
unfinished job, every session not retired with all its jobs) and the retired records
the step names, read back from the store, each with its session's whole group. The
rules look at nothing else (live records, records the step changes, and the jobs of
their sessions), and the scheduler's one look at history, each instance's QPU usage,
comes from the core's ledger (:class:`LedgerPolicy`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from sessionspec.model.core import Core
from sessionspec.model.inputs import Input
from sessionspec.model.observations import JobChanged, Observation, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY, Candidate, Choice
from sessionspec.model.usage import UsageLedger
from sessionspec.model.world import JobRecord, SessionRecord, World
from sessionspec.oracle.reference import Oracle, _render
from sessionspec.oracle.retired import RetiredStore
from sessionspec.traces.records import Record


class LedgerPolicy:
    """The reference policy, judging each instance's usage over the whole history."""

    def __init__(self, ledger: UsageLedger, created_before: int) -> None:
        self.ledger = ledger
        self.created_before = created_before

    def choose(self, choice: Choice) -> Candidate:
        totals = self.ledger.totals(choice.now, self.created_before)
        return REFERENCE_POLICY.choose(choice._replace(usage=totals.get))


def named_ids(observed: Iterable[tuple[int, Observation]], cause: Input | None) -> tuple[set[str], set[str]]:
    """The job and session ids a step names: in its input and in the changes the trace claims."""
    jobs: set[str] = set()
    sessions: set[str] = set()
    for _, obs in observed:
        if isinstance(obs, JobChanged):
            jobs.add(obs.job)
        elif isinstance(obs, SessionChanged):
            sessions.add(obs.session)
    if cause is not None:
        job, session = getattr(cause, "job", None), getattr(cause, "session", None)
        if isinstance(job, str):
            jobs.add(job)
        if isinstance(session, str):
            sessions.add(session)
    return jobs, sessions


def reference_world(
    core: Core, store: RetiredStore, observed: Iterable[tuple[int, Observation]], cause: Input | None
) -> World:
    """The core's records, with the retired ones the step names, in creation order."""
    jobs, sessions = named_ids(observed, cause)
    assert core.job_ids is not None and core.session_ids is not None, "the core retires records"
    retired_jobs = {j for j in jobs if j in core.job_ids and j not in core.jobs}
    retired_sessions = {s for s in sessions if s in core.session_ids and s not in core.sessions}
    world = core.freeze()
    if not retired_jobs and not retired_sessions:
        return world
    found_sessions, found_jobs = store.find(retired_jobs, retired_sessions)
    session_fields = sorted([(s.seq, *s.fields()) for s in core.sessions.values()] + found_sessions, key=_seq)
    job_fields = sorted([(j.seq, *j.fields()) for j in core.jobs.values()] + found_jobs, key=_seq)
    return world._replace(
        sessions=tuple(SessionRecord(*f[1:]) for f in session_fields),
        jobs=tuple(JobRecord(*f[1:]) for f in job_fields),
    )


def hand_over(
    core: Core,
    store: RetiredStore,
    redo: Callable[[Oracle], object],
    *,
    observed: Iterable[tuple[int, Observation]] = (),
    cause: Input | None = None,
    recent: Iterable[tuple[int, Record]],
    context_lines: int,
) -> NoReturn:
    """Undo the core's last step and let the reference oracle redo it (``redo``).

    The reference raises :class:`~sessionspec.oracle.reference.TraceDiverged` with its report; a
    step it accepts means the fast oracle and the reference disagree, which is a bug here.
    """
    core.rollback()
    observed = list(observed)
    oracle = Oracle(core.config, context_lines, policy=LedgerPolicy(core.usage, core.first_new_seq))
    oracle.world = reference_world(core, store, observed, cause)
    oracle.recent = [(line, _render(record)) for line, record in recent]
    redo(oracle)
    raise AssertionError(
        "internal error: the fast oracle found a divergence that the reference does not find; "
        "please report this trace"
    )


def _seq(fields: tuple[Any, ...]) -> int:
    seq: int = fields[0]
    return seq
