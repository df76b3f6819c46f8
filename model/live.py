"""The live world: the model's transitions on mutable, indexed records, for long traces.

:func:`sessionspec.model.step.transitions` works on an immutable world that holds every job and
session ever created, and scans them on every step: right for exploring, but a trace
of a million lines would cost a million scans. A :class:`LiveWorld` makes the same
transitions with the work proportional to what changes: records are looked up by id,
each backend keeps its queue, its running count and its active session, deadlines sit
in a heap, and a record is forgotten (*retired*) once it can change nothing any more
(a plain job that ended; a session that ended, with all its jobs). Its ids are
remembered, so a reused id is refused as the model refuses it (decision D19).

The semantics are the model's, not a copy of its table: every state change goes
through the compiled declarations (:data:`sessionspec.model.compiled.SESSION` and ``JOB``) with
the guards' facts, the max TTL comes from :func:`sessionspec.model.scheduler.max_ttl_value`, and
the order of work follows :mod:`sessionspec.model.step`, :mod:`sessionspec.model.scheduler` and
:mod:`sessionspec.model.timers` (deadlines in the order of decision D16, then the scheduler:
reservations, the active session, fair share). Tests compare it with the model on
generated traces.

A transition returns the *keys* of the observations it makes, ``(job, state)``,
``(session, state, accepting)`` or ``(op,)`` for a refusal, without their instant.
Where the rules leave the scheduler a choice, the caller says which jobs it wants
started (``started``); when the rules start a job that is not among them, the live
world raises :class:`UnreportedStart`, as only a policy could say which job that is.
A transition is kept with :meth:`LiveWorld.commit` or undone with
:meth:`LiveWorld.rollback`, after which :meth:`LiveWorld.world` gives the reference
world of the moment before it (without the retired records).
from sessionspec.model.config import Config
>>> from sessionspec.model.inputs import CreateSession, Submit
>>> live = LiveWorld(Config())
>>> live.apply(CreateSession(0, "s1", "qpu1"), frozenset())
[('s1', 'pending', True)]
>>> live.commit()
>>> sorted(live.apply(Submit(1, "j1", "qpu1", session="s1"), frozenset({"j1"})))
[('j1', 'queued'), ('j1', 'running'), ('s1', 'active', True)]
>>> live.commit()
>>> live.next_deadline()  # j1's time limit: the system cap of 10800 s
10801
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from sessionspec.model.clock import later
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config, Number
from sessionspec.model.guards import SessionFacts
from sessionspec.model.idset import IdSet
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
)
from sessionspec.model.live_deadlines import ITTL, MAX_TTL, PENDING_TIMEOUT, TIME_LIMIT, Deadlines
from sessionspec.model.live_records import Backend, LiveJob, LiveSession, first_queued
from sessionspec.model.live_usage import UsageLedger
from sessionspec.model.scheduler import max_ttl_value
from sessionspec.model.world import ACTIVE, INACTIVE, PENDING, QUEUED, RUNNING, World, time_limit

Key = tuple[Any, ...]
Retired = tuple[Any, ...]
"""A retired record: ``("job", fields)`` or ``("session", fields, [job fields, ...])``."""

_JOB_FINALS = JOB.finals
_SESSION_FINALS = SESSION.finals
_WAITING = (PENDING, INACTIVE)  # sessions whose jobs go through the fair-share queue
_UNKNOWN = object()
_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__


class UnreportedStart(Exception):
    """The rules start a job on ``backend`` that the caller did not list as started."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        super().__init__(f"a job starts on {backend} that the caller did not list")


class LiveWorld:
    """Mutable counterpart of :class:`~sessionspec.model.world.World`, with the transitions of ``step``."""

    def __init__(self, config: Config, retire: Callable[[Retired], None] | None = None) -> None:
        self.config = config
        self.now: Number = 0
        self.jobs: dict[str, LiveJob] = {}  # every job not retired
        self.sessions: dict[str, LiveSession] = {}  # every session not retired
        self.job_ids = IdSet()  # every job id ever accepted, retired or not
        self.session_ids = IdSet()
        self.backends: dict[str, Backend] = {}
        self.deadlines = Deadlines(config.interactive_ttl)
        self.usage = UsageLedger()
        self.keys: list[Key] = []
        self._retire = retire
        # The next deadline, as last found: it holds until a transition changes a record
        # (a deadline later than the clock cannot have passed without a transition).
        self._next_due: object = _UNKNOWN
        self._reservations = config.reservations
        self._seq = 0
        self._dirty: set[str] = set()  # backends whose queue, jobs or sessions changed
        # The undo log of the current transition: records with their saved fields.
        self._mark = 0
        self._saved: list[tuple[Any, tuple[Any, ...]]] = []
        self._created: list[LiveJob | LiveSession] = []
        self._ended: list[LiveJob | LiveSession] = []
        self._now_before: Number = 0
        self._first_seq = 0
        for name in config.backends:
            self._backend(name)
        self._handlers: dict[type, Callable[[Any], bool]] = {
            CreateSession: self._create_session,
            Submit: self._submit,
            CloseSession: self._close_session,
            CancelSession: self._cancel_session,
            CancelJob: self._cancel_job,
            FinishJob: self._finish_job,
            Advance: self._advance,
        }

    # --- transitions -----------------------------------------------------------------

    def next_deadline(self) -> Number | None:
        """The earliest instant after now at which something is due (as ``timers.next_deadline``)."""
        now = self.now
        known = self._next_due
        if known is not _UNKNOWN and (known is None or known > now):  # type: ignore[operator]
            return known  # type: ignore[return-value]
        best = self.deadlines.next_after(now)
        for r in self._reservations:  # last and strictly earlier only, as the model meets them
            if r.start > now and (best is None or r.start < best):
                best = r.start
        self._next_due = best
        return best

    def tick(self, t: Number, started: Collection[str]) -> list[Key]:
        """Everything time makes happen at ``t`` (:func:`sessionspec.model.step.fire_instant`)."""
        self._begin()
        self._set_now(t)
        self.now = t  # even when equal: the model takes the instant as given (10.0 after 10)
        for kind, record in self.deadlines.pop_due(t):
            if kind == MAX_TTL:
                self._expire(record)
            elif kind == TIME_LIMIT:
                self._enforce_limit(record)
            elif kind == ITTL:
                self._deactivate(record)
            else:
                self._close_unused(record)
        if self._dirty:
            self._settle(started)
        return self.keys

    def apply(self, inp: Input, started: Collection[str]) -> list[Key]:
        """One input at its own instant, deadlines already fired (as ``step.transitions`` ends)."""
        self._mark += 1
        self.keys = keys = []
        if inp.t != self.now:
            self._set_now(inp.t)
        if self._handlers[type(inp)](inp):
            keys.append((inp.op,))  # refused: nothing changed
        elif self._dirty:
            self._settle(started)
        return keys

    def commit(self) -> None:
        """Keep the last transition, and retire the records it left with nothing to do."""
        if self._ended:
            for record in self._ended:
                if isinstance(record, LiveJob):
                    if self.jobs.get(record.id) is not record:
                        continue  # retired already, with its session
                    session = record.session
                    if session is None:
                        self._retire_job(record)
                    elif session.state in _SESSION_FINALS and not session.unfinished:
                        self._retire_session(session)
                elif not record.unfinished:
                    self._retire_session(record)
            self._ended.clear()
        # Nothing is left to undo: a rollback now changes nothing.
        if self._saved:
            self._saved.clear()
            self._next_due = _UNKNOWN  # a timer may have started or stopped
        if self._created:
            self._created.clear()
            self._next_due = _UNKNOWN
        self._now_before = self.now
        self._first_seq = self._seq

    def rollback(self) -> None:
        """Undo the changes of the transition not committed, if any (the indexes are left
        behind: after a rollback, only :meth:`world` may be used)."""
        for record, saved in reversed(self._saved):
            record.restore(saved)
        for created in self._created:
            if isinstance(created, LiveJob):
                self.jobs.pop(created.id, None)
            else:
                self.sessions.pop(created.id, None)
        self.now = self._now_before
        self._seq = self._first_seq  # records numbered from here on never existed
        self._ended.clear()
        self._saved.clear()
        self._created.clear()

    def world(self) -> World:
        """The reference world of the records held, in creation order (retired ones left out)."""
        sessions = sorted(self.sessions.values(), key=_by_seq)
        jobs = sorted(self.jobs.values(), key=_by_seq)
        return World(
            self.config, self.now, tuple(s.record() for s in sessions), tuple(j.record() for j in jobs)
        )

    @property
    def first_new_seq(self) -> int:
        """The sequence number the next record created will get (after a rollback: the
        first one the undone transition created)."""
        return self._seq

    # --- the bookkeeping of one transition --------------------------------------------

    def _begin(self) -> None:
        self._mark += 1
        self.keys = []

    def _save(self, record: LiveJob | LiveSession) -> None:
        if record.mark != self._mark:
            record.mark = self._mark
            self._saved.append((record, record.saved()))

    def _set_now(self, t: Number) -> None:
        now = self.now
        if t == now:
            return
        for r in self.config.reservations:  # a window opening or closing may change who starts
            # (on a backend no record has named yet nothing waits, so nothing can change)
            if r.is_open(now) != r.is_open(t) and r.backend in self.backends:
                self._dirty.add(r.backend)
        self.now = t

    def _backend(self, name: str) -> Backend:
        backend = self.backends.get(name)
        if backend is None:
            reservations = tuple(r for r in self.config.reservations if r.backend == name)
            backend = Backend(name, self.config.is_simulator(name), reservations)
            self.backends[name] = backend
        return backend

    def _retire_job(self, job: LiveJob) -> None:
        del self.jobs[job.id]
        if self._retire is not None:
            self._retire(("job", job.fields()))

    def _retire_session(self, session: LiveSession) -> None:
        if self.sessions.get(session.id) is not session:
            return  # retired already, with an earlier record of this transition
        del self.sessions[session.id]
        for job in session.jobs:
            del self.jobs[job.id]
        if self._retire is not None:
            self._retire(("session", session.fields(), [job.fields() for job in session.jobs]))
        # Break the session <-> job cycles, so the records are freed as soon as nothing
        # refers to them, not at the next full garbage collection.
        for job in session.jobs:
            job.session = None
        session.jobs = []
        session.queued.clear()

    # --- firing declared edges (sessionspec.model.transaction) ---------------------------------------

    def _fire_job(self, job: LiveJob, event: str) -> None:
        target = JOB.fire(job.state, event, None)
        if job.mark != self._mark:  # self._save(job), inline: this runs for every change of a job
            job.mark = self._mark
            self._saved.append((job, (job.state, job.started_at, job.ended_at, job.ended_by)))
        backend = self.backends[job.backend]
        if job.state == RUNNING:
            backend.running -= 1
        job.state = target
        if target == RUNNING:
            job.started_at = self.now
            backend.running += 1
            self.deadlines.push(later(self.now, job.limit), TIME_LIMIT, job)
        elif target in _JOB_FINALS:
            job.ended_at = self.now
            job.ended_by = event
            session = job.session
            if session is not None:
                self._save(session)
                session.unfinished -= 1
            self._ended.append(job)
        self._dirty.add(job.backend)
        self.keys.append((job.id, target))

    def _fire_session(
        self, session: LiveSession, event: str, *, clear_idle: bool, stop_accepting: bool = False
    ) -> None:
        started_at, max_ttl = session.started_at, session.max_ttl
        before_max_ttl = started_at is None or max_ttl is None or self.now < later(started_at, max_ttl)
        # SessionFacts(unfinished_jobs, accepting, before_max_ttl, ever_got_job), built directly
        facts = _new(SessionFacts, (session.unfinished, session.accepting, before_max_ttl, session.got_job))
        target = SESSION.fire(session.state, event, facts)
        self._save(session)
        before = (session.state, session.accepting)
        if clear_idle:
            session.idle_since = None
        if stop_accepting:
            session.accepting = False
        if target in _SESSION_FINALS:
            session.accepting = False
            session.ended_at = self.now
            self._ended.append(session)
        if target != session.state:
            backend = self.backends[session.backend]
            if session.state == ACTIVE and backend.active is session:
                backend.active = None
            if target == ACTIVE:
                backend.active = session
            session.state = target
        if before != (target, session.accepting):
            self.keys.append((session.id, target, session.accepting))
        self._dirty.add(session.backend)

    def _after_job_ended(self, job: LiveJob) -> None:
        """A job of a session ended: start the ITTL window, or finish draining."""
        session = job.session
        if session is None or session.state in _SESSION_FINALS or session.unfinished:
            return
        if not session.accepting:
            self._fire_session(session, "drained", clear_idle=False)
        elif session.state == ACTIVE:
            self._save(session)
            session.idle_since = self.now
            self.deadlines.push(later(self.now, self.config.interactive_ttl), ITTL, session)

    def _open_session(self, session_id: str, backend: str, max_time: Number | None) -> LiveSession:
        self._backend(backend)
        session = LiveSession(self._seq, session_id, backend, max_time, self.now)
        self._seq += 1
        self._created.append(session)
        self.session_ids.add(session_id)
        self.sessions[session_id] = session
        self.keys.append((session_id, PENDING, True))
        timeout = self.config.pending_timeout
        if timeout is not None:
            self.deadlines.push(later(self.now, timeout), PENDING_TIMEOUT, session)
        self._dirty.add(backend)
        return session

    # --- inputs (sessionspec.model.step's handlers); each returns True when it refuses --------------

    def _create_session(self, inp: CreateSession) -> bool:
        if inp.session in self.session_ids or self.config.is_simulator(inp.backend):
            return True
        self._open_session(inp.session, inp.backend, inp.max_time)
        return False

    def _submit(self, inp: Submit) -> bool:
        if not self.job_ids.add(inp.job):  # (taken back below if the job is refused after all)
            return True
        backend = self.backends.get(inp.backend) or self._backend(inp.backend)
        session: LiveSession | None = None
        if backend.simulator and inp.start_session:
            pass  # no session on a simulator: the job runs as a plain job (decision D11)
        elif inp.start_session:
            assert inp.session is not None, "validated inputs name the session to start"
            if inp.session in self.session_ids:
                self.job_ids.discard(inp.job)
                return True
            session = self._open_session(inp.session, inp.backend, None)
        elif inp.session is not None:
            session = self.sessions.get(inp.session)
            if session is None or not session.accepting or session.backend != inp.backend:
                self.job_ids.discard(inp.job)
                return True
        limit = time_limit(inp.max_execution_time, self.config)
        job = LiveJob(
            self._seq, inp.job, inp.backend, session, inp.instance, inp.max_execution_time, self.now, limit
        )
        self._seq += 1
        self._created.append(job)
        self.jobs[inp.job] = job
        self.keys.append((inp.job, QUEUED))
        backend.queue.append(job)
        if backend.reservations and session is None:
            backend.plain_by_instance.setdefault(inp.instance, deque()).append(job)
        self.usage.add(job)
        self._dirty.add(inp.backend)
        if session is not None:
            self._save(session)
            session.jobs.append(job)
            session.queued.append(job)
            session.unfinished += 1
            # A job entering the session stops its interactive-timeout countdown (D02).
            session.got_job = True
            session.idle_since = None
        return False

    def _close_session(self, inp: CloseSession) -> bool:
        session = self.sessions.get(inp.session)
        if session is None or not session.accepting:
            return True
        self._fire_session(session, "close", clear_idle=True, stop_accepting=True)
        return False

    def _cancel_session(self, inp: CancelSession) -> bool:
        session = self.sessions.get(inp.session)
        if session is None or session.state in _SESSION_FINALS:
            return True
        self._fire_session(session, "cancel", clear_idle=True)
        for job in list(session.queued):
            if job.state == QUEUED:
                self._fire_job(job, "session_canceled")
        return False

    def _cancel_job(self, inp: CancelJob) -> bool:
        job = self.jobs.get(inp.job)
        if job is None or (job.state != QUEUED and job.state != RUNNING):
            return True
        self._fire_job(job, "cancel")
        self._after_job_ended(job)
        return False

    def _finish_job(self, inp: FinishJob) -> bool:
        job = self.jobs.get(inp.job)
        if job is None or job.state != RUNNING:
            return True
        self._fire_job(job, "complete" if inp.outcome == "completed" else "fail")
        self._after_job_ended(job)
        return False

    def _advance(self, inp: Advance) -> bool:
        return False

    # --- deadlines (sessionspec.model.timers), each checked again as the model checks it ------------

    def _expire(self, session: LiveSession) -> None:
        expires_at = session.expires_at
        if session.state in _SESSION_FINALS or expires_at is None or expires_at > self.now:
            return
        self._fire_session(session, "max_timeout", clear_idle=True)
        for job in list(session.queued):
            if job.state == QUEUED:
                self._fire_job(job, "session_expired")

    def _enforce_limit(self, job: LiveJob) -> None:
        if (
            job.state == RUNNING
            and job.started_at is not None
            and later(job.started_at, job.limit) <= self.now
        ):
            self._fire_job(job, "exceed_time_limit")
            self._after_job_ended(job)

    def _deactivate(self, session: LiveSession) -> None:
        idle_since = session.idle_since
        if (
            session.state == ACTIVE
            and idle_since is not None
            and later(idle_since, self.config.interactive_ttl) <= self.now
        ):
            self._fire_session(session, "interactive_timeout", clear_idle=True)

    def _close_unused(self, session: LiveSession) -> None:
        timeout = self.config.pending_timeout
        if (
            timeout is not None
            and session.state == PENDING
            and not session.got_job
            and later(session.created_at, timeout) <= self.now
        ):
            self._fire_session(session, "pending_timeout", clear_idle=False)

    # --- the scheduler (sessionspec.model.scheduler) --------------------------------------------------

    def _settle(self, started: Collection[str]) -> None:
        """Start what the rules require on every backend that changed (the others are settled)."""
        dirty = list(self._dirty)
        for name in dirty:
            backend = self.backends[name]
            if backend.simulator:  # no queue on a simulator: every job starts at once (D11)
                for job in backend.queue:
                    if job.state == QUEUED:
                        self._start(job)
                backend.queue.clear()
            elif not backend.running:
                pick = self._choose(backend, started)
                if pick is not None:
                    self._start(pick)
        self._dirty.clear()  # starting made backends busy; nothing more can start there

    def _choose(self, backend: Backend, started: Collection[str]) -> LiveJob | None:
        """What the rules and ``started`` start on an idle backend (see ``model.scheduler``)."""
        now = self.now
        if backend.reservations:
            instances = {r.instance for r in backend.reservations if r.is_open(now)}
            if instances and any(
                first_queued(backend.plain_by_instance.get(instance, ())) for instance in instances
            ):
                return self._reported(
                    backend,
                    started,
                    lambda job: job.session is None and job.instance in instances,
                )
        active = backend.active
        if active is not None:
            return active.first_queued()  # or nothing: the backend is held for the session (D01)
        if backend.first_queued() is None or not any(
            job.state == QUEUED and _in_fair_share(job) for job in backend.queue
        ):
            return None  # (the first queued job is a candidate: the search stops at once)
        return self._reported(backend, started, _in_fair_share)

    def _reported(
        self, backend: Backend, started: Collection[str], candidate: Callable[[LiveJob], bool]
    ) -> LiveJob:
        """Of the waiting candidates (at least one exists), the oldest the caller listed."""
        pick: LiveJob | None = None
        for job_id in started:
            job = self.jobs.get(job_id)
            if (
                job is not None
                and job.state == QUEUED
                and job.backend == backend.name
                and candidate(job)
                and (pick is None or job.seq < pick.seq)
            ):
                pick = job
        if pick is None:
            raise UnreportedStart(backend.name)
        return pick

    def _start(self, job: LiveJob) -> None:
        """Start a queued job; its session becomes (or stays) active (as ``scheduler.start_job``)."""
        self._fire_job(job, "start")
        session = job.session
        if session is None:
            return
        if session.state == PENDING:
            max_ttl = max_ttl_value(self.config, session.max_time, job.max_execution_time)
            self._fire_session(session, "first_job_started", clear_idle=True)
            session.started_at = self.now
            session.max_ttl = max_ttl
            self.deadlines.push(later(self.now, max_ttl), MAX_TTL, session)
        elif session.state == INACTIVE:
            self._fire_session(session, "reactivating_job_started", clear_idle=True)
        elif session.state == ACTIVE and session.idle_since is not None:
            self._save(session)
            session.idle_since = None


def _by_seq(record: LiveJob | LiveSession) -> int:
    return record.seq


def _in_fair_share(job: LiveJob) -> bool:
    """A plain job, or the oldest queued job of a pending or inactive session (D17)."""
    session = job.session
    return session is None or (session.state in _WAITING and session.first_queued() is job)
