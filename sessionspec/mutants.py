"""Deliberately broken variants of the model, one or more per rule.

A rule that no broken model can break checks nothing. Each :class:`Mutant` names
the rule it must break and replaces one piece of the core with a plausible bug
(the kind of mistake an implementation of the seeds could make). Tests run the
exploration against every mutant with only its rule enabled and expect that rule
to fail.

>>> mutant = MUTANTS["ttl-clock-at-creation"]
>>> mutant.rules
('SES-TTL-START',)
>>> from sessionspec.model.inputs import CreateSession
>>> from sessionspec.model.step import step
>>> from sessionspec.model.world import World
>>> with mutant.applied():
...     step(World.empty(), CreateSession(0, "s1", "qpu1")).world.session("s1").started_at
0
>>> step(World.empty(), CreateSession(0, "s1", "qpu1")).world.session("s1").started_at is None
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from sessionspec.model import scheduler, step, timers
from sessionspec.model.inputs import CancelJob, CancelSession, CloseSession, CreateSession, FinishJob, Submit
from sessionspec.model.observations import JobChanged, Rejected
from sessionspec.model.scheduler import FAIR_SHARE, SESSION_PRIORITY, Candidates
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import (
    ACTIVE,
    INACTIVE,
    PENDING,
    QUEUED,
    RUNNING,
    JobRecord,
    SessionRecord,
    World,
)

Handler = Callable[[Transaction, Any], Rejected | None]


@dataclass(frozen=True)
class Mutant:
    """A named bug: ``patches`` maps ``"module.attribute"`` to its broken replacement."""

    name: str
    rules: tuple[str, ...]
    description: str
    patches: dict[str, Any] = field(default_factory=dict)
    handlers: dict[type, Handler] = field(default_factory=dict)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Run the model with this bug in place; everything is restored on exit."""
        with contextlib.ExitStack() as stack:
            for target, replacement in self.patches.items():
                stack.enter_context(mock.patch(target, replacement))
            if self.handlers:
                stack.enter_context(mock.patch.dict(step.HANDLERS, self.handlers))
            yield


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, rules: str | tuple[str, ...], description: str, **kwargs: Any) -> None:
    if name in MUTANTS:
        raise ValueError(f"mutant {name!r} is defined twice")
    MUTANTS[name] = Mutant(name, (rules,) if isinstance(rules, str) else rules, description, **kwargs)


# -- who runs where -------------------------------------------------------------------------------

_original_allowed = scheduler.allowed_starts
_original_submit = step.HANDLERS[Submit]
_original_cancel_job = step.HANDLERS[CancelJob]
_original_close = step.HANDLERS[CloseSession]
_original_finish = step.HANDLERS[FinishJob]


def _settle_ignoring_running_jobs(tx: Transaction, policy: Any) -> None:
    for backend in tx.world.backends():
        allowed = scheduler.allowed_starts(tx.world, backend)
        if allowed is not None:
            scheduler.start_job(tx, allowed.jobs[0])


mutant(
    "start-on-busy-backend",
    "EXC-ONE-RUNNING",
    "the scheduler starts a job without checking that the backend is free",
    patches={"sessionspec.model.step.settle": _settle_ignoring_running_jobs},
)


def _queued_sessions_jobs(world: World, backend: str) -> tuple[JobRecord, ...]:
    waiting = {s.id for s in world.sessions if s.state in (PENDING, INACTIVE) and s.backend == backend}
    return tuple(j for j in world.queued_on(backend) if j.session in waiting)


def _hold_lets_sessions_in(world: World, backend: str) -> Candidates | None:
    allowed = _original_allowed(world, backend)
    if allowed is None and world.active_on(backend) is not None:
        others = _queued_sessions_jobs(world, backend)
        return Candidates(FAIR_SHARE, others) if others else None
    return allowed


mutant(
    "second-session-during-hold",
    "EXC-ONE-ACTIVE",
    "another session's first job may start while a session holds the backend",
    patches={"sessionspec.model.scheduler.allowed_starts": _hold_lets_sessions_in},
)


mutant(
    "session-backend-unchecked",
    "SES-JOB-BACKEND",
    "a submission into a session is not checked against the session's backend",
    patches={
        "sessionspec.model.step._session_refuses": lambda session, inp: None if session else "unknown session"
    },
)


def _create_anywhere(tx: Transaction, inp: CreateSession) -> Rejected | None:
    if tx.world.session(inp.session) is not None:
        return Rejected(inp.t, inp.op, "in use", session=inp.session)
    step.open_session(tx, inp.session, inp.backend, inp.max_time)
    return None


mutant(
    "session-on-simulator",
    "SIM-NO-SESSION",
    "create_session is accepted on a simulator",
    handlers={CreateSession: _create_anywhere},
)


def _instant_without_scheduler(world: World, t: Any, policy: Any) -> Transaction:
    tx = Transaction(world._replace(now=t))
    timers.fire_due(tx)
    return tx


mutant(
    "no-scheduling-after-deadlines",
    "WORK-CONSERVE",
    "the scheduler runs after inputs only, so nothing starts when a deadline frees a backend",
    patches={"sessionspec.model.step.fire_instant": _instant_without_scheduler},
)

mutant(
    "reservations-ignored",
    "RSV-PRIORITY",
    "reservation windows give no priority",
    patches={"sessionspec.model.scheduler.reservation_jobs": lambda world, backend: ()},
)


def _plain_jobs(world: World, backend: str) -> tuple[JobRecord, ...]:
    return tuple(j for j in world.queued_on(backend) if j.session is None)


def _fair_share_first(world: World, backend: str) -> Candidates | None:
    allowed = _original_allowed(world, backend)
    plain = _plain_jobs(world, backend)
    if allowed is not None and allowed.tier == SESSION_PRIORITY and plain:
        return Candidates(FAIR_SHARE, plain)
    return allowed


mutant(
    "fair-share-before-session",
    "SES-PRIORITY",
    "plain jobs go before the queued jobs of the active session",
    patches={"sessionspec.model.scheduler.allowed_starts": _fair_share_first},
)


def _no_hold(world: World, backend: str) -> Candidates | None:
    allowed = _original_allowed(world, backend)
    if allowed is None and world.active_on(backend) is not None:
        plain = _plain_jobs(world, backend)
        return Candidates(FAIR_SHARE, plain) if plain else None
    return allowed


mutant(
    "fair-share-during-ittl",
    "SES-ITTL-HOLD",
    "a plain job is let in while the active session waits out its interactive timeout",
    patches={"sessionspec.model.scheduler.allowed_starts": _no_hold},
)


def _newest_session_job_first(world: World, backend: str) -> Candidates | None:
    allowed = _original_allowed(world, backend)
    active = world.active_on(backend)
    if allowed is not None and allowed.tier == SESSION_PRIORITY and active is not None:
        queued = [j for j in world.jobs if j.session == active.id and j.state == QUEUED]
        return Candidates(SESSION_PRIORITY, (queued[-1],))
    return allowed


mutant(
    "session-jobs-lifo",
    "SES-JOB-ORDER",
    "the active session's newest queued job runs first",
    patches={"sessionspec.model.scheduler.allowed_starts": _newest_session_job_first},
)


def _activating_submit(from_state: str, event: str) -> Handler:
    def submit(tx: Transaction, inp: Submit) -> Rejected | None:
        refusal = _original_submit(tx, inp)
        session = tx.world.session(inp.session) if inp.session else None
        if (
            refusal is None
            and session is not None
            and session.state == from_state
            and tx.world.active_on(session.backend) is None
        ):
            changes: dict[str, Any] = {"idle_since": None}
            if from_state == PENDING:
                changes.update(started_at=tx.now, max_ttl=tx.world.config.system_max_ttl)
            tx.fire_session(session, event, **changes)
        return refusal

    return submit


mutant(
    "first-job-skips-queue",
    "SES-FIRST-VIA-QUEUE",
    "submitting to a pending session activates it at once, before its job runs",
    handlers={Submit: _activating_submit(PENDING, "first_job_started")},
)

mutant(
    "reactivation-skips-queue",
    "SES-REACTIVATE-VIA-QUEUE",
    "submitting to an inactive session reactivates it at once, before its job runs",
    handlers={Submit: _activating_submit(INACTIVE, "reactivating_job_started")},
)


# -- time -----------------------------------------------------------------------------------------

_original_open_session = step.open_session
_original_start_job = scheduler.start_job


def _open_with_clock(tx: Transaction, session_id: str, backend: str, max_time: Any) -> SessionRecord:
    session = _original_open_session(tx, session_id, backend, max_time)
    ttl = (
        tx.world.config.system_max_ttl if max_time is None else min(max_time, tx.world.config.system_max_ttl)
    )
    started = session._replace(started_at=tx.now, max_ttl=ttl)
    tx.world = tx.world.with_session(started)
    return started


def _start_keeping_clock(tx: Transaction, job: JobRecord) -> None:
    session = tx.world.session(job.session) if job.session else None
    _original_start_job(tx, job)
    if session is not None and session.started_at is not None:
        now = tx.world.session(session.id)
        assert now is not None
        tx.world = tx.world.with_session(now._replace(started_at=session.started_at, max_ttl=session.max_ttl))


mutant(
    "ttl-clock-at-creation",
    "SES-TTL-START",
    "the max-TTL clock starts when the session is created",
    patches={
        "sessionspec.model.step.open_session": _open_with_clock,
        "sessionspec.model.scheduler.start_job": _start_keeping_clock,
    },
)

mutant(
    "ttl-ignores-first-job",
    # With too long a max TTL the core also reactivates sessions past their real one.
    ("SES-TTL-VALUE", "SES-REACTIVATE-BEFORE-MAX"),
    "the max TTL is always the system limit",
    patches={"sessionspec.model.scheduler.max_ttl_for": lambda session, job, config: config.system_max_ttl},
)


def _expire_only_active(tx: Transaction) -> None:
    for session in tx.world.sessions:
        expires_at = session.expires_at
        if session.state == ACTIVE and expires_at is not None and expires_at <= tx.now:
            tx.fire_session(session, "max_timeout", idle_since=None)
            for job in tx.world.jobs_of(session.id):
                if job.state == QUEUED:
                    tx.fire_job(job, "session_expired")


mutant(
    "inactive-sessions-never-expire",
    "SES-EXPIRY",
    "the max timeout is only enforced on active sessions",
    patches={"sessionspec.model.timers.expire_sessions": _expire_only_active},
)

mutant(
    "inputs-before-deadlines",
    "JOB-TIME-LIMIT",
    "an input stamped with a deadline's instant is handled before that deadline fires",
    patches={"sessionspec.model.step.deadline_precedes_input": lambda due, t: due < t},
)


def _ittl_from_job_start(self: Transaction, job: JobRecord) -> None:
    session = self.world.session(job.session) if job.session else None
    if session is None or not session.live or self.world.unfinished_jobs_of(session.id):
        return
    if not session.accepting:
        self.fire_session(session, "drained")
    elif session.state == ACTIVE:
        self.put_session(session, session._replace(idle_since=job.started_at))


mutant(
    "ittl-from-job-start",
    "SES-ITTL-DEACTIVATE",
    "the interactive timeout is counted from the last job's start instead of its end",
    patches={"sessionspec.model.transaction.Transaction.after_job_ended": _ittl_from_job_start},
)

mutant(
    "no-system-job-cap",
    "JOB-TIME-LIMIT",
    "a job's own max_execution_time is not capped by the system limit",
    patches={
        "sessionspec.model.world.JobRecord.time_limit": lambda self, config: (
            config.job_time_cap if self.max_execution_time is None else self.max_execution_time
        )
    },
)

mutant(
    "pending-timeout-never-fires",
    "SES-PENDING-TIMEOUT",
    "the pending timeout is configured but never closes anything",
    patches={"sessionspec.model.timers.close_unused_sessions": lambda tx: None},
)


_original_next_deadline = timers.next_deadline


def _deadline_without_running_jobs(world: World) -> Any:
    return _original_next_deadline(world._replace(jobs=tuple(j for j in world.jobs if j.state != RUNNING)))


mutant(
    "jobs-without-time-limit",
    "EVT-JOBS-END",
    "running jobs have no time limit, so one the QPU never reports on runs forever",
    patches={
        "sessionspec.model.step.next_deadline": _deadline_without_running_jobs,
        "sessionspec.model.timers.enforce_time_limits": lambda tx: None,
    },
)

mutant(
    "sessions-without-max-ttl",
    "EVT-SESSIONS-SETTLE",
    "sessions have no maximum timeout, so a deactivated one lives forever",
    patches={"sessionspec.model.world.SessionRecord.expires_at": property(lambda self: None)},
)


# -- endings --------------------------------------------------------------------------------------


def _expiry(queued_event: str, stop_running: bool) -> Callable[[Transaction], None]:
    def expire(tx: Transaction) -> None:
        for session in tx.world.sessions:
            expires_at = session.expires_at
            if not session.live or expires_at is None or expires_at > tx.now:
                continue
            tx.fire_session(session, "max_timeout", idle_since=None)
            for job in tx.world.jobs_of(session.id):
                if job.state == QUEUED:
                    tx.fire_job(job, queued_event)
                elif job.state == RUNNING and stop_running:
                    tx.fire_job(job, "fail", "the session reached its maximum timeout")

    return expire


mutant(
    "expiry-cancels-queued",
    "SES-EXPIRE-FAILS-QUEUED",
    "at the max timeout queued jobs are canceled instead of failed",
    patches={"sessionspec.model.timers.expire_sessions": _expiry("session_canceled", stop_running=False)},
)

mutant(
    "expiry-fails-running",
    "SES-END-SPARES-RUNNING",
    "at the max timeout the running job is failed too",
    patches={"sessionspec.model.timers.expire_sessions": _expiry("session_expired", stop_running=True)},
)


def _cancel_session_only(tx: Transaction, inp: CancelSession) -> Rejected | None:
    session = tx.world.session(inp.session)
    if session is None or not session.live:
        return Rejected(inp.t, inp.op, "cannot cancel", session=inp.session)
    tx.fire_session(session, "cancel", idle_since=None)
    return None


mutant(
    "cancel-keeps-queued",
    "SES-CANCEL-QUEUED",
    "canceling a session leaves its queued jobs queued",
    handlers={CancelSession: _cancel_session_only},
)


def _close_keeps_accepting(tx: Transaction, inp: CloseSession) -> Rejected | None:
    session = tx.world.session(inp.session)
    if session is None or not session.live:
        return Rejected(inp.t, inp.op, "cannot close", session=inp.session)
    if not tx.world.unfinished_jobs_of(session.id):
        tx.fire_session(session, "close")
    return None


mutant(
    "close-keeps-accepting",
    "SES-CLOSE-REFUSES",
    "closing a session that still has work does not stop it accepting jobs",
    handlers={CloseSession: _close_keeps_accepting},
)


def _close_at_once(tx: Transaction, inp: CloseSession) -> Rejected | None:
    session = tx.world.session(inp.session)
    if session is None or not session.accepting:
        return Rejected(inp.t, inp.op, "cannot close", session=inp.session)
    tx.put_session(session, session._replace(state="closed", accepting=False, ended_at=tx.now))
    return None


mutant(
    "close-ends-at-once",
    "SES-CLOSE-DRAINS",
    "closing a session ends it at once even while its jobs are queued or running",
    handlers={CloseSession: _close_at_once},
)


def _close_drops_queue(tx: Transaction, inp: CloseSession) -> Rejected | None:
    refusal = _original_close(tx, inp)
    if refusal is None:
        for job in tx.world.jobs_of(inp.session):
            if job.state == QUEUED:
                tx.after_job_ended(tx.fire_job(job, "session_canceled"))
    return refusal


mutant(
    "close-cancels-queued",
    "SES-CLOSE-KEEPS-JOBS",
    "closing a session cancels its queued jobs (as a context-manager exit wrongly might)",
    handlers={CloseSession: _close_drops_queue},
)


def _finish_anything(tx: Transaction, inp: FinishJob) -> Rejected | None:
    job = tx.world.job(inp.job)
    if job is None or job.state == QUEUED:
        return Rejected(inp.t, inp.op, "cannot finish", job=inp.job)
    if job.state == RUNNING:
        tx.after_job_ended(tx.fire_job(job, "complete" if inp.outcome == "completed" else "fail"))
        return None
    if job.state != inp.outcome:
        tx.world = tx.world.with_job(job._replace(state=inp.outcome))
        tx.observations.append(JobChanged(tx.now, job.id, inp.outcome))
    return None


mutant(
    "ended-job-can-finish",
    "TERM-FINAL",
    "a finish report for a job that already ended overwrites its final state",
    handlers={FinishJob: _finish_anything},
)


# -- reporting ------------------------------------------------------------------------------------


def _finish_queued_too(tx: Transaction, inp: FinishJob) -> Rejected | None:
    job = tx.world.job(inp.job)
    if job is not None and job.state == QUEUED:
        tx.world = tx.world.with_job(job._replace(state=inp.outcome, ended_at=tx.now))
        tx.observations.append(JobChanged(tx.now, job.id, inp.outcome))
        return None
    return _original_finish(tx, inp)


mutant(
    "queued-job-can-finish",
    "DECL-EDGES",
    "a finish report for a queued job completes it without it ever running",
    handlers={FinishJob: _finish_queued_too},
)


def _silent_deactivation(tx: Transaction) -> None:
    ittl = tx.world.config.interactive_ttl
    for session in tx.world.sessions:
        if session.state == ACTIVE and session.idle_since is not None and session.idle_since + ittl <= tx.now:
            tx.world = tx.world.with_session(session._replace(state=INACTIVE, idle_since=None))


mutant(
    "deactivation-unreported",
    "OBS-MATCH",
    "the deactivation after the interactive timeout happens but is not reported",
    patches={"sessionspec.model.timers.deactivate_idle_sessions": _silent_deactivation},
)


def _cancel_unknown_silently(tx: Transaction, inp: CancelJob) -> Rejected | None:
    if tx.world.job(inp.job) is None:
        return None
    return _original_cancel_job(tx, inp)


mutant(
    "unknown-job-cancel-unanswered",
    "INP-ANSWERED",
    "a cancel of an unknown job is neither refused nor applied",
    handlers={CancelJob: _cancel_unknown_silently},
)


def _cancel_and_forget(tx: Transaction, inp: CancelJob) -> Rejected | None:
    refusal = _original_cancel_job(tx, inp)
    if refusal is None:
        tx.world = tx.world._replace(jobs=tuple(j for j in tx.world.jobs if j.id != inp.job))
    return refusal


mutant(
    "canceled-jobs-forgotten",
    "NOTHING-LOST",
    "a canceled job is dropped from the world",
    handlers={CancelJob: _cancel_and_forget},
)
