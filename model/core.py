"""The core: the one implementation of the rules, which every engine runs.

A :class:`Core` holds one world as mutable, indexed records (:mod:`sessionspec.model.records`)
and makes its transitions: an input applied at its instant (:meth:`Core.apply`), or the
deadlines due at one instant fired (:meth:`Core.tick`), each followed by the scheduler.
Every state change goes through the tables compiled from the declared machines
(:mod:`sessionspec.model.compiled`) with the guards' facts; where a reading of the rules
could differ, the core asks the world's :class:`~sessionspec.model.variant.Variant`.

Its work is proportional to what changes: records are looked up by id, each backend keeps
its queue, its running count and its active session, deadlines sit in a heap. Two ways
to use it:

* **pure** (:mod:`sessionspec.model.step`): :meth:`Core.thaw` an immutable world, make one
  transition, :meth:`Core.freeze` the result. Unchanged records stay the very same
  objects, so worlds share them.
* **long-running** (the trace oracle): one core for a whole trace, which forgets
  (*retires*) a record once it can change nothing any more (a plain job that ended; a
  session that ended, with all its jobs) and remembers its id, so a reused id is refused
  all the same (decision D19). A transition is kept with :meth:`Core.commit` or undone
  with :meth:`Core.rollback`.

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.inputs import CreateSession, Submit
>>> core = Core(Config())
>>> [o.state for o in core.apply(CreateSession(0, "s1", "qpu1"))]
['pending']
>>> [(o.event, o.state) for o in core.apply(Submit(1, "j1", "qpu1", session="s1"))]
[('job', 'queued'), ('job', 'running'), ('session', 'active')]
>>> core.next_deadline()  # j1's time limit: the system cap of 10800 s
10801
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, overload

from sessionspec.model.clock import elapsed, later
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config, Number
from sessionspec.model.deadlines import ITTL, MAX_TTL, PENDING_TIMEOUT, TIME_LIMIT, Deadlines
from sessionspec.model.errors import PolicyError
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
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY, Choice, Policy
from sessionspec.model.records import Backend, Job, SessionState
from sessionspec.model.usage import UsageLedger
from sessionspec.model.world import World

PENDING, ACTIVE, INACTIVE = "pending", "active", "inactive"
QUEUED, RUNNING = "queued", "running"
RESERVATION, SESSION_PRIORITY, FAIR_SHARE = "reservation", "session", "fair-share"
SIMULATOR_NOTE = "no session on a simulator: the job runs as a plain job"

Retired = tuple[Any, ...]
"""A retired record: ``("job", fields)`` or ``("session", fields, [job fields, ...])``."""

_JOB_FINALS = JOB.finals
_SESSION_FINALS = SESSION.finals
_WAITING = (PENDING, INACTIVE)  # sessions whose jobs go through the fair-share queue
_UNKNOWN = object()
_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__


def time_limit(max_execution_time: Number | None, config: Config) -> Number:
    """How long a job may run: its own limit, capped by the system (decision D13)."""
    if max_execution_time is None:
        return config.job_time_cap
    if not config.variant.cap_job_time:
        return max_execution_time
    return min(max_execution_time, config.job_time_cap)


def max_ttl_value(config: Config, max_time: Number | None, first_job_limit: Number | None) -> Number:
    """min(system limit, the session's own max_time, else its first job's limit) (decision D07)."""
    rule = config.variant.max_ttl_value
    if rule == "system":
        return config.system_max_ttl
    if rule == "no-own-max-time":
        max_time = None
    elif rule == "uncapped" and max_time is not None:
        return max_time
    own = max_time if max_time is not None else first_job_limit
    return config.system_max_ttl if own is None else min(config.system_max_ttl, own)


class Core:
    """One world, changed in place by the transitions of the rules.

    ``retire`` receives each record the core forgets; without it the core keeps every
    record, as an immutable :class:`~sessionspec.model.world.World` does.
    """

    def __init__(self, config: Config, retire: Callable[[Retired], None] | None = None) -> None:
        self.config = config
        self.variant = variant = config.variant
        self.now: Number = 0
        self.jobs: dict[str, Job] = {}  # every job not retired, in creation order
        self.sessions: dict[str, SessionState] = {}  # every session not retired, in creation order
        self._retire = retire
        # Ids of retired records too, when records are retired (else the dicts know them all).
        self.job_ids: IdSet | None = IdSet() if retire is not None else None
        self.session_ids: IdSet | None = IdSet() if retire is not None else None
        self.backends: dict[str, Backend] = {}
        self.deadlines = Deadlines(config.interactive_ttl, variant.pending_timeout_spares_used)
        self.usage = UsageLedger()
        self.policy: Policy = REFERENCE_POLICY
        self.observations: list[Observation] = []
        self.refused = False  # the last input was refused (and changed nothing)
        # (machine, source, event, target) of every declared edge taken, for coverage
        self.fired: list[tuple[str, str, str, str]] = []
        self.records_edges = True
        self._activates_on_submit = variant.submit_activates_pending or variant.submit_reactivates_inactive
        # The next deadline, as last found: it holds until a transition changes a record
        # (a deadline later than the clock cannot have passed without a transition).
        self._next_due: object = _UNKNOWN
        self._windows = config.reservations if variant.reservation_opening_is_deadline else ()
        self._job_seq = 0
        self._session_seq = 0
        self._dirty: set[str] = set()  # backends whose queue, jobs or sessions changed
        # the policy's current choice: its candidates, their backend, each instance's usage
        self._offered: Sequence[Job] = ()
        self._offered_on = ""
        self._totals: dict[str, Number] | None = None
        # The undo log of the current transition: records with their saved fields.
        self._mark = 0
        self._saved: list[tuple[Job | SessionState, tuple[Any, ...]]] = []
        self._created: list[Job | SessionState] = []
        self._ended: list[Job | SessionState] = []
        self._forgotten: list[Job] = []
        self._now_before: Number = 0
        self._seqs_before = (0, 0)
        for name in config.backends:
            self._backend(name)

    # --- from and to immutable worlds -------------------------------------------------------

    @classmethod
    def thaw(cls, world: World) -> Core:
        """A core holding ``world``'s records (kept, never retired), with their timers running."""
        core = cls(world.config)
        core.now = now = world.now
        backends = core.backends
        for record in world.sessions:
            session = SessionState(
                core._session_seq, record.id, record.backend, record.max_time, record.created_at
            )
            core._session_seq += 1
            (
                _,
                _,
                _,
                session.state,
                session.accepting,
                _,
                session.started_at,
                session.max_ttl,
                session.idle_since,
                session.got_job,
                session.ended_at,
            ) = record
            session.frozen_as = record
            core.sessions[record.id] = session
            backend = backends.get(record.backend) or core._backend(record.backend)
            state = session.state
            if state == ACTIVE:
                backend.active = session
            if state in (ACTIVE, INACTIVE):
                core._push_max_ttl(session)
                if state == ACTIVE:
                    core._push_ittl(session)
            elif state == PENDING:
                core._push_pending_timeout(session)
        for job_record in world.jobs:
            owner = None if job_record.session is None else core.sessions.get(job_record.session)
            job = Job(
                core._job_seq,
                job_record.id,
                job_record.backend,
                owner,
                job_record.instance,
                job_record.max_execution_time,
                job_record.submitted_at,
                time_limit(job_record.max_execution_time, core.config),
            )
            core._job_seq += 1
            job.session = job_record.session  # (even for a session the world does not hold)
            job.state, job.started_at = job_record.state, job_record.started_at
            job.ended_at, job.ended_by = job_record.ended_at, job_record.ended_by
            if job.state == RUNNING and core.variant.time_limit_from_submission:
                core._limit_from_submission(job)
            job.frozen_as = job_record
            core.jobs[job_record.id] = job
            backend = backends.get(job_record.backend) or core._backend(job_record.backend)
            core.usage.add(job)
            if owner is not None:
                owner.jobs.append(job)
            if job.state == QUEUED:
                backend.queue.append(job)
                if owner is not None:
                    owner.queued.append(job)
                    owner.unfinished += 1
                core._dirty.add(job_record.backend)
            elif job.state == RUNNING:
                backend.running += 1
                if owner is not None:
                    owner.unfinished += 1
                core._push_time_limit(job)
        core._now_before = now
        core._seqs_before = (core._job_seq, core._session_seq)
        return core

    def freeze(self) -> World:
        """The immutable world of the records held, in creation order."""
        return World(
            self.config,
            self.now,
            tuple([s.frozen() for s in self.sessions.values()]),
            tuple([j.frozen() for j in self.jobs.values()]),
        )

    @property
    def changed(self) -> bool:
        """Did the current transition change any record?"""
        return bool(self._saved or self._created or self._forgotten)

    # --- transitions -------------------------------------------------------------------------

    def next_deadline(self) -> Number | None:
        """The earliest instant after now at which something is due."""
        now = self.now
        known = self._next_due
        if known is not _UNKNOWN and (known is None or known > now):  # type: ignore[operator]
            return known  # type: ignore[return-value]
        best = self.deadlines.next_after(now)
        for r in self._windows:  # a reservation window opening: a waiting job may now start
            if r.start > now and (best is None or r.start < best):
                best = r.start
        self._next_due = best
        return best

    def tick(self, t: Number, policy: Policy = REFERENCE_POLICY) -> list[Observation]:
        """Everything time makes happen at ``t``: due deadlines (in the order of decision D16),
        then the scheduler."""
        self._begin(policy)
        self._set_now(t)
        self.now = t  # even when equal: the instant is taken as given (10.0 after 10)
        for kind, record in self.deadlines.pop_due(t):
            if kind == MAX_TTL:
                self._expire(record)
            elif kind == TIME_LIMIT:
                self._enforce_limit(record)
            elif kind == ITTL:
                self._deactivate(record)
            else:
                self._close_unused(record)
        if self._dirty and self.variant.schedule_after_deadlines:
            self._settle()
        return self.observations

    def apply(self, inp: Input, policy: Policy = REFERENCE_POLICY) -> list[Observation]:
        """One input at its own instant (the deadlines before it already fired)."""
        self._begin(policy)
        if inp.t != self.now:
            self._set_now(inp.t)
        refusal = _HANDLERS[type(inp)](self, inp)
        if refusal is not None:
            self.refused = True
            self.observations.append(refusal)  # refused: nothing changed
        elif self._dirty and (type(inp) is not Advance or self.variant.settle_after_advance):
            self._settle()
        return self.observations

    def commit(self) -> None:
        """Keep the last transition; retire the records it left with nothing to do."""
        if self._ended:
            if self._retire is not None:
                self._retire_ended()
            self._ended.clear()
        # Nothing is left to undo: a rollback now changes nothing.
        if self._saved or self._created or self._forgotten:
            self._saved.clear()
            self._created.clear()
            self._forgotten.clear()
            self._next_due = _UNKNOWN  # a timer may have started or stopped
        self._now_before = self.now
        self._seqs_before = (self._job_seq, self._session_seq)

    def rollback(self) -> None:
        """Undo the transition not committed, if any. The indexes are left behind: after a
        rollback, only :meth:`freeze` and the record dicts may be used."""
        undo = self._saved
        for i in range(len(undo) - 1, -1, -1):  # (newest first; an index loop compiles with mypyc)
            record, saved = undo[i]
            record.restore(saved)
        for created in self._created:
            if isinstance(created, Job):
                self.jobs.pop(created.id, None)
            else:
                self.sessions.pop(created.id, None)
        for job in self._forgotten:
            self.jobs[job.id] = job
        self.now = self._now_before
        self._job_seq, self._session_seq = self._seqs_before
        self._ended.clear()
        self._saved.clear()
        self._created.clear()
        self._forgotten.clear()

    @property
    def first_new_seq(self) -> int:
        """The number the next job created gets (after a rollback: the first one the undone
        transition created)."""
        return self._job_seq

    # --- the bookkeeping of one transition -------------------------------------------------

    def _begin(self, policy: Policy) -> None:
        self._mark += 1
        self.policy = policy
        self._totals = None
        self.refused = False
        self.observations = []
        self.fired = []

    def _save(self, record: Job | SessionState) -> None:
        """Log the record's fields for :meth:`rollback` (once per transition)."""
        if record.mark != self._mark:
            record.mark = self._mark
            self._saved.append((record, record.saved()))

    def _touch(self, record: Job | SessionState) -> None:
        """The record is about to change a field its frozen form shows: a new frozen record."""
        if record.mark != self._mark:
            record.mark = self._mark
            self._saved.append((record, record.saved()))
        record.frozen_as = None

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

    def _session_id_known(self, session_id: str) -> bool:
        ids = self.session_ids
        return session_id in self.sessions if ids is None else session_id in ids

    def _claim_session_id(self, session_id: str) -> bool:
        """Take a session id for a new session; False if it was ever used."""
        ids = self.session_ids
        return session_id not in self.sessions if ids is None else ids.add(session_id)

    def _retire_ended(self) -> None:
        for record in self._ended:
            if isinstance(record, Job):
                if self.jobs.get(record.id) is not record:
                    continue  # retired already, with its session
                session = record.owner
                if session is None:
                    self._retire_job(record)
                elif session.state in _SESSION_FINALS and not session.unfinished:
                    self._retire_session(session)
            elif not record.unfinished:
                self._retire_session(record)

    def _retire_job(self, job: Job) -> None:
        del self.jobs[job.id]
        if self._retire is not None:
            self._retire(("job", (job.seq, *job.fields())))

    def _retire_session(self, session: SessionState) -> None:
        if self.sessions.get(session.id) is not session:
            return  # retired already, with an earlier record of this transition
        del self.sessions[session.id]
        for job in session.jobs:
            self.jobs.pop(job.id, None)
        if self._retire is not None:
            jobs = [(job.seq, *job.fields()) for job in session.jobs]
            self._retire(("session", (session.seq, *session.fields()), jobs))
        # Break the session <-> job cycles, so the records are freed as soon as nothing
        # refers to them, not at the next full garbage collection.
        for job in session.jobs:
            job.owner = None
        session.jobs = []
        session.queued.clear()

    def _push_time_limit(self, job: Job) -> None:
        if self.variant.job_time_limits and job.started_at is not None:
            self.deadlines.push(later(job.started_at, job.limit), TIME_LIMIT, job)

    def _push_max_ttl(self, session: SessionState) -> None:
        expires_at = session.expires_at
        if expires_at is not None and self.variant.max_ttl:
            self.deadlines.push(expires_at, MAX_TTL, session)

    def _push_ittl(self, session: SessionState) -> None:
        idle_since = session.idle_since
        if idle_since is not None:
            self.deadlines.push(later(idle_since, self.config.interactive_ttl), ITTL, session)

    def _push_pending_timeout(self, session: SessionState) -> None:
        timeout = self.config.pending_timeout
        if timeout is not None:
            self.deadlines.push(later(session.created_at, timeout), PENDING_TIMEOUT, session)

    # --- firing declared edges ---------------------------------------------------------------

    def _fire_job(self, job: Job, event: str, reason: str | None = None) -> None:
        """Move a job along a declared edge and report the state it entered."""
        target = JOB.fire(job.state, event, None)
        if self.records_edges:
            self.fired.append(("Job", job.state, event, target))
        self._set_job_state(job, target, event, reason)

    def _set_job_state(self, job: Job, target: str, event: str | None, reason: str | None) -> None:
        self._touch(job)
        backend = self.backends[job.backend]
        if job.state == RUNNING:
            backend.running -= 1
        job.state = target
        if target == RUNNING:
            job.started_at = self.now
            backend.running += 1
        elif target in _JOB_FINALS:
            job.ended_at = self.now
            job.ended_by = event
            session = job.owner
            if session is not None:
                self._save(session)
                session.unfinished -= 1
            self._ended.append(job)
        self._dirty.add(job.backend)
        self.observations.append(_new(JobChanged, (self.now, job.id, target, reason)))

    def _fire_session(
        self, session: SessionState, event: str, *, clear_idle: bool, stop_accepting: bool = False
    ) -> None:
        """Move a session along a declared edge; report it if its state or flag changed."""
        expires_at = session.expires_at if self.variant.max_ttl else None
        before_max_ttl = expires_at is None or self.now < expires_at
        # SessionFacts(unfinished_jobs, accepting, before_max_ttl, ever_got_job), built directly
        facts = _new(SessionFacts, (session.unfinished, session.accepting, before_max_ttl, session.got_job))
        target = SESSION.fire(session.state, event, facts)
        if self.records_edges:
            self.fired.append(("Session", session.state, event, target))
        if clear_idle:
            self._touch(session)
            session.idle_since = None
        self._set_session_state(session, target, stop_accepting=stop_accepting)

    def _set_session_state(
        self, session: SessionState, target: str, *, stop_accepting: bool = False, report: bool = True
    ) -> None:
        self._touch(session)
        before = (session.state, session.accepting)
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
        if report and before != (target, session.accepting):
            self.observations.append(_new(SessionChanged, (self.now, session.id, target, session.accepting)))
        self._dirty.add(session.backend)

    def _after_job_ended(self, job: Job) -> None:
        """A job of a session ended: start the interactive-timeout window, or finish draining."""
        session = job.owner
        if session is None or session.state in _SESSION_FINALS or session.unfinished:
            return
        if not session.accepting:
            if self.variant.drain:
                self._fire_session(session, "drained", clear_idle=False)
        elif session.state == ACTIVE:
            self._touch(session)
            session.idle_since = job.started_at if self.variant.ittl_from_last_start else self.now
            self._push_ittl(session)

    def _open_session(self, session_id: str, backend: str, max_time: Number | None) -> SessionState:
        self._backend(backend)
        session = SessionState(self._session_seq, session_id, backend, max_time, self.now)
        self._session_seq += 1
        self._created.append(session)
        self.sessions[session_id] = session
        if self.variant.ttl_clock == "creation":
            system = self.config.system_max_ttl
            session.started_at = self.now
            session.max_ttl = system if max_time is None else min(max_time, system)
        self.observations.append(_new(SessionChanged, (self.now, session_id, PENDING, True)))
        self._push_pending_timeout(session)
        self._dirty.add(backend)
        return session

    # --- inputs: each handler returns the refusal, or None ----------------------------------

    def _create_session(self, inp: CreateSession) -> Rejected | None:
        if self.config.is_simulator(inp.backend) and self.variant.refuse_sessions_on_simulators:
            if not self._session_id_known(inp.session):
                return _refuse(
                    inp, "sessions do not apply to simulators; submit plain jobs", session=inp.session
                )
            return _refuse(inp, "this session id is already in use", session=inp.session)
        if not self._claim_session_id(inp.session):
            return _refuse(inp, "this session id is already in use", session=inp.session)
        self._open_session(inp.session, inp.backend, inp.max_time)
        return None

    def _submit(self, inp: Submit) -> Rejected | None:
        ids = self.job_ids
        if inp.job in self.jobs if ids is None else not ids.add(inp.job):
            return _refuse(inp, "this job id is already in use", job=inp.job)
        backend = self.backends.get(inp.backend) or self._backend(inp.backend)
        session: SessionState | None = None
        note = None
        if backend.simulator and inp.start_session:
            note = SIMULATOR_NOTE  # no session on a simulator: the job runs as a plain job (D11)
        elif inp.start_session:
            assert inp.session is not None, "validated inputs name the session to start"
            if not self._claim_session_id(inp.session):
                self._release_job_id(inp.job)
                return _refuse(inp, "this session id is already in use", job=inp.job, session=inp.session)
            session = self._open_session(inp.session, inp.backend, None)
        elif inp.session is not None:
            session = self.sessions.get(inp.session)
            if session is None:
                self._release_job_id(inp.job)
                return self._unknown_session(inp, inp.session, job=inp.job)
            refusal = self._session_refuses(session, inp)
            if refusal is not None:
                self._release_job_id(inp.job)
                return _refuse(inp, refusal, job=inp.job, session=inp.session)
        limit = time_limit(inp.max_execution_time, self.config)
        job = Job(
            self._job_seq,
            inp.job,
            inp.backend,
            session,
            inp.instance,
            inp.max_execution_time,
            self.now,
            limit,
        )
        self._job_seq += 1
        self._created.append(job)
        self.jobs[inp.job] = job
        self.observations.append(_new(JobChanged, (self.now, inp.job, QUEUED, note)))
        backend.queue.append(job)
        self.usage.add(job)
        self._dirty.add(inp.backend)
        if session is not None:
            self._save(session)
            session.jobs.append(job)
            session.queued.append(job)
            session.unfinished += 1
            # A job entering the session stops its interactive-timeout countdown (D02), even
            # when it cannot start at once because a reservation job holds the backend.
            if not session.got_job or session.idle_since is not None:
                self._touch(session)
                session.got_job = True
                session.idle_since = None
            if self._activates_on_submit:
                self._activate_on_submit(session)
        return None

    def _release_job_id(self, job_id: str) -> None:
        """A submission refused after its id was claimed: the id stays free."""
        if self.job_ids is not None:
            self.job_ids.discard(job_id)

    def _session_refuses(self, session: SessionState, inp: Submit) -> str | None:
        """Why a session cannot take this job, or ``None`` if it can."""
        if not session.accepting:
            return f"the session does not accept jobs (it is {session.state}, closed to new jobs)"
        if session.backend != inp.backend and self.variant.check_session_backend:
            return f"the session runs on backend {session.backend!r}, not {inp.backend!r}"
        return None

    def _activate_on_submit(self, session: SessionState) -> None:
        """(Variants only) a submission activates its session before any of its jobs runs."""
        variant = self.variant
        if self.backends[session.backend].active is not None:
            return
        if session.state == PENDING and variant.submit_activates_pending:
            self._fire_session(session, "first_job_started", clear_idle=True)
            session.started_at, session.max_ttl = self.now, self.config.system_max_ttl
            self._push_max_ttl(session)
        elif session.state == INACTIVE and variant.submit_reactivates_inactive:
            self._fire_session(session, "reactivating_job_started", clear_idle=True)

    def _unknown_session(self, inp: Input, session_id: str, job: str | None = None) -> Rejected:
        # (a core that retires records does not look up which: a refusal changes nothing)
        reason = "unknown session" if self.session_ids is None else "unknown session, or one that has ended"
        return _refuse(inp, reason, job=job, session=session_id)

    def _unknown_job(self, inp: Input, job_id: str) -> Rejected:
        reason = "unknown job" if self.job_ids is None else "unknown job, or one that has ended"
        return _refuse(inp, reason, job=job_id)

    def _close_session(self, inp: CloseSession) -> Rejected | None:
        session = self.sessions.get(inp.session)
        if session is None:
            return self._unknown_session(inp, inp.session)
        variant = self.variant
        if not variant.close_stops_accepting:
            if session.state in _SESSION_FINALS:
                return _refuse(inp, "cannot close", session=inp.session)
            if not session.unfinished:
                self._fire_session(session, "close", clear_idle=False)
            return None
        if not session.accepting:
            return _refuse(inp, f"the session is already closed ({session.state})", session=inp.session)
        if variant.close_ends_at_once:
            self._set_session_state(session, "closed")
            return None
        self._fire_session(session, "close", clear_idle=True, stop_accepting=True)
        if variant.close_cancels_queued:
            for job in list(session.queued):
                if job.state == QUEUED:
                    self._fire_job(job, "session_canceled")
                    self._after_job_ended(job)
        return None

    def _cancel_session(self, inp: CancelSession) -> Rejected | None:
        session = self.sessions.get(inp.session)
        if session is None:
            return self._unknown_session(inp, inp.session)
        if session.state in _SESSION_FINALS:
            return _refuse(inp, f"the session has already ended ({session.state})", session=inp.session)
        self._fire_session(session, "cancel", clear_idle=True)
        if self.variant.cancel_session_cancels_queued:
            for job in list(session.queued):
                if job.state == QUEUED:
                    self._fire_job(job, "session_canceled", "the session was canceled")
        return None

    def _cancel_job(self, inp: CancelJob) -> Rejected | None:
        job = self.jobs.get(inp.job)
        if job is None:
            if not self.variant.refuse_unknown_cancel:
                return None
            return self._unknown_job(inp, inp.job)
        if job.state != QUEUED and job.state != RUNNING:
            return _refuse(inp, f"the job has already ended ({job.state})", job=inp.job)
        if job.state == RUNNING and not self.variant.cancel_running:
            return _refuse(inp, "the job is already running", job=inp.job)
        self._fire_job(job, "cancel", "canceled by the user")
        self._after_job_ended(job)
        if self.variant.forget_canceled_jobs:
            self._forget(job)
        return None

    def _finish_job(self, inp: FinishJob) -> Rejected | None:
        job = self.jobs.get(inp.job)
        if job is None:
            return self._unknown_job(inp, inp.job)
        variant = self.variant
        if job.state == QUEUED and variant.finish_queued:
            self._set_job_state(job, inp.outcome, None, None)
            return None
        if job.state in _JOB_FINALS and variant.finish_overwrites_ended:
            if job.state != inp.outcome:
                self._touch(job)
                job.state = inp.outcome
                self.observations.append(_new(JobChanged, (self.now, job.id, inp.outcome, None)))
            return None
        if job.state != RUNNING:
            return _refuse(inp, f"only a running job can finish; this one is {job.state}", job=inp.job)
        self._fire_job(job, "complete" if inp.outcome == "completed" else "fail")
        self._after_job_ended(job)
        return None

    def _advance(self, inp: Advance) -> Rejected | None:
        return None

    def _forget(self, job: Job) -> None:
        """(A variant only) drop a job from the world as if it never existed."""
        del self.jobs[job.id]
        self._forgotten.append(job)

    # --- deadlines, each checked again against its record -----------------------------------

    def _expire(self, session: SessionState) -> None:
        variant = self.variant
        expires_at = session.expires_at
        if session.state in _SESSION_FINALS or expires_at is None or expires_at > self.now:
            return
        if session.state == INACTIVE and not variant.expire_inactive:
            return
        self._fire_session(session, "max_timeout", clear_idle=True)
        event = variant.expiry_queued_event
        for job in list(session.jobs if variant.expiry_fails_running else session.queued):
            if job.state == QUEUED:
                self._fire_job(job, event, "the session reached its maximum timeout")
            elif job.state == RUNNING and variant.expiry_fails_running:
                self._fire_job(job, "fail", "the session reached its maximum timeout")

    def _enforce_limit(self, job: Job) -> None:
        if (
            job.state == RUNNING
            and job.started_at is not None
            and later(job.started_at, job.limit) <= self.now
        ):
            self._fire_job(job, "exceed_time_limit", "the job ran longer than its time limit")
            self._after_job_ended(job)

    def _deactivate(self, session: SessionState) -> None:
        idle_since = session.idle_since
        if (
            session.state != ACTIVE
            or idle_since is None
            or later(idle_since, self.config.interactive_ttl) > self.now
            or not self.variant.deactivate
        ):
            return
        if not self.variant.report_deactivation:
            self._touch(session)
            session.idle_since = None
            self._set_session_state(session, INACTIVE, report=False)
            return
        self._fire_session(session, "interactive_timeout", clear_idle=True)

    def _close_unused(self, session: SessionState) -> None:
        timeout = self.config.pending_timeout
        if (
            timeout is None
            or session.state != PENDING
            or later(session.created_at, timeout) > self.now
            or not self.variant.pending_timeout_fires
        ):
            return
        if self.variant.pending_timeout_spares_used:
            if not session.got_job:
                self._fire_session(session, "pending_timeout", clear_idle=False)
        elif not session.unfinished:
            self._set_session_state(session, "closed")

    # --- the scheduler --------------------------------------------------------------------------

    def _settle(self) -> None:
        """Start what the rules require on every backend that changed (the others are settled),
        in the order of each backend's oldest queued job."""
        dirty = self._dirty
        if len(dirty) == 1:
            for name in dirty:
                order: Iterable[Backend] = (self.backends[name],)
        else:
            order = sorted((self.backends[name] for name in dirty), key=_oldest_queued)
        variant = self.variant
        one_at_a_time = variant.one_job_per_backend
        for backend in order:
            if backend.simulator and variant.simulators_run_at_once:
                # no queue on a simulator: every job starts at once (decision D11)
                for job in list(backend.queue):
                    if job.state == QUEUED:
                        self._start(job)
                backend.queue.clear()
            elif not backend.running or not one_at_a_time:
                pick = self._choose(backend)
                if pick is not None:
                    self._start(pick)
        # starting made backends busy; nothing more can start there this instant
        self._dirty.clear()

    def _choose(self, backend: Backend) -> Job | None:
        """What the rules let start on an idle backend, picked by the policy where they allow several.

        In priority order (seed QUEUE "How session jobs fit into the job queue", decisions
        D01, D10, D17): plain jobs of an instance whose reservation window is open; else the
        active session's oldest queued job, or nothing while it has none (the backend is held
        for it during its interactive timeout); else the fair-share queue: plain jobs, and of
        each pending or inactive session its oldest queued job.
        """
        variant = self.variant
        if backend.reservations and variant.reservations:
            now = self.now
            instances = {r.instance for r in backend.reservations if r.is_open(now)}
            if instances:
                anyone = variant.reservation_any_instance
                reserved = [
                    j
                    for j in backend.queue
                    if j.state == QUEUED and j.owner is None and (anyone or j.instance in instances)
                ]
                if reserved:
                    return self._pick(backend, RESERVATION, reserved)
        active = backend.active
        if active is not None:
            job = active.first_queued()
            if job is not None:
                if variant.plain_before_session_jobs:
                    plain = [j for j in backend.queue if j.state == QUEUED and j.session is None]
                    if plain:
                        return self._pick(backend, FAIR_SHARE, plain)
                if variant.session_jobs_newest_first:
                    job = [j for j in active.queued if j.state == QUEUED][-1]
                return job
            if variant.hold_admits_plain:
                plain = [j for j in backend.queue if j.state == QUEUED and j.session is None]
                return self._pick(backend, FAIR_SHARE, plain) if plain else None
            if variant.hold_admits_sessions:
                others = [
                    j
                    for j in backend.queue
                    if j.state == QUEUED and j.owner is not None and j.owner.state in _WAITING
                ]
                return self._pick(backend, FAIR_SHARE, others) if others else None
            return None  # held for the active session during its interactive timeout
        # The fair-share queue: found lazily, as the first two candidates tell whether the
        # policy has a choice at all (in a long queue the policy may need no more).
        first = second = None
        if backend.first_queued() is None:  # (dropping the jobs that left the queue's front)
            return None
        for job in backend.queue:
            if job.state == QUEUED and _in_fair_share(job):
                if first is None:
                    first = job
                else:
                    second = job
                    break
        if second is None:
            return first
        waiting = _Waiting(backend.queue)
        return self._pick(backend, FAIR_SHARE, waiting)

    def _pick(self, backend: Backend, tier: str, jobs: list[Job] | _Waiting) -> Job:
        if type(jobs) is list and len(jobs) == 1:  # (a _Waiting holds two at least)
            return jobs[0]
        self._offered = jobs
        self._offered_on = backend.name
        choice = _new(Choice, (backend.name, tier, jobs, self.now, self._usage_of, self._offer))
        pick = self.policy.choose(choice)
        if isinstance(pick, Job) and pick.backend == backend.name and pick in jobs:
            return pick
        raise PolicyError(backend.name, getattr(pick, "id", repr(pick)), tuple(j.id for j in jobs))

    def _start(self, job: Job) -> None:
        """Start a queued job; its session becomes (or stays) active."""
        variant = self.variant
        self._fire_job(job, "start")
        if variant.time_limit_from_submission:
            self._limit_from_submission(job)
        self._push_time_limit(job)
        session = job.owner
        if session is None:
            return
        if session.state == PENDING:
            first = session.jobs[0] if variant.max_ttl_job == "submitted" else job
            max_ttl = max_ttl_value(self.config, session.max_time, first.max_execution_time)
            kept = (session.started_at, session.max_ttl)
            self._fire_session(session, "first_job_started", clear_idle=True)
            if variant.ttl_clock == "creation":
                session.started_at, session.max_ttl = kept
            else:
                session.max_ttl = max_ttl
                session.started_at = (
                    session.created_at if variant.ttl_clock == "creation-at-start" else self.now
                )
            self._push_max_ttl(session)
        elif session.state == INACTIVE:
            self._fire_session(session, "reactivating_job_started", clear_idle=True)
            if variant.ttl_clock == "every-start":
                session.started_at = self.now
                self._push_max_ttl(session)
        elif session.state == ACTIVE and session.idle_since is not None:
            self._touch(session)
            session.idle_since = None

    def _usage_of(self, instance: str) -> Number | None:
        """QPU seconds ``instance`` has used so far (for the policy; summed once per transition)."""
        totals = self._totals
        if totals is None:
            totals = self._totals = self.usage.totals(self.now)
        return totals.get(instance)

    def _offer(self, job_id: str) -> Job | None:
        """The candidate of the policy's current choice with this id, if it is one."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.backend == self._offered_on and job in self._offered else None

    def _limit_from_submission(self, job: Job) -> None:
        """(A variant only) the time spent queued uses up the job's time limit."""
        assert job.started_at is not None
        job.limit = max(elapsed(elapsed(job.submitted_at, job.started_at), job.limit), 1)


_HANDLERS: dict[type, Callable[[Core, Any], Rejected | None]] = {  # one per type of INPUTS
    CreateSession: Core._create_session,
    Submit: Core._submit,
    CloseSession: Core._close_session,
    CancelSession: Core._cancel_session,
    CancelJob: Core._cancel_job,
    FinishJob: Core._finish_job,
    Advance: Core._advance,
}
INPUTS = tuple(_HANDLERS)  # the types of input the core takes


class _Waiting(Sequence[Job]):
    """The fair-share candidates of a backend, oldest first, listed only when asked for."""

    __slots__ = ("_jobs", "_queue")

    def __init__(self, queue: Iterable[Job]) -> None:
        self._queue = queue
        self._jobs: list[Job] | None = None

    def _listed(self) -> list[Job]:
        jobs = self._jobs
        if jobs is None:
            jobs = self._jobs = [j for j in self._queue if j.state == QUEUED and _in_fair_share(j)]
        return jobs

    def __len__(self) -> int:
        return len(self._listed())

    @overload
    def __getitem__(self, index: int) -> Job: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Job]: ...
    def __getitem__(self, index: int | slice) -> Job | Sequence[Job]:
        return self._listed()[index]

    def __contains__(self, job: object) -> bool:
        # without listing: a candidate is a queued job of the fair-share queue
        return isinstance(job, Job) and job.state == QUEUED and _in_fair_share(job)


def _refuse(inp: Input, reason: str, *, job: str | None = None, session: str | None = None) -> Rejected:
    return _new(Rejected, (inp.t, inp.op, reason, job, session))


def _oldest_queued(backend: Backend) -> int:
    job = backend.first_queued()
    return -1 if job is None else job.seq


def _in_fair_share(job: Job) -> bool:
    """A plain job, or the oldest queued job of a pending or inactive session (D17)."""
    session = job.owner
    if session is None:
        return job.session is None
    return session.state in _WAITING and session.first_queued() is job
