"""Handing a divergence over to the reference oracle, so that its report is the reference's.

The fast oracle (:mod:`sessionspec.oracle.fast`) judges with a live world that forgets
retired records. At the first step it cannot confirm, it undoes that step, rebuilds the
reference world of that moment and lets :class:`~sessionspec.oracle.reference.Oracle` redo the
step: the line, rule, expectation, message and context of the report are then the
reference oracle's own. The rebuilt world holds what the live world holds (every
unfinished job, every session not retired with all its jobs) and the retired records
the step names, read back from the store, each with its session's whole group. The
rules look at nothing else (live records, records the step changes, and the jobs of
their sessions), and the scheduler's one look at history, each instance's QPU usage,
comes from the live world's ledger (:class:`LedgerPolicy`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from sessionspec.model.inputs import Input
from sessionspec.model.live import LiveWorld
from sessionspec.model.live_records import job_record, session_record
from sessionspec.model.live_usage import UsageLedger
from sessionspec.model.observations import JobChanged, Observation, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY
from sessionspec.model.world import JobRecord, World
from sessionspec.oracle.reference import Oracle, _render
from sessionspec.oracle.retired import RetiredStore
from sessionspec.traces.records import Record


class LedgerPolicy:
    """The reference policy, judging each instance's usage over the whole history."""

    def __init__(self, ledger: UsageLedger, created_from: int) -> None:
        self.ledger = ledger
        self.created_from = created_from

    def choose(self, world: World, backend: str, candidates: tuple[JobRecord, ...]) -> JobRecord:
        return REFERENCE_POLICY.choose(self.ledger.usage_world(world, self.created_from), backend, candidates)


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
    live: LiveWorld, store: RetiredStore, observed: Iterable[tuple[int, Observation]], cause: Input | None
) -> World:
    """The live world's records, with the retired ones the step names, in creation order."""
    jobs, sessions = named_ids(observed, cause)
    retired_jobs = {j for j in jobs if j in live.job_ids and j not in live.jobs}
    retired_sessions = {s for s in sessions if s in live.session_ids and s not in live.sessions}
    world = live.world()
    if not retired_jobs and not retired_sessions:
        return world
    found_sessions, found_jobs = store.find(retired_jobs, retired_sessions)
    session_fields = sorted([s.fields() for s in live.sessions.values()] + found_sessions, key=_seq)
    job_fields = sorted([j.fields() for j in live.jobs.values()] + found_jobs, key=_seq)
    return world._replace(
        sessions=tuple(session_record(f) for f in session_fields),
        jobs=tuple(job_record(f) for f in job_fields),
    )


def hand_over(
    live: LiveWorld,
    store: RetiredStore,
    redo: Callable[[Oracle], object],
    *,
    observed: Iterable[tuple[int, Observation]] = (),
    cause: Input | None = None,
    recent: Iterable[tuple[int, Record]],
    context_lines: int,
) -> NoReturn:
    """Undo the live world's last step and let the reference oracle redo it (``redo``).

    The reference raises :class:`~sessionspec.oracle.reference.TraceDiverged` with its report; a
    step it accepts means the live world and the model disagree, which is a bug here.
    """
    live.rollback()
    observed = list(observed)
    oracle = Oracle(live.config, context_lines, policy=LedgerPolicy(live.usage, live.first_new_seq))
    oracle.world = reference_world(live, store, observed, cause)
    oracle.recent = [(line, _render(record)) for line, record in recent]
    redo(oracle)
    raise AssertionError(
        "internal error: the live world found a divergence that the model does not find; "
        "please report this trace"
    )


def _seq(fields: tuple[Any, ...]) -> int:
    seq: int = fields[0]
    return seq
