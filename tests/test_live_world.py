"""The live world makes the model's transitions, holds its live records, and forgets the rest."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config
from sessionspec.model.idset import IdSet
from sessionspec.model.inputs import Input
from sessionspec.model.live import Key, LiveWorld
from sessionspec.model.live_deadlines import TIME_LIMIT, Deadlines
from sessionspec.model.live_records import LiveJob
from sessionspec.model.observations import JobChanged, Observation, SessionChanged
from sessionspec.model.step import Tick, step, transitions
from sessionspec.model.timers import next_deadline
from sessionspec.model.world import World


def keys(observations: tuple[Observation, ...]) -> Counter[Key]:
    """The live world's keys of the model's observations."""
    out: Counter[Key] = Counter()
    for obs in observations:
        if isinstance(obs, JobChanged):
            out[(obs.job, obs.state)] += 1
        elif isinstance(obs, SessionChanged):
            out[(obs.session, obs.state, obs.accepting)] += 1
        else:
            out[(obs.op,)] += 1
    return out


def started(observations: tuple[Observation, ...]) -> set[str]:
    return {o.job for o in observations if isinstance(o, JobChanged) and o.state == "running"}


def check_same_world(live: LiveWorld, world: World) -> None:
    """The live world holds the model's records, except retired ones that can change nothing."""
    held = live.world()
    assert (held.now, type(held.now)) == (world.now, type(world.now))
    assert held.sessions == tuple(s for s in world.sessions if s.id in live.sessions)
    assert held.jobs == tuple(j for j in world.jobs if j.id in live.jobs)
    for job in world.jobs:
        assert job.id in live.job_ids
        if job.id not in live.jobs:  # retired: it ended, and so did its session with all its jobs
            assert JOB.is_final(job.state)
            assert job.session is None or job.session not in live.sessions
    for session in world.sessions:
        assert session.id in live.session_ids
        if session.id not in live.sessions:
            assert SESSION.is_final(session.state)
            assert all(JOB.is_final(j.state) for j in world.jobs_of(session.id))
    due = live.next_deadline()
    assert (due, type(due)) == (next_deadline(world), type(next_deadline(world)))


@settings(max_examples=150)
@given(st.sampled_from(CONFIGS), st.lists(st.sampled_from(TEMPLATES), max_size=50))
def test_live_world_makes_the_model_transitions(config: Config, actions: list[Any]) -> None:
    """Step for step, the same observations, the same records held, the same next deadline."""
    world, ctx, live = World.empty(config), Context(), LiveWorld(config)
    for action in actions:
        inp: Input = action.resolve(world, ctx)
        for transition in transitions(world, inp, trusted=True):
            chosen = started(transition.observations)
            if isinstance(transition.cause, Tick):
                assert live.next_deadline() == transition.cause.t
                made = live.tick(transition.cause.t, chosen)
            else:
                made = live.apply(inp, chosen)
            assert Counter(made) == keys(transition.observations)
            live.commit()
            world = transition.after
        check_same_world(live, world)


@settings(max_examples=100)
@given(st.sampled_from(CONFIGS), st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=30))
def test_rollback_restores_the_world_before_the_transition(config: Config, actions: list[Any]) -> None:
    """Undoing the last transition gives back the model's world of the moment before it."""
    world, ctx, live = World.empty(config), Context(), LiveWorld(config)
    for action in actions[:-1]:
        inp = action.resolve(world, ctx)
        for transition in transitions(world, inp, trusted=True):
            if isinstance(transition.cause, Tick):
                live.tick(transition.cause.t, started(transition.observations))
            else:
                live.apply(inp, started(transition.observations))
            live.commit()
        world = step(world, inp, trusted=True).world
    before = live.world()
    last = actions[-1].resolve(world, ctx)
    last_transition = list(transitions(world, last, trusted=True))[-1]
    for transition in transitions(world, last, trusted=True):
        if isinstance(transition.cause, Tick):
            live.tick(transition.cause.t, started(transition.observations))
            live.commit()
            before = live.world()
    live.apply(last, started(last_transition.observations))
    live.rollback()
    assert live.world() == before


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
        job = LiveJob(n, f"j{n}", "qpu1", None, "default", None, 0, 100)
        job.state = "running"
        deadlines.push(n + 100, TIME_LIMIT, job)
        running.append(job)
        if len(running) > 10:
            running.pop(0).state = "completed"
    assert len(deadlines) < 1_100
    assert deadlines.next_after(0) == 20_000 - 10 + 100  # the oldest of the ten still running
