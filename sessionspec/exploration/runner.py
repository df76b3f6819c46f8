"""Running the Hypothesis exploration as a job: statistics, coverage, verdict.

Every run is seeded, so a run (and a counterexample) can be replayed exactly. The
examples counted are those Hypothesis counts: a run it cuts short at its size limit is
replaced by another, and counted apart (``cut_short``), as are the runs that shrink a
failure (``shrink_runs``):

>>> report = explore(examples=3, steps=10, seed=7)
>>> report.verdict, report.examples, report.shrink_runs
('verified', 3, 0)
>>> report.steps == explore(examples=3, steps=10, seed=7).steps
True
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import StopTest
from hypothesis.stateful import get_state_machine_test

from sessionspec.exploration.stateful import CONFIGS, ModelExploration
from sessionspec.invariants import RULES, RuleViolation
from sessionspec.model.compiled import JOB, SESSION, declared_edges
from sessionspec.model.config import Config
from sessionspec.model.inputs import Input
from sessionspec.model.observations import JobChanged, SessionChanged
from sessionspec.model.step import Tick, Transition


@dataclass
class ExplorationReport:
    """What one exploration did and found."""

    seed: int
    # examples asked for; examples run to the end before any failure (Hypothesis's count);
    # runs Hypothesis cut short at its size limit and replaced; runs that shrank a failure
    asked: int = 0
    examples: int = 0
    cut_short: int = 0
    shrink_runs: int = 0
    steps: int = 0
    transitions: int = 0
    seconds: float = 0.0
    configs: Counter[int] = field(default_factory=Counter)
    edges: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    states: Counter[tuple[str, str]] = field(default_factory=Counter)
    verdict: str = "verified"
    # the configuration and inputs of the last example run: the shrunk one after a failure
    failing_config: Config | None = None
    failing_inputs: list[Input] = field(default_factory=list)
    violated_rules: tuple[str, ...] = ()
    counterexample: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    def unreached_edges(self) -> list[tuple[str, str, str, str]]:
        return [edge for edge in declared_edges() if edge not in self.edges]

    def unreached_states(self) -> list[tuple[str, str]]:
        declared = [("Session", s) for s in SESSION.states] + [("Job", s) for s in JOB.states]
        return [state for state in declared if state not in self.states]

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "randomized exploration (Hypothesis stateful testing)",
            "seed": self.seed,
            "verdict": self.verdict,
            "examples_asked": self.asked,
            "examples": self.examples,
            "runs_cut_short": self.cut_short,
            "shrink_runs": self.shrink_runs,
            "configs": [
                {"config": i, "description": config.describe(), "examples": self.configs[i]}
                for i, config in enumerate(CONFIGS)
            ],
            "steps": self.steps,
            "transitions": self.transitions,
            "seconds": round(self.seconds, 3),
            "steps_per_second": round(self.steps_per_second, 1),
            "rules_checked": [r.id for r in RULES.values()],
            "edges_reached": {" ".join(k): v for k, v in sorted(self.edges.items())},
            "edges_unreached": [" ".join(e) for e in self.unreached_edges()],
            "states_unreached": [" ".join(s) for s in self.unreached_states()],
            "violated_rules": list(self.violated_rules),
            "counterexample": self.counterexample,
            "error": self.error,
        }


def explore(
    examples: int = 300,
    steps: int = 50,
    seed: int = 0,
    progress: Callable[[ExplorationReport], None] | None = None,
) -> ExplorationReport:
    """Run the exploration with every rule; shrink and report the first failure."""
    report = ExplorationReport(seed=seed, asked=examples)
    last_progress = [time.perf_counter()]
    failed = [False]  # a failure was found: every run after it shrinks it

    class Recording(ModelExploration):
        def on_configured(self, config: Config) -> None:
            report.failing_config, report.failing_inputs = config, []

        def teardown(self) -> None:
            # Hypothesis stops a run that outgrows its size limit by raising StopTest
            # through the machine, and does not count it as an example; neither do we
            in_flight = sys.exc_info()[1]
            shrinking = failed[0]
            try:
                super().teardown()
            except BaseException:
                failed[0] = True
                raise
            finally:
                if in_flight is not None and not isinstance(in_flight, StopTest):
                    failed[0] = True
                _count_run(report, shrinking=shrinking, cut_short=isinstance(in_flight, StopTest))

        def on_step(self, transitions: list[Transition]) -> None:
            report.steps += 1
            if transitions:
                report.failing_inputs.append(
                    next(t.cause for t in transitions if not isinstance(t.cause, Tick))
                )
            _record(report, transitions)
            now = time.perf_counter()
            if progress is not None and now - last_progress[0] > 5.0:
                last_progress[0] = now
                report.seconds = now - started
                progress(report)

    hypothesis_settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
    )
    # Hypothesis keeps a private generator unless the test carries a seed: give it one,
    # so that the same --seed replays the same run exactly.
    test = get_state_machine_test(Recording, settings=hypothesis_settings)
    started = time.perf_counter()
    try:
        hypothesis.seed(seed)(test)()
    except RuleViolation as violation:
        report.verdict = "violated"
        report.violated_rules = violation.rules
        report.counterexample = _steps_of(violation)
    except Exception as crash:  # a crash of the model is a finding too, never a traceback
        report.verdict = "crashed"
        report.error = f"{type(crash).__name__}: {crash}"
        report.counterexample = _steps_of(crash)
    report.seconds = time.perf_counter() - started
    return report


def _count_run(report: ExplorationReport, *, shrinking: bool, cut_short: bool) -> None:
    if shrinking:
        report.shrink_runs += 1
    elif cut_short:
        report.cut_short += 1
    else:
        report.examples += 1
        if report.failing_config is not None:
            report.configs[CONFIGS.index(report.failing_config)] += 1


def _record(report: ExplorationReport, transitions: list[Transition]) -> None:
    """Count the declared edges taken and the states entered (as the observations say)."""
    report.transitions += len(transitions)
    for transition in transitions:
        report.edges.update(transition.fired)
        for obs in transition.observations:
            if isinstance(obs, JobChanged):
                report.states[("Job", obs.state)] += 1
            elif isinstance(obs, SessionChanged):
                report.states[("Session", obs.state)] += 1


def _steps_of(error: BaseException) -> list[str]:
    """The shrunk failing example as Hypothesis noted it, plus the failing transition."""
    lines = [line for note in getattr(error, "__notes__", []) for line in str(note).splitlines()]
    inputs = [line.removeprefix("input: ") for line in lines if line.startswith("input: ")]
    return [*inputs, str(error)]
