"""Turning a finding of the exhaustive search into a run anyone can read and replay.

The search remembers, for each state, only its parent and the number of the move
that reached it, in the names and on the relative clock of state representatives.
:func:`reconstruct` walks those links back to the empty world and replays the moves
on a real world, translating names and instants back, so the counterexample is an
ordinary run from time 0 with jobs and sessions numbered in creation order. Each
replayed step is checked to reach the same state the search recorded, and the last
one to break the same rules; a mismatch would mean an unsound reduction and is
raised, never hidden.

The run can be shown as a step list (:func:`format_steps`), written as a protocol v1
trace that ``sessionspec check-trace`` judges (:func:`trace_lines`), and written as
an ITF trace for Apalache and Quint users (:mod:`sessionspec.explorer.itf`).

A rule can break in the model's own bookkeeping (a timer set too early, a record
dropped) while every observation of that step is right: a trace of the run so far
conforms. The counterexample then runs on, breadth-first from the state the violation
left, to the first step whose reported changes break a rule as a trace judge sees them
(:func:`sessionspec.oracle.reference.claimed_violations`), so that its trace shows the failure
and names the rule ``check-trace`` will report (decision D21).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sessionspec.explorer.bfs import MOVE_BITS, Search, SearchResult, fingerprint, successors
from sessionspec.explorer.moves import Outcome, outcomes, user_inputs
from sessionspec.explorer.symmetry import canonical
from sessionspec.invariants import Violation
from sessionspec.invariants.checker import violations_of
from sessionspec.invariants.view import View
from sessionspec.model.clock import elapsed, later
from sessionspec.model.inputs import Advance, Input, input_to_dict
from sessionspec.model.step import Tick, Transition, next_deadline
from sessionspec.model.world import World
from sessionspec.oracle.reference import claimed_change, claimed_violations
from sessionspec.traces.records import header, record_to_dict

# time alone settles a world within this many deadlines, or it never does
SETTLE_LIMIT = 1000
# states searched, past a finding no trace shows, for a step that a trace does show
SHOWING_LIMIT = 20_000


class ReplayMismatch(AssertionError):
    """The replayed run did not reach the state the search recorded (an unsound reduction)."""


@dataclass(frozen=True)
class Step:
    """One move of a counterexample, in the run's own names and instants."""

    number: int
    inp: Input
    # the scheduler's pick at each free choice it made (0: the oldest candidate)
    choices: tuple[int, ...]
    transitions: tuple[Transition, ...]
    # the step only lets time run on from the last state (an eventual property)
    time_alone: bool = False

    @property
    def before(self) -> World:
        return self.transitions[0].before

    @property
    def after(self) -> World:
        return self.transitions[-1].after


@dataclass(frozen=True)
class Counterexample:
    """A shortest run to a finding: its steps, and what went wrong at the last one."""

    initial: World
    steps: tuple[Step, ...]
    violations: tuple[Violation, ...]
    error: str = ""
    eventual: bool = False
    # the first step whose reported changes break a rule, and those violations: what
    # check-trace sees of the run (None: no step of the run shows anything wrong)
    shown_at: int | None = None
    shown_as: tuple[Violation, ...] = ()
    # the steps after the finding's own, run to reach the one a trace shows
    extended: int = 0

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.rule for v in (*self.violations, *self.shown_as)))

    @property
    def trace_rule(self) -> str | None:
        """The rule ``check-trace`` names for this run's trace."""
        return self.shown_as[0].rule if self.shown_as else None


def reconstruct(search: Search, result: SearchResult) -> Counterexample:
    """Replay the path to ``result.finding`` from the empty world."""
    finding = result.finding
    if finding is None:
        raise ValueError("the search found nothing: there is no counterexample to reconstruct")
    moves: list[int] = []
    state = finding.state
    while True:
        parent, move = result.parents[state]
        if move < 0:
            break
        moves.append(move)
        state = parent
    moves.reverse()
    if finding.move >= 0:
        moves.append(finding.move)
    initial = World.empty(search.preset.config)
    raw, rep = initial, search.representative(initial)
    steps: list[Step] = []
    for number, move in enumerate(moves, 1):
        last = number == len(moves)
        if last and finding.error:
            inp = _translate(search, raw, rep, _input_of(rep, search, move))
            return Counterexample(initial, tuple(steps), (), _crash_of(raw, inp) or finding.error)
        expected = _outcome_of(rep, search, move)
        target = fingerprint(search.representative(expected.after))
        inp = _translate(search, raw, rep, expected.inp)
        played = next((o for o in outcomes(raw, inp) if _fp(search, o.after) == target), None)
        if played is None:
            raise ReplayMismatch(f"step {number}: no way to play {inp} reaches the recorded state")
        steps.append(Step(number, inp, played.choices, played.transitions))
        raw, rep = played.after, search.representative(played.after)
    if finding.eventual:
        settling = list(_time_alone(raw, len(steps)))
        view = View(settling[-1].after if settling else raw)
        if len(settling) >= SETTLE_LIMIT:  # show a few of the endless deadlines, not all
            endless = Violation("EVT-JOBS-END", view.now, "time alone never runs out of deadlines")
            return Counterexample(initial, (*steps, *settling[:3]), (endless,), eventual=True)
        found = tuple(Violation(r.id, view.now, m) for r in search.eventual_rules for m in r.check(view))
        return Counterexample(initial, (*steps, *settling), found, eventual=True)
    # judged again on the real run: a representative forgets instants that a broken model
    # may still touch, so the real run's verdict is the one to report
    found = tuple(_violations(search, steps[-1])) if steps else finding.violations
    if not found:
        raise ReplayMismatch(f"the replayed run breaks no rule; the search reported {finding.rules}")
    return _shown_in_trace(search, Counterexample(initial, tuple(steps), found))


def _shown_in_trace(search: Search, counterexample: Counterexample) -> Counterexample:
    """The counterexample with the step a trace shows it at, run on to one if need be."""
    claimed = counterexample.initial
    for step in counterexample.steps:
        claimed, shown = _claims_judged(claimed, step.transitions)
        if shown:
            return replace(counterexample, shown_at=step.number, shown_as=shown)
    if not counterexample.steps:
        return counterexample
    more, shown = _run_until_shown(search, counterexample.steps[-1], claimed)
    if not shown:
        return counterexample
    return replace(
        counterexample,
        steps=(*counterexample.steps, *more),
        shown_at=more[-1].number,
        shown_as=shown,
        extended=len(more),
    )


def _claims_judged(claimed: World, steps: Iterable[Transition]) -> tuple[World, tuple[Violation, ...]]:
    """The world a trace claims after ``steps``, from ``claimed``, and the rules those claims break.

    The claimed world follows the trace only, never the model's bookkeeping, so a
    rule broken there is one a trace judge sees.
    """
    for transition in steps:
        shown = _quiet_instants_judged(claimed, transition)
        if shown:
            return claimed, shown
        as_claimed = transition._replace(before=claimed)
        broken = claimed_violations(as_claimed, transition.observations)
        claimed = claimed_change(as_claimed, transition.observations).after
        if broken:
            return claimed, tuple(broken)
    return claimed, ()


def _quiet_instants_judged(claimed: World, transition: Transition) -> tuple[Violation, ...]:
    """The rules the claimed world breaks at the instants before ``transition`` that no line reports.

    A trace judge lets the reference's deadlines fire at those instants (and at the
    instant of an input, before it); what they should have changed, and nothing reports,
    shows there. Instants are whole seconds, as the bounds give every duration.
    """
    end = transition.after.now
    last = end if not isinstance(transition.cause, Tick) else end - 1
    instant = math.floor(claimed.now) + 1
    while instant <= last:
        quiet = Transition(claimed, Tick(instant), claimed._replace(now=instant), (), ())
        shown = claimed_violations(quiet, ())
        if shown:
            return tuple(shown)
        instant += 1
    return ()


def _run_until_shown(search: Search, last: Step, claimed: World) -> tuple[list[Step], tuple[Violation, ...]]:
    """The fewest further moves to a step whose reported changes break a rule."""
    Node = tuple[int, int]  # the model's state and the claimed world's, both abstracted

    def node(world: World, claims: World) -> Node:
        return fingerprint(search.abstracted(world)), fingerprint(search.abstracted(claims))

    start = node(last.after, claimed)
    parents: dict[Node, tuple[Node, Outcome] | None] = {start: None}
    frontier = [(last.after, claimed, start)]
    try:
        while frontier and len(parents) < SHOWING_LIMIT:
            next_frontier: list[tuple[World, World, Node]] = []
            for world, claims, here in frontier:
                for inp in user_inputs(world, search.preset.bounds):
                    for outcome in outcomes(world, inp):
                        claims_after, shown = _claims_judged(claims, outcome.transitions)
                        if shown:
                            return _path(parents, here, outcome, last.number), shown
                        there = node(outcome.after, claims_after)
                        if there not in parents:
                            parents[there] = (here, outcome)
                            next_frontier.append((outcome.after, claims_after, there))
            frontier = next_frontier
    except Exception:  # a model that crashes on the way shows nothing more in a trace
        return [], ()
    return [], ()


def _path(
    parents: dict[tuple[int, int], tuple[tuple[int, int], Outcome] | None],
    here: tuple[int, int],
    last: Outcome,
    done: int,
) -> list[Step]:
    chain = [last]
    while (link := parents[here]) is not None:
        here, outcome = link
        chain.append(outcome)
    chain.reverse()
    return [Step(done + i, o.inp, o.choices, o.transitions) for i, o in enumerate(chain, 1)]


def _fp(search: Search, world: World) -> int:
    return fingerprint(search.representative(world))


def _input_of(rep: World, search: Search, move: int) -> Input:
    return list(user_inputs(rep, search.preset.bounds))[move >> MOVE_BITS]


def _outcome_of(rep: World, search: Search, move: int) -> Outcome:
    for number, outcome in successors(rep, search.preset):
        if number == move:
            return outcome
    raise ReplayMismatch(f"move {move} does not exist in the recorded state")


def _translate(search: Search, raw: World, rep: World, inp: Input) -> Input:
    """An input written for the representative, for the real world it stands for."""
    shifted: Input = inp._replace(t=later(raw.now, elapsed(rep.now, inp.t)))
    if not search.symmetry:
        return shifted
    renaming = canonical(search.abstracted(raw), search.preset.bounds.instances)
    return renaming.to_original(shifted)


def _crash_of(world: World, inp: Input) -> str:
    try:
        for _ in outcomes(world, inp):
            pass
    except Exception as crash:
        return f"{type(crash).__name__}: {crash} (input {inp})"
    return ""


def _time_alone(world: World, done: int) -> Iterator[Step]:
    """Let time run on from ``world`` through every deadline, the scheduler taking its first pick."""
    number = done
    while (due := next_deadline(world)) is not None and number - done < SETTLE_LIMIT:
        number += 1
        outcome = next(outcomes(world, Advance(due)))
        yield Step(number, outcome.inp, outcome.choices, outcome.transitions, time_alone=True)
        world = outcome.after


def _violations(search: Search, step: Step) -> Iterator[Violation]:
    view = View(step.before)
    for transition in step.transitions:
        after = View(transition.after, view)
        yield from violations_of(transition, view, after, search.state_rules, search.step_rules)
        view = after


def records(counterexample: Counterexample) -> Iterator[Any]:
    """The run as trace records: each input, then what it (or time before it) caused."""
    for step in counterexample.steps:
        for transition in step.transitions:
            if not isinstance(transition.cause, Tick):
                yield step.inp
            yield from transition.observations


def trace_lines(counterexample: Counterexample) -> list[dict[str, Any]]:
    """The protocol v1 trace of the run: a header, then one record per line."""
    return [header(counterexample.initial), *(record_to_dict(r) for r in records(counterexample))]


def format_steps(counterexample: Counterexample) -> str:
    """One block per step: instant, input, scheduler picks, observations, and the world's diff."""
    lines: list[str] = []
    for step in counterexample.steps:
        fields = {k: v for k, v in input_to_dict(step.inp).items() if k not in ("t", "op") and v is not None}
        what = ", ".join(f"{k}={v}" for k, v in fields.items())
        label = "time runs on" if step.time_alone else "input"
        lines.append(f"{step.number:3d}. t={step.inp.t:<5} {label}: {step.inp.op}({what})")
        if any(step.choices):
            lines.append(f"       scheduler picks: {', '.join(str(c) for c in step.choices)} (0 = oldest)")
        for transition in step.transitions:
            for obs in transition.observations:
                record = obs.to_dict()
                rest = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("t", "event"))
                lines.append(f"       observed at t={record['t']}: {record['event']} {rest}")
        lines.extend(f"       {change}" for change in diff(step.before, step.after))
    if counterexample.error:
        lines.append(f"  the model crashed at the next input: {counterexample.error}")
    for violation in counterexample.violations:
        lines.append(f"  VIOLATED {violation}")
    lines.extend(_how_a_trace_shows(counterexample))
    return "\n".join(lines)


def _how_a_trace_shows(counterexample: Counterexample) -> list[str]:
    if counterexample.shown_at is None:
        return [] if counterexample.error or counterexample.eventual else ["  no trace line shows it"]
    first = counterexample.shown_as[0]
    lines = []
    if counterexample.extended:
        found_at = len(counterexample.steps) - counterexample.extended
        lines.append(
            f"  no trace line shows step {found_at}'s violation (the model's own bookkeeping); "
            f"the run goes on until one does"
        )
    named = str(first) if counterexample.extended else first.rule
    lines.append(f"  a trace shows it at step {counterexample.shown_at}, where check-trace names {named}")
    return lines


def diff(before: World, after: World) -> list[str]:
    """The records a step added or changed, field by field."""
    changes: list[str] = []
    for kind, old_records, new_records in (
        ("session", before.sessions, after.sessions),
        ("job", before.jobs, after.jobs),
    ):
        old = {r.id: r for r in old_records}
        new_ids = {r.id for r in new_records}
        for record in new_records:
            previous = old.get(record.id)
            if previous is None:
                shown = ", ".join(
                    f"{k}={v}" for k, v in record._asdict().items() if k != "id" and v is not None
                )
                changes.append(f"+ {kind} {record.id}: {shown}")
            elif previous != record:
                fields = [
                    f"{k} {getattr(previous, k)} -> {v}"
                    for k, v in record._asdict().items()
                    if getattr(previous, k) != v
                ]
                changes.append(f"~ {kind} {record.id}: {'; '.join(fields)}")
        changes.extend(f"- {kind} {rid} is gone" for rid in old if rid not in new_ids)
    return changes
