"""Running the catalogue: every state and step rule on every transition.

>>> from sessionspec.model.world import World
>>> from sessionspec.model.inputs import CreateSession, Submit
>>> checker = Checker(World.empty())
>>> world = checker.apply(CreateSession(0, "s1", "qpu1"))
>>> world = checker.apply(Submit(1, "j1", "qpu1", session="s1"))
>>> checker.transitions_checked, checker.finish().now > 1
(2, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sessionspec.invariants.catalogue import Rule, RulesByKind, RuleViolation, Violation
from sessionspec.invariants.view import View
from sessionspec.model.inputs import Advance
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.step import Transition, next_deadline, transitions
from sessionspec.model.world import World


class Checker(RulesByKind):
    """Feeds inputs to the model and checks every rule on every transition.

    Raises :class:`~sessionspec.invariants.catalogue.RuleViolation` at the first transition
    that breaks any rule, with every rule that transition breaks.
    """

    def __init__(
        self,
        world: World,
        policy: Policy = REFERENCE_POLICY,
        rules: Iterable[Rule] | None = None,
    ) -> None:
        super().__init__(rules)
        self.policy = policy
        self.world = world
        self.view = View(world)
        self.transitions_checked = 0
        self.history: list[Transition] = []

    def apply(self, inp: object, *, trusted: bool = False) -> World:
        """Apply one input, checking each of its transitions; return the new world.

        ``inp`` is typed ``object``: anything else than an input is refused by the model with an
        :class:`~sessionspec.model.errors.InvalidInput` (a compiled checker would otherwise
        refuse it with a bare TypeError first)."""
        given: Any = inp  # (not a cast: a compiled cast checks the type at run time)
        for transition in transitions(self.world, given, self.policy, trusted=trusted):
            self.check(transition)
        return self.world

    def check(self, transition: Transition) -> None:
        after = View(transition.after, self.view)
        # A world that is the very object already checked (a refusal at the same instant)
        # cannot break a state invariant it kept; the step rules still judge the step.
        unchanged = transition.after is self.view.world
        state_rules = () if unchanged else self.state_rules
        violations = violations_of(transition, self.view, after, state_rules, self.step_rules)
        self.history.append(transition)
        self.world, self.view = transition.after, after
        self.transitions_checked += 1
        if violations:
            raise RuleViolation(tuple(violations), describe(transition))

    def finish(self, limit: int = 10_000) -> World:
        """Let time run until no deadline is left, then check the eventual properties."""
        for _ in range(limit):
            due = next_deadline(self.world)
            if due is None:
                break
            self.apply(Advance(due), trusted=True)
        violations = [
            Violation(rule.id, self.world.now, message)
            for rule in self.eventual_rules
            for message in rule.check(self.view)
        ]
        if violations:
            raise RuleViolation(tuple(violations), "after time ran out of deadlines")
        return self.world


def violations_of(
    transition: Transition,
    before: View,
    after: View,
    state_rules: Iterable[Rule],
    step_rules: Iterable[Rule],
) -> list[Violation]:
    """Every violation of the given rules in one transition."""
    t = transition.after.now
    found = [Violation(r.id, t, m) for r in state_rules for m in r.check(after)]
    found += [Violation(r.id, t, m) for r in step_rules for m in r.check(transition, before, after)]
    return found


def describe(transition: Transition) -> str:
    """One readable line of a transition: time, cause and what was observed."""
    cause: Any = transition.cause
    seen = "; ".join(_brief(o.to_dict()) for o in transition.observations) or "nothing observed"
    fields = ", ".join(f"{k}={v}" for k, v in cause._asdict().items() if k != "t" and v is not None)
    return f"t={transition.after.now} {cause.op}({fields}) -> {seen}"


def _brief(record: dict[str, Any]) -> str:
    rest = {k: v for k, v in record.items() if k not in ("t", "event")}
    return f"{record['event']} " + " ".join(f"{k}={v}" for k, v in rest.items())
