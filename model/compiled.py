"""Lookup tables compiled from the declared machines at import time.

The scheduler core fires events through these tables instead of instantiating a
python-statemachine object per job (which would be far too slow for exhaustive
exploration). The tables are derived, never typed in: states, edges, events and
guards all come from :mod:`sessionspec.model.declarations`.

>>> SESSION.fire("active", "max_timeout", None)
'expired'
>>> sorted(JOB.finals)
['canceled', 'completed', 'failed']
>>> JOB.fire("completed", "cancel", None)
Traceback (most recent call last):
...
sessionspec.model.errors.UndeclaredTransition: Job has no 'cancel' transition out of 'completed'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statemachine import StateMachine

from sessionspec.model.declarations import Job, Session
from sessionspec.model.errors import UndeclaredTransition


@dataclass(frozen=True)
class Guard:
    """One guard of an edge: the predicate must return ``expected``."""

    name: str
    expected: bool
    predicate: Callable[[Any], bool] = field(compare=False, repr=False)

    def label(self) -> str:
        return self.name if self.expected else f"not {self.name}"


@dataclass(frozen=True)
class Edge:
    """One declared transition: ``source --event [guards]--> target``."""

    source: str
    target: str
    event: str
    guards: tuple[Guard, ...]
    internal: bool

    def enabled(self, facts: Any) -> bool:
        # A loop, not all() over a generator: this runs on every transition of every record.
        for guard in self.guards:  # noqa: SIM110
            if guard.predicate(facts) is not guard.expected:
                return False
        return True


@dataclass(frozen=True)
class MachineTable:
    """The graph of one declared machine, as plain immutable data."""

    name: str
    states: tuple[str, ...]
    initial: str
    finals: frozenset[str]
    edges: tuple[Edge, ...]
    events: tuple[str, ...]
    _by_source_event: dict[tuple[str, str], tuple[Edge, ...]] = field(compare=False, repr=False)
    _pairs: frozenset[tuple[str, str]] = field(compare=False, repr=False)

    def fire(self, state: str, event: str, facts: Any) -> str:
        """Return the target of the first enabled ``event`` edge out of ``state``.

        Edges are tried in declaration order, as python-statemachine does. Raises
        :class:`~sessionspec.model.errors.UndeclaredTransition` when no edge is enabled: the
        core must never ask for a change the declarations do not allow.
        """
        for edge in self._by_source_event.get((state, event), ()):
            if not edge.guards or edge.enabled(facts):
                return edge.target
        raise UndeclaredTransition(self.name, state, event)

    def connects(self, source: str, target: str) -> bool:
        """Is there any declared edge from ``source`` to ``target``?"""
        return (source, target) in self._pairs

    def is_final(self, state: str) -> bool:
        return state in self.finals


def compile_machine(machine: type[StateMachine]) -> MachineTable:
    """Read states, edges and guards off a declared machine class."""
    states = tuple(str(s.value) for s in machine.states)
    initial_state = machine.initial_state
    if initial_state is None:  # pragma: no cover - the library refuses this at class creation
        raise TypeError(f"{machine.__name__} declares no initial state")
    edges: list[Edge] = []
    for state in machine.states:
        for transition in state.transitions:
            target = transition.target
            if target is None:  # pragma: no cover - targetless edges are not used here
                raise TypeError(f"{machine.__name__}: transitions need a target")
            guards = tuple(
                Guard(spec.attr_name, spec.expected_value, getattr(machine, spec.attr_name))
                for spec in transition.cond
            )
            for event in transition.events:
                edges.append(
                    Edge(
                        source=str(state.value),
                        target=str(target.value),
                        event=str(event.id),
                        guards=guards,
                        internal=bool(transition.internal),
                    )
                )
    by_source_event: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        by_source_event.setdefault((edge.source, edge.event), []).append(edge)
    return MachineTable(
        name=machine.__name__,
        states=states,
        initial=str(initial_state.value),
        finals=frozenset(str(s.value) for s in machine.final_states),
        edges=tuple(edges),
        events=tuple(dict.fromkeys(e.event for e in edges)),
        _by_source_event={k: tuple(v) for k, v in by_source_event.items()},
        _pairs=frozenset((e.source, e.target) for e in edges),
    )


SESSION = compile_machine(Session)
JOB = compile_machine(Job)


def declared_edges() -> list[tuple[str, str, str, str]]:
    """Every declared edge of both machines as ``(machine, source, event, target)``, as
    :attr:`sessionspec.model.step.Transition.fired` records them: what coverage is measured against."""
    return [(table.name, e.source, e.event, e.target) for table in (SESSION, JOB) for e in table.edges]
