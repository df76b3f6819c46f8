"""The trace oracle: model traces conform; changed, missing or extra observations do not."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, resolve_program
from sessionspec.model.config import Config
from sessionspec.model.inputs import Advance, CreateSession, FinishJob, Input, Submit
from sessionspec.model.observations import JobChanged, Observation, SessionChanged
from sessionspec.model.step import Transition, step, transitions
from sessionspec.model.world import World
from sessionspec.mutants import MUTANTS
from sessionspec.oracle.reference import Divergence, Oracle, TraceDiverged, claimed_change, claimed_violations
from sessionspec.traces.records import Record, trace_of

EXAMPLE: list[Record] = [
    CreateSession(0, "s1", "qpu1"),
    SessionChanged(0, "s1", "pending", True),
    Submit(1, "j1", "qpu1", session="s1", max_execution_time=600),
    JobChanged(1, "j1", "queued"),
    JobChanged(1, "j1", "running"),
    SessionChanged(1, "s1", "active", True),
    FinishJob(11, "j1", "completed"),
    JobChanged(11, "j1", "completed"),
    SessionChanged(71, "s1", "inactive", True),
    Advance(80),
]


def judge(config: Config, records: list[Record]) -> Divergence | None:
    oracle = Oracle(config)
    try:
        for line, record in enumerate(records, start=2):
            oracle.feed(line, record)
    except TraceDiverged as diverged:
        return diverged.divergence
    return oracle.finish(len(records) + 1)


def _program(config: Config, actions: list[object]) -> list[Input]:
    return resolve_program(config, actions)[0]


def _shuffle_groups(records: list[Record], rng: random.Random) -> list[Record]:
    out: list[Record] = []
    group: list[Observation] = []
    for record in [*records, None]:
        if isinstance(record, JobChanged | SessionChanged) and (not group or group[0].t == record.t):
            group.append(record)
            continue
        rng.shuffle(group)
        out.extend(group)
        group = [record] if isinstance(record, JobChanged | SessionChanged) else []
        if record is not None and not group:
            out.append(record)
    return out


def test_protocol_example_conforms() -> None:
    """The example trace of protocol v1 section 1 is accepted."""
    assert judge(Config(interactive_ttl=60), EXAMPLE) is None


def test_missing_deactivation_is_reported_at_the_next_line() -> None:
    """A trace that omits the ITTL deactivation diverges, naming the deactivation rule."""
    records = [r for r in EXAMPLE if not (isinstance(r, SessionChanged) and r.state == "inactive")]
    divergence = judge(Config(interactive_ttl=60), records)
    assert divergence is not None
    assert divergence.rule == "SES-ITTL-DEACTIVATE"
    assert divergence.line == 10 and "t=71 session s1 -> inactive" in divergence.expected[0]


def test_early_deactivation_is_reported_where_it_appears() -> None:
    """Deactivating before the ITTL ran out is reported at that line, with the right rule."""
    records = [*EXAMPLE[:8], SessionChanged(50, "s1", "inactive", True), Advance(80)]
    divergence = judge(Config(interactive_ttl=60), records)
    assert divergence is not None and divergence.line == 10
    assert "nothing is due" in divergence.message


def test_plain_job_during_ittl_hold_names_the_hold_rule() -> None:
    """A plain job that starts while the session holds the backend breaks SES-ITTL-HOLD."""
    records: list[Record] = [
        *EXAMPLE[:8],
        Submit(20, "p1", "qpu1"),
        JobChanged(20, "p1", "queued"),
        JobChanged(20, "p1", "running"),
    ]
    divergence = judge(Config(interactive_ttl=60), records)
    assert divergence is not None
    assert (divergence.rule, divergence.line) == ("SES-ITTL-HOLD", 12)
    assert divergence.expected == ("t=20 job p1 -> queued",)


def test_trace_resolves_the_fair_share_choice() -> None:
    """Either waiting fair-share job may start; the trace's choice is followed."""
    for first, second in (("a", "b"), ("b", "a")):
        records: list[Record] = [
            Submit(0, "x", "qpu1"),
            JobChanged(0, "x", "queued"),
            JobChanged(0, "x", "running"),
            Submit(1, "a", "qpu1", instance="one"),
            JobChanged(1, "a", "queued"),
            Submit(2, "b", "qpu1", instance="two"),
            JobChanged(2, "b", "queued"),
            FinishJob(5, "x", "completed"),
            JobChanged(5, "x", "completed"),
            JobChanged(5, first, "running"),
            FinishJob(6, first, "completed"),
            JobChanged(6, first, "completed"),
            JobChanged(6, second, "running"),
        ]
        assert judge(Config(), records) is None


@settings(max_examples=80)
@given(
    config=st.sampled_from(CONFIGS),
    actions=st.lists(st.sampled_from(TEMPLATES), max_size=40),
    seed=st.integers(0, 2**16),
)
def test_model_traces_conform_in_any_group_order(config: Config, actions: list[object], seed: int) -> None:
    """Every trace the model writes conforms, with observations shuffled within their groups."""
    records = list(trace_of(World.empty(config), _program(config, actions)))
    assert judge(config, _shuffle_groups(records, random.Random(seed))) is None


@pytest.mark.parametrize("name", sorted(set(MUTANTS) - {"canceled-jobs-forgotten"}))
def test_traces_of_mutants_do_not_conform(name: str) -> None:
    """A trace written by a broken model is caught (the lost-record mutant shows in no trace)."""
    rng = random.Random(name)
    for _ in range(400):
        config = rng.choice(CONFIGS)
        actions = [rng.choice(TEMPLATES) for _ in range(40)]
        broken = MUTANTS[name].config(config)
        try:
            records = list(trace_of(World.empty(broken), _program(broken, actions)))
        except Exception:  # the mutant broke its own run; try another program
            continue
        if judge(config, records) is not None:
            return
    pytest.fail(f"no trace of mutant {name} was caught")


def test_claims_of_a_correct_activation_break_no_rule() -> None:
    """A session's max TTL, which no trace line reports, is not blamed when the claims activate it."""
    world = step(World.empty(Config()), CreateSession(0, "s1", "qpu1", max_time=5)).world
    transition = transitions_of(world, Submit(1, "j1", "qpu1", "s1"))[-1]
    assert any(isinstance(o, SessionChanged) and o.state == "active" for o in transition.observations)
    assert claimed_violations(transition, transition.observations) == []
    claimed = claimed_change(transition, transition.observations).after.session("s1")
    assert claimed is not None and claimed.max_ttl == 5


def test_claims_name_a_wrong_activation_by_its_rule() -> None:
    """A claimed activation of a session whose job is not running is blamed on a rule, not let pass."""
    world = step(World.empty(Config()), CreateSession(0, "s1", "qpu1")).world
    transition = transitions_of(world, Advance(1))[-1]
    wrong = [SessionChanged(1, "s1", "active", True)]
    assert claimed_violations(transition, wrong) != []


def transitions_of(world: World, inp: Input) -> list[Transition]:
    return list(transitions(world, inp))
