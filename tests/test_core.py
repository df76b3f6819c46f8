"""One core, two modes: a long-running core that retires records makes the transitions of the
pure step function (which thaws a fresh core from each immutable world), holds the live
records and forgets the rest."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config
from sessionspec.model.core import Core
from sessionspec.model.deadlines import TIME_LIMIT, Deadlines
from sessionspec.model.idset import IdSet
from sessionspec.model.inputs import Input
from sessionspec.model.observations import Observation, Rejected
from sessionspec.model.records import Job
from sessionspec.model.step import Tick, next_deadline, step, transitions
from sessionspec.model.world import World


def check_same_world(core: Core, world: World) -> None:
    """The core holds the model's records, except retired ones that can change nothing."""
    held = core.freeze()
    assert core.job_ids is not None and core.session_ids is not None
    assert (held.now, type(held.now)) == (world.now, type(world.now))
    assert held.sessions == tuple(s for s in world.sessions if s.id in core.sessions)
    assert held.jobs == tuple(j for j in world.jobs if j.id in core.jobs)
    for job in world.jobs:
        assert job.id in core.job_ids
        if job.id not in core.jobs:  # retired: it ended, and so did its session with all its jobs
            assert JOB.is_final(job.state)
            assert job.session is None or job.session not in core.sessions
    for session in world.sessions:
        assert session.id in core.session_ids
        if session.id not in core.sessions:
            assert SESSION.is_final(session.state)
            assert all(JOB.is_final(j.state) for j in world.jobs_of(session.id))
    due = core.next_deadline()
    assert (due, type(due)) == (next_deadline(world), type(next_deadline(world)))


def compared(obs: Observation) -> tuple[Any, ...]:
    """An observation, without the reason of a refusal (a retired record's refusal says only
    that it ended, not how)."""
    return obs[:2] + obs[3:] if isinstance(obs, Rejected) else tuple(obs)


def retiring(config: Config) -> tuple[Core, list[Any]]:
    retired: list[Any] = []
    return Core(config, retire=retired.append), retired


@settings(max_examples=150)
@given(st.sampled_from(CONFIGS), st.lists(st.sampled_from(TEMPLATES), max_size=50))
def test_a_retiring_core_makes_the_transitions_of_the_step_function(
    config: Config, actions: list[Any]
) -> None:
    """Step for step, the same observations in the same order, the same records held, the same
    next deadline."""
    world, ctx = World.empty(config), Context()
    core, _ = retiring(config)
    for action in actions:
        inp: Input = action.resolve(world, ctx)
        for transition in transitions(world, inp, trusted=True):
            if isinstance(transition.cause, Tick):
                assert core.next_deadline() == transition.cause.t
                made = core.tick(transition.cause.t)
            else:
                made = core.apply(inp)
            assert [compared(o) for o in made] == [compared(o) for o in transition.observations]
            assert tuple(core.fired) == transition.fired
            core.commit()
            world = transition.after
        check_same_world(core, world)


def test_records_are_retired_once_they_can_change_nothing() -> None:
    """A plain job is forgotten once it ended; a session with its jobs once all of them ended."""
    from sessionspec.model.inputs import CancelSession, CreateSession, FinishJob, Submit

    core, retired = retiring(Config())
    for inp in (
        Submit(0, "j1", "qpu1"),
        FinishJob(1, "j1", "completed"),
        CreateSession(2, "s1", "qpu1"),
        Submit(2, "j2", "qpu1", session="s1"),
        CancelSession(3, "s1"),
    ):
        core.apply(inp)
        core.commit()
    assert [entry[0] for entry in retired] == ["job"]  # s1's job still runs: s1 is kept
    core.apply(FinishJob(4, "j2", "failed"))
    core.commit()
    assert [entry[0] for entry in retired] == ["job", "session"]
    assert not core.jobs and not core.sessions
    refusal = core.apply(Submit(5, "j1", "qpu1"))[0]
    assert isinstance(refusal, Rejected) and refusal.reason == "this job id is already in use"


@settings(max_examples=100)
@given(st.sampled_from(CONFIGS), st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=30))
def test_rollback_restores_the_world_before_the_transition(config: Config, actions: list[Any]) -> None:
    """Undoing the last transition gives back the model's world of the moment before it."""
    world, ctx = World.empty(config), Context()
    core, _ = retiring(config)
    for action in actions[:-1]:
        inp = action.resolve(world, ctx)
        for transition in transitions(world, inp, trusted=True):
            if isinstance(transition.cause, Tick):
                core.tick(transition.cause.t)
            else:
                core.apply(inp)
            core.commit()
        world = step(world, inp, trusted=True).world
    before = core.freeze()
    last = actions[-1].resolve(world, ctx)
    for transition in transitions(world, last, trusted=True):
        if isinstance(transition.cause, Tick):
            core.tick(transition.cause.t)
            core.commit()
            before = core.freeze()
    core.apply(last)
    core.rollback()
    assert core.freeze() == before


def test_thawing_and_freezing_keeps_every_record_object() -> None:
    """A world thawed into a core and frozen again, unchanged, is made of the very same records."""
    from sessionspec.model.inputs import CreateSession, Submit

    world = step(World.empty(), CreateSession(0, "s1", "qpu1")).world
    world = step(world, Submit(1, "j1", "qpu1", session="s1")).world
    again = Core.thaw(world).freeze()
    assert again == world
    assert all(a is b for a, b in zip(again.jobs + again.sessions, world.jobs + world.sessions, strict=True))


ids = st.one_of(
    st.integers(0, 20_000).map(lambda n: f"j{n}"),
    st.integers(0, 50).map(lambda n: f"s{n}"),
    st.sampled_from(["j01", "j", "7", "job-x", "j" + "9" * 25, "é3"]),
)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["add", "discard", "in"]), ids), max_size=60))
def test_id_set_behaves_as_a_set(operations: list[tuple[str, str]]) -> None:
    """Adding, discarding and asking give what a plain set gives."""
    compact, plain = IdSet(), set()
    for operation, value in operations:
        if operation == "add":
            assert compact.add(value) == (value not in plain)
            plain.add(value)
        elif operation == "discard":
            compact.discard(value)
            plain.discard(value)
        assert (value in compact) == (value in plain)
        assert len(compact) == len(plain)


def test_numbered_ids_cost_a_bit_each_and_full_chunks_nothing() -> None:
    """A hundred thousand numbered ids leave at most one partly used bitmap."""
    compact = IdSet()
    for n in range(1, 100_001):
        compact.add(f"j{n}")
    assert len(compact) == 100_000 and "j100000" in compact and "j100001" not in compact
    assert compact.memory_chunks() <= 2


def test_the_deadline_heap_stays_proportional_to_the_live_timers() -> None:
    """Timers that stopped are dropped from the heap; it never holds many more than run."""
    deadlines = Deadlines(interactive_ttl=60)
    running = []
    for n in range(20_000):
        job = Job(n, f"j{n}", "qpu1", None, "default", None, 0, 100)
        job.state = "running"
        deadlines.push(n + 100, TIME_LIMIT, job)
        running.append(job)
        if len(running) > 10:
            running.pop(0).state = "completed"
    assert len(deadlines) < 1_100
    assert deadlines.next_after(0) == 20_000 - 10 + 100  # the oldest of the ten still running
