"""Every move the bounded explorer may make from a world.

A *move* is an input a user (or the QPU, or the clock) may give within the bounds,
together with the choices the scheduler makes while the model handles it. The
rules leave the scheduler free to pick any waiting fair-share job (and any waiting
reservation job); :func:`outcomes` follows every such pick, so the explorer covers
all the schedulers the rules allow, not only the reference policy.

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.world import World
>>> from sessionspec.explorer.presets import Bounds
>>> world = World.empty(Config(backends=("qpu",)))
>>> [type(inp).__name__ for inp in user_inputs(world, Bounds(refused_inputs=False))]
['Advance', 'CreateSession', 'Submit']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, cast

from sessionspec.explorer.presets import Bounds
from sessionspec.model.config import Number
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
from sessionspec.model.policy import Candidate, Choice
from sessionspec.model.step import Transition, next_deadline, transitions
from sessionspec.model.world import QUEUED, RUNNING, World

UNKNOWN_JOB, UNKNOWN_SESSION = "no-such-job", "no-such-session"
UNKNOWN_DEADLINE: object = object()  # (the caller has not looked the next deadline up)


class Outcome(NamedTuple):
    """One way an input can play out: the scheduler's picks and the transitions."""

    inp: Input
    choices: tuple[int, ...]
    transitions: tuple[Transition, ...]

    @property
    def after(self) -> World:
        return self.transitions[-1].after


class ScriptedPolicy:
    """Picks the candidate a script names at each choice; the first one past its end.

    It records how many candidates each choice had, so the caller can try the others.
    """

    __slots__ = ("arities", "picks", "script")

    def __init__(self, script: tuple[int, ...]) -> None:
        self.script = script
        self.arities: list[int] = []
        self.picks: list[int] = []

    def choose(self, choice: Choice) -> Candidate:
        position = len(self.arities)
        pick = self.script[position] if position < len(self.script) else 0
        self.arities.append(len(choice.jobs))
        self.picks.append(pick)
        return choice.jobs[pick]


def outcomes(world: World, inp: Input) -> Iterator[Outcome]:
    """Every way ``inp`` can play out from ``world``, one per sequence of scheduler picks."""
    scripts: list[tuple[int, ...]] = [()]
    while scripts:
        script = scripts.pop()
        policy = ScriptedPolicy(script)
        steps = tuple(transitions(world, inp, policy, trusted=True))
        yield Outcome(inp, tuple(policy.picks), steps)
        picks = policy.picks
        # the later choices are tried again for every other pick at an earlier one
        for position in range(len(script), len(picks)):
            for alternative in range(1, policy.arities[position]):
                scripts.append((*picks[:position], alternative))


def fresh_id(prefix: str, taken: set[str], count: int) -> str:
    """The id a new job or session gets: numbered by creation (``j1``, ``j2``, ...)."""
    n = count + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def user_inputs(
    world: World, bounds: Bounds, due: Number | object | None = UNKNOWN_DEADLINE
) -> Iterator[Input]:
    """Every input the bounds allow at ``world.now``, in a fixed order (``due``: the world's next
    deadline, when the caller knows it already)."""
    now, config = world.now, world.config
    qpus = [b for b in config.backends if not config.is_simulator(b)]
    simulators = [b for b in config.backends if config.is_simulator(b)]
    yield from _time_moves(world, bounds, due)
    session_ids = {s.id for s in world.sessions}
    job_ids = {j.id for j in world.jobs}
    session_jobs = sum(1 for j in world.jobs if j.session is not None)
    plain_jobs = len(world.jobs) - session_jobs
    refused = bounds.refused_inputs
    sessions = len(world.sessions)
    if bounds.admits(sessions + 1, session_jobs, plain_jobs):
        new_session = fresh_id("s", session_ids, len(world.sessions))
        for backend in qpus + (simulators[:1] if refused else []):
            for max_time in bounds.max_times:
                yield CreateSession(now, new_session, backend, max_time)
    new_job = fresh_id("j", job_ids, len(world.jobs))
    if bounds.admits(sessions, session_jobs + 1, plain_jobs):
        for session in world.sessions:
            if not (session.accepting or refused):
                continue
            for instance in bounds.instances:
                for met in bounds.max_execution_times:
                    yield Submit(now, new_job, session.backend, session.id, False, instance, met)
            if refused:
                other = next((b for b in config.backends if b != session.backend), None)
                if other is not None:
                    yield Submit(now, new_job, other, session.id, False, bounds.instances[0])
        if bounds.start_session_jobs and bounds.admits(sessions + 1, session_jobs + 1, plain_jobs):
            new_session = fresh_id("s", session_ids, len(world.sessions))
            for backend in qpus:
                for instance in bounds.instances:
                    for met in bounds.max_execution_times:
                        yield Submit(now, new_job, backend, new_session, True, instance, met)
    if bounds.admits(sessions, session_jobs, plain_jobs + 1):
        for backend in config.backends:
            for instance in bounds.instances:
                for met in bounds.max_execution_times:
                    yield Submit(now, new_job, backend, None, False, instance, met)
    closes, cancels = "close_session" in bounds.endings, "cancel_session" in bounds.endings
    for session in world.sessions:
        if closes and (session.accepting or refused):
            yield CloseSession(now, session.id)
        if cancels and (session.ended_at is None or refused):
            yield CancelSession(now, session.id)
    cancel_jobs = "cancel_job" in bounds.endings
    for job in world.jobs:
        if job.state == RUNNING or refused:
            for outcome in bounds.job_outcomes:
                yield FinishJob(now, job.id, outcome)
        if cancel_jobs and (job.state in (QUEUED, RUNNING) or refused):
            yield CancelJob(now, job.id)
    if refused and cancel_jobs:
        yield CancelJob(now, UNKNOWN_JOB)
    if refused and closes:
        yield CloseSession(now, UNKNOWN_SESSION)


def _time_moves(world: World, bounds: Bounds, due: Number | object | None) -> Iterator[Input]:
    """One second on, and a jump straight to the next deadline when that is further."""
    yield Advance(world.now + 1)
    deadline = next_deadline(world) if due is UNKNOWN_DEADLINE else cast("Number | None", due)
    if deadline is not None and world.now + 1 < deadline:
        yield Advance(deadline)
