"""The model under randomized exploration: every rule on every transition, long runs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sessionspec.exploration.runner import explore
from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, ModelExploration
from sessionspec.model.config import Config
from sessionspec.model.step import Transition

REQUIRED_EXAMPLES, REQUIRED_STEPS = 200, 50


def test_model_keeps_every_rule_over_long_interleavings() -> None:
    """At least 200 examples of at least 50 steps each run with no rule violated."""
    lengths: list[int] = []

    class Counting(ModelExploration):
        def on_configured(self, config: Config) -> None:
            lengths.append(0)

        def on_step(self, transitions: list[Transition]) -> None:
            lengths[-1] += 1

    run_state_machine_as_test(
        Counting,
        settings=settings(
            max_examples=260,
            stateful_step_count=60,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.generate, Phase.shrink),
        ),
    )
    long_runs = [n for n in lengths if n >= REQUIRED_STEPS]
    assert len(long_runs) >= REQUIRED_EXAMPLES, f"only {len(long_runs)} runs of {REQUIRED_STEPS}+ steps"


def test_exploration_reaches_every_config_and_most_edges() -> None:
    """A default-sized exploration uses every configuration and all but deep edges."""
    report = explore(examples=150, steps=50, seed=3)
    assert report.verdict == "verified", report.counterexample
    assert sorted(report.configs) == list(range(len(CONFIGS)))
    assert report.unreached_states() == []
    assert len(report.unreached_edges()) <= 3, report.unreached_edges()


def test_exploration_is_replayable_from_its_seed() -> None:
    """Two explorations with one seed take exactly the same steps and transitions."""
    first, second = explore(examples=20, steps=30, seed=11), explore(examples=20, steps=30, seed=11)
    assert (first.steps, first.transitions, first.edges) == (second.steps, second.transitions, second.edges)


def test_templates_are_distinct_and_simplest_first() -> None:
    """Action templates are unique, and the first (what shrinking aims for) only waits."""
    assert len({(type(t), t) for t in TEMPLATES}) == len(TEMPLATES)
    assert type(TEMPLATES[0]).__name__ == "Wait"


@pytest.mark.slow
def test_long_exploration_finds_nothing_and_reaches_every_edge() -> None:
    """A long exploration (5,000 examples) holds every rule and takes every declared edge."""
    report = explore(examples=5000, steps=60, seed=2024)
    assert report.verdict == "verified", report.counterexample
    assert report.unreached_edges() == []
