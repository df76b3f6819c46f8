"""The rule catalogue: every documented rule as a named, checkable object.

A rule has a short stable ID, one sentence in our words, its source (a seed file
and section, or a decision of ``docs/decisions.md``), a kind, and a check. Checks
are generators of violation messages: they yield nothing when the rule holds.

Three kinds of rule exist:

* a **state invariant** looks at one world (after every transition);
* a **step property** looks at one transition: (before, cause, after, observations);
* an **eventual property** looks at the world once time has run out of deadlines.

Rules register themselves with the decorators below, for example::

    @state_rule("EXC-ONE-RUNNING", "A physical backend runs at most one job at a time.",
                source="QUEUE 'How session jobs fit into the job queue'")
    def one_running(view: View) -> Iterator[str]:
        for backend, jobs in view.running.items():
            if len(jobs) > 1:
                yield f"{backend} runs {len(jobs)} jobs"
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sessionspec.invariants.view import View
from sessionspec.model.errors import SessionSpecError
from sessionspec.model.step import Transition


class Kind(enum.Enum):
    STATE = "state invariant"
    STEP = "step property"
    EVENTUAL = "eventual property"


StateCheck = Callable[[View], Iterator[str]]
StepCheck = Callable[[Transition, View, View], Iterator[str]]


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    id: str
    statement: str
    source: str
    kind: Kind
    check: Callable[..., Iterator[str]]
    decisions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "kind": self.kind.value,
            "decisions": list(self.decisions),
        }


@dataclass(frozen=True)
class Violation:
    """A rule that did not hold, where, and why."""

    rule: str
    t: Any
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] at t={self.t}: {self.message}"


class RuleViolation(SessionSpecError, AssertionError):
    """Raised by a checker: carries every violation of the failing transition."""

    def __init__(self, violations: tuple[Violation, ...], context: str = "") -> None:
        self.violations = violations
        self.rules = tuple(dict.fromkeys(v.rule for v in violations))
        self.context = context
        lines = [str(v) for v in violations]
        if context:
            lines.append(context)
        super().__init__("\n".join(lines))


RULES: dict[str, Rule] = {}


class RulesByKind:
    """Some rules of the catalogue (all by default), split by kind, in catalogue order."""

    def __init__(self, rules: Iterable[Rule] | None = None) -> None:
        self.chosen = list(RULES.values() if rules is None else rules)
        self.state_rules = [r for r in self.chosen if r.kind is Kind.STATE]
        self.step_rules = [r for r in self.chosen if r.kind is Kind.STEP]
        self.eventual_rules = [r for r in self.chosen if r.kind is Kind.EVENTUAL]


_ID = re.compile(r"^[A-Z]{3,}(-[A-Z0-9]+)+$")


def _register(rule: Rule) -> None:
    if not _ID.match(rule.id):
        raise ValueError(f"rule id {rule.id!r} must look like 'SES-TTL-START' (upper case, dashes)")
    if rule.id in RULES:
        raise ValueError(f"rule id {rule.id!r} is registered twice; pick a new, unique id")
    if not rule.statement.endswith("."):
        raise ValueError(f"rule {rule.id}: state it as one sentence ending with a period")
    RULES[rule.id] = rule


def _decorator(
    kind: Kind, rule_id: str, statement: str, source: str, decisions: tuple[str, ...]
) -> Callable[[Callable[..., Iterator[str]]], Callable[..., Iterator[str]]]:
    def register(check: Callable[..., Iterator[str]]) -> Callable[..., Iterator[str]]:
        _register(Rule(rule_id, statement, source, kind, check, decisions))
        return check

    return register


def state_rule(
    rule_id: str, statement: str, *, source: str, decisions: tuple[str, ...] = ()
) -> Callable[[StateCheck], StateCheck]:
    """Register a state invariant: ``check(view)`` yields what is wrong with a world."""
    return _decorator(Kind.STATE, rule_id, statement, source, decisions)


def step_rule(
    rule_id: str, statement: str, *, source: str, decisions: tuple[str, ...] = ()
) -> Callable[[StepCheck], StepCheck]:
    """Register a step property: ``check(transition, before, after)`` yields violations."""
    return _decorator(Kind.STEP, rule_id, statement, source, decisions)


def eventual_rule(
    rule_id: str, statement: str, *, source: str, decisions: tuple[str, ...] = ()
) -> Callable[[StateCheck], StateCheck]:
    """Register an eventual property: ``check(view)`` of a world with no deadline left."""
    return _decorator(Kind.EVENTUAL, rule_id, statement, source, decisions)
