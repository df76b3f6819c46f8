"""Exhaustive breadth-first exploration of a bounded configuration.

From the empty world, every move the bounds allow (:mod:`sessionspec.explorer.moves`) is
tried at every reachable state, each with every pick the scheduler may make. Each
distinct state is expanded once: states are reduced to their symmetry class
(:mod:`sessionspec.explorer.symmetry`) and remembered by a 64-bit fingerprint with the move
that first reached them, which is all a shortest counterexample needs.

What is checked: every state invariant on every new state, every step property on
every transition, and from every state the eventual properties of the world that
time alone leads to (no further input: running jobs hit their limits, sessions
their timeouts). Breadth-first order with one worker makes the first violation
found one at the smallest depth: a shortest counterexample.

>>> from sessionspec.model.config import Config
>>> from sessionspec.explorer.presets import Bounds, Preset
>>> one_job = Bounds(sessions=1, session_jobs=1, plain_jobs=0, refused_inputs=False)
>>> preset = Preset("one-job", "", Config(backends=("qpu",), system_max_ttl=2, job_time_cap=1), one_job)
>>> result = Search(preset).run()
>>> result.verdict, result.states > 10, result.finding is None
('verified', True, True)
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sessionspec.explorer.abstraction import abstract, memory
from sessionspec.explorer.moves import UNKNOWN_DEADLINE, Outcome, outcomes, user_inputs
from sessionspec.explorer.presets import Preset
from sessionspec.explorer.symmetry import canonical_world
from sessionspec.invariants import Rule, Violation
from sessionspec.invariants.catalogue import RulesByKind
from sessionspec.invariants.checker import violations_of
from sessionspec.invariants.exercise import exercised_at_end, exercised_rules
from sessionspec.invariants.view import View
from sessionspec.model.config import Number
from sessionspec.model.inputs import Advance
from sessionspec.model.step import next_deadline
from sessionspec.model.world import World

# a state's moves are numbered input << MOVE_BITS | outcome, so a parent link is one int
MOVE_BITS = 16


@dataclass
class Finding:
    """The first rule violation (or crash of the model) the search met."""

    violations: tuple[Violation, ...]
    # fingerprint of the state the failing move starts from, and the move
    state: int
    move: int
    error: str = ""
    # the failure shows only once time alone has run on from the reached state
    eventual: bool = False

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.rule for v in self.violations))


@dataclass
class SearchResult:
    """What one exhaustive search did and found."""

    preset: Preset
    symmetry: bool
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    visited_bytes: int = 0
    peak_memory_kib: int = 0
    complete: bool = True
    session_states: Counter[str] = field(default_factory=Counter)
    job_states: Counter[str] = field(default_factory=Counter)
    edges: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    exercised: Counter[str] = field(default_factory=Counter)
    checked_rules: tuple[str, ...] = ()
    finding: Finding | None = None
    # parent links of every visited state: fingerprint -> (parent fingerprint, move)
    parents: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)

    @property
    def verdict(self) -> str:
        if self.finding is None:
            return "verified" if self.complete else "incomplete"
        return "error" if self.finding.error else "violated"

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_state(self) -> float:
        return self.visited_bytes / self.states if self.states else 0.0


Progress = Callable[[SearchResult, int], None]


def fingerprint(world: World) -> int:
    """A 64-bit fingerprint of a (canonical) world; the configuration is the same for all."""
    return hash((world.now, world.sessions, world.jobs))


def successors(
    world: World, preset: Preset, due: Number | object | None = UNKNOWN_DEADLINE
) -> Iterable[tuple[int, Outcome]]:
    """Every move from ``world``, numbered as the parent links record them (``due``: its next
    deadline, if the caller knows it)."""
    for i, inp in enumerate(user_inputs(world, preset.bounds, due)):
        for j, outcome in enumerate(outcomes(world, inp)):
            yield i << MOVE_BITS | j, outcome


class Search(RulesByKind):
    """One breadth-first search; call :meth:`run` once.

    ``rules`` restricts the checks to some rules of the catalogue (all by default);
    ``symmetry=False`` explores every name permutation separately; ``max_states``
    stops early (the verdict is then ``incomplete``); ``count_exercised=False`` skips
    counting, for each rule, the transitions on which its situation arose.

    Example::

        from sessionspec.explorer.counterexample import format_steps, reconstruct

        search = Search(PRESETS["default"])
        result = search.run()
        if result.finding is not None:
            print(format_steps(reconstruct(search, result)))
    """

    def __init__(
        self,
        preset: Preset,
        *,
        symmetry: bool = True,
        rules: Iterable[Rule] | None = None,
        progress: Progress | None = None,
        max_states: int | None = None,
        count_exercised: bool = True,
    ) -> None:
        super().__init__(rules)
        chosen = self.chosen
        self.preset = preset
        self.symmetry = symmetry
        self.progress = progress
        self.max_states = max_states
        self.count_exercised = count_exercised
        self.checked = frozenset(r.id for r in chosen)
        self.result = SearchResult(preset, symmetry, checked_rules=tuple(r.id for r in chosen))
        # fingerprint -> the eventual violations of the world time alone leads to from there
        self.settled: dict[int, tuple[Violation, ...]] = {}
        # fingerprint -> the state the jump to the next deadline leads to (the first pick)
        self.time_next: dict[int, int] = {}
        bounds = preset.bounds
        self.remembered = memory(preset.config, (*bounds.max_times, *bounds.max_execution_times))

    def abstracted(self, world: World) -> World:
        """The world with finished business forgotten and time made relative."""
        return abstract(world, self.remembered)

    def representative(self, world: World) -> World:
        """The state ``world`` is explored as: abstracted, and renamed if symmetry is on."""
        world = abstract(world, self.remembered)
        if not self.symmetry:
            return world
        return canonical_world(world, self.preset.bounds.instances)

    def start(self) -> tuple[list[tuple[World, int]], Finding | None]:
        """Record the initial state; return the first frontier and any finding there."""
        result = self.result
        initial = self.representative(World.empty(self.preset.config))
        first = fingerprint(initial)
        result.parents[first] = (first, -1)
        result.states = 1
        self._count_coverage(initial)
        return [(initial, first)], self._new_state_findings(View(initial), first)

    def finish(self, finding: Finding | None, started: float) -> SearchResult:
        """Judge the eventual properties (if nothing else broke) and the resources used."""
        result = self.result
        # a broken step or state is reported before a world that time alone cannot settle
        if finding is None and result.complete:
            finding = self._first_unsettled()
        result.finding = finding
        result.seconds = time.perf_counter() - started
        result.visited_bytes = _visited_bytes(result.parents)
        result.peak_memory_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return result

    def run(self) -> SearchResult:
        result = self.result
        started = time.perf_counter()
        frontier, finding = self.start()
        last_report = started
        while frontier and finding is None:
            next_frontier: list[tuple[World, int]] = []
            for world, fp in frontier:
                finding = self.expand(world, fp, next_frontier)
                if finding is not None:
                    break
                if self.progress is not None and time.perf_counter() - last_report > 2:
                    last_report = time.perf_counter()
                    result.seconds = last_report - started
                    self.progress(result, len(next_frontier))
                if self.max_states is not None and result.states >= self.max_states:
                    result.complete = False
                    break
            if not result.complete:
                break
            if next_frontier and finding is None:
                result.depth += 1
            frontier = next_frontier
        return self.finish(finding, started)

    def expand(self, world: World, fp: int, frontier: list[tuple[World, int]]) -> Finding | None:
        result = self.result
        before = View(world)
        move = -1
        due = next_deadline(world)
        if due is None:
            self._judge_quiescent(world, fp)
        try:
            for move, outcome in successors(world, self.preset, due):
                result.transitions += 1
                if outcome.after is world:  # refused, or nothing changed: the state itself
                    after_world, after_fp = world, fp
                else:
                    after_world = self.representative(outcome.after)
                    after_fp = fingerprint(after_world)
                if (
                    due is not None
                    and fp not in self.time_next
                    and type(outcome.inp) is Advance
                    and outcome.inp.t == due
                ):
                    self.time_next[fp] = after_fp  # the first pick: where time alone leads
                new = after_fp not in result.parents
                found = self._check(before, outcome, new)
                if found:
                    return Finding(tuple(found), fp, move)
                if not new:
                    continue
                result.parents[after_fp] = (fp, move)
                result.states += 1
                self._count_coverage(after_world)
                frontier.append((after_world, after_fp))
        except Exception as crash:  # a crash of the model is a finding, never a traceback
            failing = move_of_crash(world, self.preset)
            return Finding((), fp, failing, error=f"{type(crash).__name__}: {crash}")
        return None

    def _check(self, before: View, outcome: Outcome, new: bool) -> list[Violation]:
        """Every rule on every transition of one move; state rules only on unseen worlds."""
        found: list[Violation] = []
        view = before
        last = len(outcome.transitions) - 1
        for i, transition in enumerate(outcome.transitions):
            after = View(transition.after, view)
            if transition.fired:
                _count(self.result.edges, transition.fired)
            changed = transition.after is not view.world and (new or i < last)
            state_rules = self.state_rules if changed else ()
            found += violations_of(transition, view, after, state_rules, self.step_rules)
            if self.count_exercised:
                _count(self.result.exercised, exercised_rules(transition, view, after, changed, self.checked))
            view = after
        return found

    def _new_state_findings(self, view: View, fp: int) -> Finding | None:
        found = [Violation(r.id, view.now, m) for r in self.state_rules for m in r.check(view)]
        return Finding(tuple(found), fp, -1) if found else None

    def _judge_quiescent(self, world: World, fp: int) -> None:
        """A state with no deadline left: the eventual rules judge it as it is."""
        if not self.eventual_rules:
            return
        view = View(world)
        if self.count_exercised:
            self.result.exercised.update(exercised_at_end(view, self.checked))
        self.settled[fp] = tuple(
            Violation(r.id, world.now, m) for r in self.eventual_rules for m in r.check(view)
        )

    def _first_unsettled(self) -> Finding | None:
        """The first state, in breadth-first order, from which time alone leads to a broken world.

        Time alone moves a state to its successor by the jump to its next deadline, which
        the search took anyway; following those links ends at a state with no deadline left
        (judged when expanded), or goes round a cycle, where time never runs out of deadlines.
        """
        if not self.eventual_rules:
            return None
        settled, time_next = self.settled, self.time_next
        for fp in self.result.parents:
            chain: list[int] = []
            on_chain: set[int] = set()
            current: int | None = fp
            verdict: tuple[Violation, ...] | None = None
            while verdict is None and current is not None:
                verdict = settled.get(current)
                if verdict is not None:
                    break
                if current in on_chain:
                    verdict = (Violation("EVT-JOBS-END", 0, "time alone never runs out of deadlines"),)
                    break
                chain.append(current)
                on_chain.add(current)
                current = time_next.get(current)
            if verdict is None:
                continue  # the chain leaves the explored states: nothing to judge
            for link in chain:
                settled[link] = verdict
            if verdict:
                return Finding(verdict, fp, -1, eventual=True)
        return None

    def _count_coverage(self, world: World) -> None:
        result = self.result
        result.session_states.update({s.state for s in world.sessions})
        result.job_states.update({j.state for j in world.jobs})


def _count(counter: Counter[Any], items: Iterable[Any]) -> None:
    """``counter.update(items)``, without its checks: it runs on every transition."""
    for item in items:
        counter[item] += 1


def move_of_crash(world: World, preset: Preset) -> int:
    """The first move from ``world`` whose handling raises: the one to report."""
    for i, inp in enumerate(user_inputs(world, preset.bounds)):
        try:
            for _ in outcomes(world, inp):
                pass
        except Exception:
            return i << MOVE_BITS
    return -1


def _visited_bytes(parents: dict[int, tuple[int, int]]) -> int:
    """The memory the visited set takes: the table, its keys and its parent links."""
    total = sys.getsizeof(parents)
    for key, link in parents.items():
        total += sys.getsizeof(key) + sys.getsizeof(link)
        total += sum(sys.getsizeof(x) for x in link if not -5 <= x <= 256)
    return total
