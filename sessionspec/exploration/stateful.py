"""Randomized exploration of the model with Hypothesis.

:class:`ModelExploration` is a ``RuleBasedStateMachine``: each step draws one
*action template* and resolves it against the current world into a concrete input
(which session, which job, which instant), feeds it to the model, and checks every
rule of the catalogue on every transition it causes. At teardown, time runs on
until no deadline is left and the eventual properties are checked.

One draw per step keeps Hypothesis' own overhead low; templates are ordered from
simple to elaborate, so shrinking moves a failure towards simple actions.

Run it like any Hypothesis state machine::

    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(ModelExploration, settings=settings(max_examples=50))
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from sessionspec.invariants import Checker, Rule
from sessionspec.model.clock import later
from sessionspec.model.config import Config, Reservation
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
from sessionspec.model.step import Transition, step
from sessionspec.model.timers import next_deadline
from sessionspec.model.world import World

BACKENDS = ("qpu1", "qpu2")
INSTANCES = ("lab-a", "lab-b", "lab-c")

CONFIGS = (
    Config(backends=BACKENDS, system_max_ttl=600, interactive_ttl=60, job_time_cap=300),
    Config(
        backends=(*BACKENDS, "sim"),
        simulators=frozenset({"sim"}),
        system_max_ttl=90,
        interactive_ttl=10,
        job_time_cap=40,
        pending_timeout=50,
    ),
    Config(
        backends=BACKENDS,
        system_max_ttl=120,
        interactive_ttl=15,
        job_time_cap=60,
        reservations=(Reservation("qpu1", "lab-b", 20, 200),),
    ),
    Config(
        backends=(*BACKENDS, "sim"),
        simulators=frozenset({"sim"}),
        system_max_ttl=50,
        interactive_ttl=5,
        job_time_cap=30,
        reservations=(Reservation("qpu2", "lab-c", 10, 60), Reservation("qpu1", "lab-a", 40, 90)),
        pending_timeout=25,
    ),
)


class Context:
    """What the templates need besides the world: fresh ids and open `with` blocks."""

    def __init__(self) -> None:
        self.job_ids = (f"j{i}" for i in itertools.count(1))
        self.session_ids = (f"s{i}" for i in itertools.count(1))
        self.open_blocks: list[str] = []


def _pick(ids: list[str], slot: int, fallback: str) -> str:
    return ids[slot % len(ids)] if ids else fallback


def _instant(world: World, at_deadline: bool) -> Any:
    due = next_deadline(world) if at_deadline else None
    return world.now if due is None else due


class Wait(NamedTuple):
    """Let time pass by a fixed amount."""

    seconds: int

    def resolve(self, world: World, ctx: Context) -> Input:
        return Advance(later(world.now, self.seconds))


class WaitForDeadline(NamedTuple):
    """Let time run to just before, exactly onto, or just past the next deadline."""

    offset: int

    def resolve(self, world: World, ctx: Context) -> Input:
        due = next_deadline(world)
        if due is None:
            return Advance(world.now + 1)
        return Advance(max(world.now, later(due, self.offset)))


class SubmitPlain(NamedTuple):
    """A job without a session."""

    backend: str
    instance: str
    max_execution_time: int | None

    def resolve(self, world: World, ctx: Context) -> Input:
        return Submit(
            world.now, next(ctx.job_ids), self.backend, instance=self.instance,
            max_execution_time=self.max_execution_time,
        )  # fmt: skip


class StartSession(NamedTuple):
    """A job that opens a new session (the jobs API's ``start_session``)."""

    backend: str
    instance: str
    max_execution_time: int | None

    def resolve(self, world: World, ctx: Context) -> Input:
        return Submit(
            world.now, next(ctx.job_ids), self.backend, session=next(ctx.session_ids),
            start_session=True, instance=self.instance, max_execution_time=self.max_execution_time,
        )  # fmt: skip


class OpenSession(NamedTuple):
    """Create a session; ``as_block`` opens it as a ``with Session(...)`` block."""

    backend: str
    max_time: int | None
    as_block: bool

    def resolve(self, world: World, ctx: Context) -> Input:
        session = next(ctx.session_ids)
        if self.as_block:
            ctx.open_blocks.append(session)
        return CreateSession(world.now, session, self.backend, self.max_time)


class SubmitToSession(NamedTuple):
    """A job into an existing session (``session_id=...``), maybe at a deadline."""

    slot: int
    instance: str
    max_execution_time: int | None
    at_deadline: bool
    wrong_backend: bool

    def resolve(self, world: World, ctx: Context) -> Input:
        session_id = _pick([s.id for s in world.sessions], self.slot, "no-such-session")
        session = world.session(session_id)
        backend = session.backend if session is not None else BACKENDS[0]
        if self.wrong_backend:
            backend = BACKENDS[1] if backend == BACKENDS[0] else BACKENDS[0]
        return Submit(
            _instant(world, self.at_deadline), next(ctx.job_ids), backend, session=session_id,
            instance=self.instance, max_execution_time=self.max_execution_time,
        )  # fmt: skip


class ExitBlock(NamedTuple):
    """Leave the innermost ``with Session(...)`` block: the session is closed."""

    def resolve(self, world: World, ctx: Context) -> Input:
        if ctx.open_blocks:
            return CloseSession(world.now, ctx.open_blocks.pop())
        return Advance(world.now)


class SessionCall(NamedTuple):
    """close() or cancel() on a session, maybe exactly at the next deadline."""

    cancel: bool
    slot: int
    at_deadline: bool

    def resolve(self, world: World, ctx: Context) -> Input:
        session_id = _pick([s.id for s in world.sessions], self.slot, "no-such-session")
        t = _instant(world, self.at_deadline)
        return CancelSession(t, session_id) if self.cancel else CloseSession(t, session_id)


class JobCall(NamedTuple):
    """The QPU finishes a job, or the user cancels one: a job in state ``pick``, or any."""

    what: str  # "completed", "failed" or "cancel"
    slot: int
    at_deadline: bool
    pick: str = "running"  # "running", "queued" or "any"

    def resolve(self, world: World, ctx: Context) -> Input:
        wanted = [j.id for j in world.jobs if j.state == self.pick]
        job = _pick(wanted or [j.id for j in world.jobs], self.slot, "no-such-job")
        t = _instant(world, self.at_deadline)
        return CancelJob(t, job) if self.what == "cancel" else FinishJob(t, job, self.what)


def _templates() -> Iterator[Any]:
    yield from (Wait(s) for s in (1, 5, 30))
    yield from (WaitForDeadline(o) for o in (0, -1, 1))
    for what, slot, at in itertools.product(("completed", "failed", "cancel"), (0, 1), (False, True)):
        yield JobCall(what, slot, at)
    for what, slot in itertools.product(("completed", "failed", "cancel"), (0, 1)):
        yield JobCall(what, slot, False, pick="any")
    yield from (JobCall("cancel", slot, False, pick="queued") for slot in (0, 1, 2))
    for slot, instance, met, at in itertools.product((0, 1, 2), INSTANCES[:2], (None, 20), (False, True)):
        yield SubmitToSession(slot, instance, met, at, False)
    yield SubmitToSession(0, INSTANCES[0], None, False, True)
    for backend, instance, met in itertools.product(BACKENDS, INSTANCES, (None, 25, 500)):
        yield SubmitPlain(backend, instance, met)
        yield StartSession(backend, instance, met)
    yield SubmitPlain("sim", INSTANCES[0], None)
    yield StartSession("sim", INSTANCES[1], 20)
    for backend, max_time, block in itertools.product(BACKENDS, (None, 45), (False, True)):
        yield OpenSession(backend, max_time, block)
    yield OpenSession("sim", None, False)
    yield ExitBlock()
    for cancel, slot, at in itertools.product((False, True), (0, 1, 2), (False, True)):
        yield SessionCall(cancel, slot, at)


TEMPLATES = tuple(_templates())


def resolve_program(
    config: Config, actions: Iterable[Any], ctx: Context | None = None
) -> tuple[list[Input], World]:
    """Resolve action templates one after another against the model's world, kept in step.

    Returns the inputs and the world they lead to.

    >>> inputs, world = resolve_program(Config(), TEMPLATES[:3])
    >>> len(inputs), world.now >= 0
    (3, True)
    """
    world, ctx, inputs = World.empty(config), ctx or Context(), []
    for action in actions:
        inp = action.resolve(world, ctx)
        inputs.append(inp)
        world = step(world, inp, trusted=True).world
    return inputs, world


class _Noted:
    """A note Hypothesis formats only when it reports it (the failing example)."""

    __slots__ = ("inp",)

    def __init__(self, inp: Input) -> None:
        self.inp = inp

    def __repr__(self) -> str:
        return f"input: {self.inp}"


class ModelExploration(RuleBasedStateMachine):
    """Hypothesis drives the model; every rule is checked on every transition.

    Subclass and set ``checked_rules`` to check only some rules of the catalogue;
    override :meth:`on_configured` and :meth:`on_step` to watch a run (overriding the
    Hypothesis rules themselves would hide them from Hypothesis).
    """

    checked_rules: tuple[Rule, ...] | None = None

    def __init__(self) -> None:
        super().__init__()
        self.checker: Checker | None = None
        self.ctx = Context()
        self.steps = 0
        self.failed = False

    @initialize(config=st.sampled_from(CONFIGS))
    def configure(self, config: Config) -> None:
        self.checker = Checker(World.empty(config), rules=self.checked_rules)
        self.on_configured(config)

    @rule(action=st.sampled_from(TEMPLATES))
    def act(self, action: Any) -> None:
        assert self.checker is not None
        inp = action.resolve(self.checker.world, self.ctx)
        note(_Noted(inp))
        self.steps += 1
        seen = len(self.checker.history)
        try:
            self.checker.apply(inp, trusted=True)
        except BaseException:
            self.failed = True
            raise
        finally:
            self.on_step(self.checker.history[seen:])

    def on_configured(self, config: Config) -> None:
        """Called when an example starts, with its configuration."""

    def on_step(self, transitions: list[Transition]) -> None:
        """Called after each step with the transitions it caused (checked or not)."""

    def teardown(self) -> None:
        if self.checker is None or self.failed:  # a failed step leaves no world worth running on
            return
        while self.ctx.open_blocks:  # leaving every `with` block closes its session
            self.checker.apply(CloseSession(self.checker.world.now, self.ctx.open_blocks.pop()))
        self.checker.finish()
