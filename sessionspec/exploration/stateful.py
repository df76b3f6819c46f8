"""Randomized exploration of the model with Hypothesis.

:class:`ModelExploration` is a ``RuleBasedStateMachine``: each step draws one
*action template* and resolves it against the current world into a concrete input
(which session, which job, which instant), feeds it to the model, and checks every
rule of the catalogue on every transition it causes. At teardown, time runs on
until no deadline is left and the eventual properties are checked.

A step draws a *kind* of action by its weight (:data:`KINDS`: waits, plain jobs, sessions,
job ends, cancels, ...), then one template of that kind, so that no kind crowds out the
rest; kinds and templates are ordered from simple to elaborate, so shrinking moves a
failure towards simple actions. :data:`STORIES` are short sequences users make all the
time (a session's job ends and the session holds its backend, a waiting job is canceled);
the generated phase of ``sessionspec conform`` mixes them into its programs.

Run it like any Hypothesis state machine::

    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(ModelExploration, settings=settings(max_examples=50))
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
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
from sessionspec.model.step import Transition, next_deadline, step
from sessionspec.model.variant import REFERENCE, Variant
from sessionspec.model.world import World

BACKENDS = ("qpu1", "qpu2")
INSTANCES = ("lab-a", "lab-b", "lab-c")
DEFAULT_INSTANCE = "default"  # the instance of a submission that names none
# A template's backend "busy" is where things happen: the backend of the newest live session or
# unfinished job, so that jobs and sessions meet there (another user's job beside a session).
BUSY = "busy"

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
        interactive_ttl=30,
        job_time_cap=60,
        reservations=(
            Reservation("qpu1", "lab-b", 20, 45),
            Reservation("qpu2", "lab-a", 30, 50),
            Reservation("qpu1", "lab-b", 70, 200),
        ),
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
    # The protocol's defaults (no backend listed, so every backend is physical; ITTL 60, max
    # TTL 28800, job cap 10800), with windows for the default instance that keep opening while
    # sessions hold the backend between jobs, and a pending timeout.
    Config(
        reservations=(
            Reservation("qpu1", "default", 15, 30),
            Reservation("qpu2", "default", 40, 55),
            Reservation("qpu1", "default", 75, 90),
            Reservation("qpu2", "lab-a", 100, 130),
            Reservation("qpu1", "default", 135, 150),
        ),
        pending_timeout=120,
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


def _where(world: World, backend: str) -> str:
    if backend != BUSY:
        return backend
    for job in reversed(world.jobs):
        if job.unfinished:
            return job.backend
    for session in reversed(world.sessions):
        if session.live:
            return session.backend
    return BACKENDS[0]


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
            world.now, next(ctx.job_ids), _where(world, self.backend), instance=self.instance,
            max_execution_time=self.max_execution_time,
        )  # fmt: skip


class StartSession(NamedTuple):
    """A job that opens a new session (the jobs API's ``start_session``)."""

    backend: str
    instance: str
    max_execution_time: int | None

    def resolve(self, world: World, ctx: Context) -> Input:
        return Submit(
            world.now, next(ctx.job_ids), _where(world, self.backend), session=next(ctx.session_ids),
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
        return CreateSession(world.now, session, _where(world, self.backend), self.max_time)


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


def _windows_ahead(world: World) -> list[Reservation]:
    """Reservation windows not yet over, in the order they open."""
    return sorted((r for r in world.config.reservations if r.end > world.now), key=lambda r: r.start)


class SubmitReserved(NamedTuple):
    """A plain job of a reserving instance on its backend, for the window open now or one to come.

    With ``beside``, the window is one on the busy backend if it has any (see ``BUSY``).
    """

    slot: int
    max_execution_time: int | None
    beside: bool = False

    def resolve(self, world: World, ctx: Context) -> Input:
        windows = _windows_ahead(world)
        if self.beside:
            busy = _where(world, BUSY)
            windows = [w for w in windows if w.backend == busy] or windows
        if not windows:
            return SubmitPlain(BACKENDS[0], DEFAULT_INSTANCE, self.max_execution_time).resolve(world, ctx)
        window = windows[self.slot % len(windows)]
        return SubmitPlain(window.backend, window.instance, self.max_execution_time).resolve(world, ctx)


class WaitForWindow(NamedTuple):
    """Let time run to just before, exactly onto, or just past the next opening or closing of a window."""

    offset: int

    def resolve(self, world: World, ctx: Context) -> Input:
        edges = [
            t for r in world.config.reservations for t in (r.start, r.end) if t + self.offset > world.now
        ]
        if not edges:
            return Advance(world.now + 1)
        return Advance(min(edges) + self.offset)


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
    for backend, max_time, block in itertools.product((*BACKENDS, BUSY), (None, 45, 1000), (False, True)):
        yield OpenSession(backend, max_time, block)
    yield OpenSession("sim", None, False)
    yield ExitBlock()
    for cancel, slot, at in itertools.product((False, True), (0, 1, 2), (False, True)):
        yield SessionCall(cancel, slot, at)
    # Reservation windows, the default instance, simulators, and a max_time beyond the system limit.
    yield from (WaitForWindow(o) for o in (0, -1, 1))
    for slot, met, beside in itertools.product((0, 1), (None, 20), (True, False)):
        yield SubmitReserved(slot, met, beside)
    for backend, met in itertools.product((*BACKENDS, "sim"), (None, 25)):
        yield SubmitPlain(backend, DEFAULT_INSTANCE, met)
        yield StartSession(backend, DEFAULT_INSTANCE, met)
    yield SubmitPlain("sim", INSTANCES[1], 20)
    for instance, met in itertools.product((INSTANCES[0], DEFAULT_INSTANCE), (None, 25)):
        yield SubmitPlain(BUSY, instance, met)
        yield StartSession(BUSY, instance, met)


TEMPLATES = tuple(_templates())

# The templates by what they do, simplest first: drawing a kind first and then one of its
# templates keeps the many variants of one kind (submissions, say) from crowding out the rest.
KINDS: dict[str, tuple[int, Callable[[Any], bool]]] = {
    "waits": (2, lambda t: isinstance(t, Wait)),
    "waits for a deadline": (2, lambda t: isinstance(t, WaitForDeadline)),
    "waits for a window": (1, lambda t: isinstance(t, WaitForWindow)),
    "plain jobs": (2, lambda t: isinstance(t, SubmitPlain) and t.backend != "sim"),
    "simulator requests": (
        1,
        lambda t: isinstance(t, SubmitPlain | StartSession | OpenSession) and t.backend == "sim",
    ),
    "reservation jobs": (1, lambda t: isinstance(t, SubmitReserved)),
    "jobs that start a session": (2, lambda t: isinstance(t, StartSession) and t.backend != "sim"),
    "sessions created": (2, lambda t: isinstance(t, OpenSession) and t.backend != "sim"),
    "jobs into a session": (2, lambda t: isinstance(t, SubmitToSession)),
    "job ends": (2, lambda t: isinstance(t, JobCall) and t.what != "cancel"),
    "queued jobs canceled": (
        1,
        lambda t: isinstance(t, JobCall) and t.what == "cancel" and t.pick == "queued",
    ),
    "other jobs canceled": (
        1,
        lambda t: isinstance(t, JobCall) and t.what == "cancel" and t.pick != "queued",
    ),
    "sessions closed": (
        1,
        lambda t: isinstance(t, ExitBlock) or (isinstance(t, SessionCall) and not t.cancel),
    ),
    "sessions canceled": (1, lambda t: isinstance(t, SessionCall) and t.cancel),
}
_OF_KIND = {
    name: st.sampled_from([t for t in TEMPLATES if belongs(t)]) for name, (_, belongs) in KINDS.items()
}
_KIND = st.sampled_from([name for name, (weight, _) in KINDS.items() for _ in range(weight)])


@st.composite
def _action(draw: st.DrawFn) -> Any:
    return draw(_OF_KIND[draw(_KIND)])


ACTIONS = _action()
"""One action template: a kind of action drawn by its weight, then one template of that kind."""

# Short sequences users make all the time, a template of each kind in turn: a session's job
# runs and ends, so the session holds its backend (and another user's reservation job arrives
# meanwhile); a session is created and given a job; a job waits and is canceled; a session
# with work queued is canceled, or closed and its waiting job canceled; a simulator is used.
STORIES = (
    ("jobs that start a session", "job ends"),
    ("jobs that start a session", "job ends", "reservation jobs"),
    ("sessions created", "jobs into a session"),
    ("jobs into a session", "queued jobs canceled"),
    ("jobs that start a session", "jobs into a session", "sessions canceled"),
    ("jobs into a session", "sessions closed", "queued jobs canceled"),
    ("simulator requests", "simulator requests"),
)
STORY = st.one_of(*(st.tuples(*(_OF_KIND[kind] for kind in story)).map(list) for story in STORIES))
"""The templates of one story of :data:`STORIES`."""


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
    # the reading of the rules explored (a broken one, to show that a rule catches it)
    variant: Variant = REFERENCE

    def __init__(self) -> None:
        super().__init__()
        self.checker: Checker | None = None
        self.ctx = Context()
        self.steps = 0
        self.failed = False

    @initialize(config=st.sampled_from(CONFIGS))
    def configure(self, config: Config) -> None:
        self.checker = Checker(World.empty(config._replace(variant=self.variant)), rules=self.checked_rules)
        self.on_configured(config)

    @rule(action=ACTIONS)
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
