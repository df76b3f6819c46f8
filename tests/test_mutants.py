"""Every rule can fail: each mutant of the model is caught by its own rule, alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sessionspec.exploration.stateful import ModelExploration
from sessionspec.invariants import RULES, RuleViolation
from sessionspec.mutants import MUTANTS, Mutant

MUTANT_SEARCH = settings(
    max_examples=3000,
    stateful_step_count=50,
    derandomize=True,
    database=None,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.generate, Phase.shrink),  # the explain phase traces lines and is slow
)
LONGEST_SHRUNK_COUNTEREXAMPLE = 12
# Pairs whose shortest counterexample is long and whose shrinking can stall in a local minimum:
# reactivation past the real max TTL needs a session started, its job finished, the session
# deactivated, its real max TTL passed and a new job submitted (about 7 steps shrunk at best).
LONGER_ALLOWED = {("ttl-ignores-first-job", "SES-REACTIVATE-BEFORE-MAX"): 25}


def test_every_rule_has_a_mutant() -> None:
    """No rule of the catalogue is left without a broken model that should break it."""
    targeted = {rule for m in MUTANTS.values() for rule in m.rules}
    assert sorted(set(RULES) - targeted) == []
    assert sorted(targeted - set(RULES)) == []


def _hunt(mutant: Mutant, rule: str) -> tuple[RuleViolation, int]:
    """Explore the mutant with only ``rule`` enabled; return the failure and its length."""
    runs: list[ModelExploration] = []

    class OnlyItsRule(ModelExploration):
        checked_rules = (RULES[rule],)

        def __init__(self) -> None:
            super().__init__()
            runs.append(self)

    OnlyItsRule.variant = mutant.variant  # (set outside the class body, which seeds the search)
    with pytest.raises(RuleViolation) as caught:
        run_state_machine_as_test(OnlyItsRule, settings=MUTANT_SEARCH)
    return caught.value, runs[-1].steps


@pytest.mark.parametrize(("name", "rule"), [(m.name, rule) for m in MUTANTS.values() for rule in m.rules])
def test_mutant_is_caught_by_its_rule_and_shrunk(name: str, rule: str) -> None:
    """The rule alone detects the mutant, and the counterexample shrinks to a few steps."""
    violation, steps = _hunt(MUTANTS[name], rule)
    assert violation.rules == (rule,)
    longest = LONGER_ALLOWED.get((name, rule), LONGEST_SHRUNK_COUNTEREXAMPLE)
    assert steps <= longest, f"{name}: shrunk only to {steps} steps"


def test_mutants_leave_the_reference_alone() -> None:
    """A mutant is a variant of the configuration: the default configuration stays the reference."""
    from sessionspec.model.config import Config
    from sessionspec.model.variant import REFERENCE

    assert Config().variant is REFERENCE
    for mutant in MUTANTS.values():
        assert mutant.variant != REFERENCE and mutant.variant.departures()
        assert mutant.config().variant == mutant.variant
    assert len({m.variant for m in MUTANTS.values()}) == len(MUTANTS), "each mutant is its own bug"


def test_every_knob_of_the_variant_is_some_bug() -> None:
    """Each knob of the core's Variant is set otherwise by a mutant or a faulty implementation,
    whose tests show the rules catch it: no knob is dead code, or untested."""
    import dataclasses

    from sessionspec.model.variant import Variant
    from tests.faulty import RULE_BREAKERS

    set_otherwise = {
        departure.split("=")[0]
        for bug in (*MUTANTS.values(), *RULE_BREAKERS.values())
        for departure in bug.variant.departures()
    }
    assert sorted({f.name for f in dataclasses.fields(Variant)} - set_otherwise) == []
