"""The transition function: a world and an input give a new world and observations.

>>> from sessionspec.model.inputs import CreateSession, Submit, Advance
>>> world = World.empty()
>>> result = step(world, CreateSession(0, "s1", "qpu1"))
>>> [o.to_dict() for o in result.observations]
[{'t': 0, 'event': 'session', 'session': 's1', 'state': 'pending', 'accepting': True}]
>>> result = step(result.world, Submit(1, "j1", "qpu1", session="s1"))
>>> [(o.job if o.event == "job" else o.session, o.state) for o in result.observations]
[('j1', 'queued'), ('j1', 'running'), ('s1', 'active')]

Time is explicit. An input stamped later than the world's clock first lets every
deadline up to that instant fire, each at its own instant, before the input is
applied (decision D03). :func:`transitions` yields those steps one by one, which is
what the rule checks look at; :func:`step` folds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from sessionspec.model.errors import InvalidInput, TimeWentBackwards
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
    validate,
)
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.scheduler import settle
from sessionspec.model.timers import fire_due, next_deadline
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import PENDING, QUEUED, RUNNING, JobRecord, SessionRecord, World

SIMULATOR_NOTE = "no session on a simulator: the job runs as a plain job"


class Tick(NamedTuple):
    """The cause of a transition that time alone made: deadlines due at ``t``."""

    t: Any

    @property
    def op(self) -> str:
        return "deadline"


Cause = Input | Tick


class Transition(NamedTuple):
    """One atomic transition: an input applied, or one instant's deadlines fired."""

    before: World
    cause: Cause
    after: World
    observations: tuple[Observation, ...]
    # (machine, source, event, target) of each declared edge this transition took
    fired: tuple[tuple[str, str, str, str], ...] = ()


class Step(NamedTuple):
    """The outcome of one input: the new world and everything observed, in order."""

    world: World
    observations: tuple[Observation, ...]


def transitions(
    world: World, inp: Input, policy: Policy = REFERENCE_POLICY, *, trusted: bool = False
) -> Iterator[Transition]:
    """The atomic transitions caused by one input, deadlines first.

    Raises :class:`~sessionspec.model.errors.InvalidInput` (before yielding anything) when the
    input is malformed or stamped before the world's clock; set ``trusted`` to skip
    the field checks for inputs the caller built itself.
    """
    if not trusted:
        check_input_type(inp)
        inp = validate(inp)
    if inp.t < world.now:
        raise TimeWentBackwards(world.now, inp.t)
    while (due := next_deadline(world)) is not None and deadline_precedes_input(due, inp.t):
        tx = fire_instant(world, due, policy)
        yield Transition(world, Tick(due), tx.world, tuple(tx.observations), tuple(tx.fired))
        world = tx.world
    if world.now != inp.t:
        world = world._replace(now=inp.t)
    tx = Transaction(world)
    rejection = HANDLERS[type(inp)](tx, inp)
    if rejection is not None:
        yield Transition(world, inp, world, (rejection,))
        return
    settle(tx, policy)
    yield Transition(world, inp, tx.world, tuple(tx.observations), tuple(tx.fired))


def deadline_precedes_input(due: Any, t: Any) -> bool:
    """A deadline at the input's own instant fires first: windows are half-open (D03)."""
    return bool(due <= t)


def fire_instant(world: World, t: Any, policy: Policy) -> Transaction:
    """Everything time makes happen at ``t``: due deadlines, then the scheduler."""
    tx = Transaction(world._replace(now=t))
    fire_due(tx)
    settle(tx, policy)
    return tx


def step(world: World, inp: Input, policy: Policy = REFERENCE_POLICY, *, trusted: bool = False) -> Step:
    """Apply one input; return the new world and all observations in order."""
    observations: list[Observation] = []
    after = world
    for transition in transitions(world, inp, policy, trusted=trusted):
        observations.extend(transition.observations)
        after = transition.after
    return Step(after, tuple(observations))


def run(world: World, inputs: list[Input], policy: Policy = REFERENCE_POLICY) -> Step:
    """Apply inputs in order; return the final world and all observations."""
    observations: list[Observation] = []
    for inp in inputs:
        world, seen = step(world, inp, policy)
        observations.extend(seen)
    return Step(world, tuple(observations))


def _refuse(inp: Input, reason: str, *, job: str | None = None, session: str | None = None) -> Rejected:
    return Rejected(inp.t, inp.op, reason, job, session)


def _create_session(tx: Transaction, inp: CreateSession) -> Rejected | None:
    if tx.world.session(inp.session) is not None:
        return _refuse(inp, "this session id is already in use", session=inp.session)
    if tx.world.config.is_simulator(inp.backend):
        return _refuse(inp, "sessions do not apply to simulators; submit plain jobs", session=inp.session)
    open_session(tx, inp.session, inp.backend, inp.max_time)
    return None


def open_session(tx: Transaction, session_id: str, backend: str, max_time: Any) -> SessionRecord:
    session = SessionRecord(session_id, backend, max_time, PENDING, True, tx.now)
    tx.world = tx.world._replace(sessions=(*tx.world.sessions, session))
    tx.observations.append(SessionChanged(tx.now, session_id, PENDING, True))
    return session


def _submit(tx: Transaction, inp: Submit) -> Rejected | None:
    world = tx.world
    if world.job(inp.job) is not None:
        return _refuse(inp, "this job id is already in use", job=inp.job)
    session_id = inp.session
    note = None
    if world.config.is_simulator(inp.backend) and inp.start_session:
        session_id, note = None, SIMULATOR_NOTE
    elif inp.start_session:
        assert session_id is not None, "validated inputs name the session to start"
        if world.session(session_id) is not None:
            return _refuse(inp, "this session id is already in use", job=inp.job, session=session_id)
        open_session(tx, session_id, inp.backend, None)
    elif session_id is not None:
        refusal = _session_refuses(world.session(session_id), inp)
        if refusal is not None:
            return _refuse(inp, refusal, job=inp.job, session=session_id)
    job = JobRecord(inp.job, inp.backend, session_id, inp.instance, inp.max_execution_time, QUEUED, tx.now)
    tx.world = tx.world._replace(jobs=(*tx.world.jobs, job))
    tx.observations.append(JobChanged(tx.now, inp.job, QUEUED, note))
    if session_id is not None:
        session = tx.world.session(session_id)
        assert session is not None
        # A job entering the session stops its interactive-timeout countdown (D02), even
        # when it cannot start at once because a reservation job holds the backend.
        if not session.got_job or session.idle_since is not None:
            tx.put_session(session, session._replace(got_job=True, idle_since=None))
    return None


def _session_refuses(session: SessionRecord | None, inp: Submit) -> str | None:
    """Why a session cannot take this job, or ``None`` if it can."""
    if session is None:
        return "unknown session"
    if not session.accepting:
        return f"the session does not accept jobs (it is {session.state}, closed to new jobs)"
    if session.backend != inp.backend:
        return f"the session runs on backend {session.backend!r}, not {inp.backend!r}"
    return None


def _close_session(tx: Transaction, inp: CloseSession) -> Rejected | None:
    session = tx.world.session(inp.session)
    if session is None:
        return _refuse(inp, "unknown session", session=inp.session)
    if not session.accepting:
        return _refuse(inp, f"the session is already closed ({session.state})", session=inp.session)
    tx.fire_session(session, "close", accepting=False, idle_since=None)
    return None


def _cancel_session(tx: Transaction, inp: CancelSession) -> Rejected | None:
    session = tx.world.session(inp.session)
    if session is None:
        return _refuse(inp, "unknown session", session=inp.session)
    if not session.live:
        return _refuse(inp, f"the session has already ended ({session.state})", session=inp.session)
    tx.fire_session(session, "cancel", idle_since=None)
    for job in tx.world.jobs_of(session.id):
        if job.state == QUEUED:
            tx.fire_job(job, "session_canceled", "the session was canceled")
    return None


def _cancel_job(tx: Transaction, inp: CancelJob) -> Rejected | None:
    job = tx.world.job(inp.job)
    if job is None:
        return _refuse(inp, "unknown job", job=inp.job)
    if not job.unfinished:
        return _refuse(inp, f"the job has already ended ({job.state})", job=inp.job)
    tx.after_job_ended(tx.fire_job(job, "cancel", "canceled by the user"))
    return None


def _finish_job(tx: Transaction, inp: FinishJob) -> Rejected | None:
    job = tx.world.job(inp.job)
    if job is None:
        return _refuse(inp, "unknown job", job=inp.job)
    if job.state != RUNNING:
        return _refuse(inp, f"only a running job can finish; this one is {job.state}", job=inp.job)
    event = "complete" if inp.outcome == "completed" else "fail"
    tx.after_job_ended(tx.fire_job(job, event))
    return None


def _advance(tx: Transaction, inp: Advance) -> Rejected | None:
    return None


def _handlers() -> dict[type, Callable[[Transaction, Any], Rejected | None]]:
    return {
        CreateSession: _create_session,
        Submit: _submit,
        CloseSession: _close_session,
        CancelSession: _cancel_session,
        CancelJob: _cancel_job,
        FinishJob: _finish_job,
        Advance: _advance,
    }


HANDLERS = _handlers()


def check_input_type(inp: object) -> None:
    """Refuse an object that is not one of the input types, with a usable message."""
    if type(inp) not in HANDLERS:
        raise InvalidInput("input", inp, f"one of {', '.join(t.__name__ for t in HANDLERS)}")
