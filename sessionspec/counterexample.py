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
an ITF trace for Apalache and Quint users (:mod:`sessionspec.itf`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from invariants import Violation
from invariants.checker import violations_of
from invariants.view import View
from model.inputs import Advance, Input, input_to_dict
from model.step import Tick, Transition
from model.timers import next_deadline
from model.world import World
from sessionspec.bfs import MOVE_BITS, Search, SearchResult, fingerprint, successors
from sessionspec.moves import Outcome, outcomes, user_inputs
from sessionspec.symmetry import canonical
from sessionspec.traces import header, record_to_dict

# time alone settles a world within this many deadlines, or it never does
SETTLE_LIMIT = 1000


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

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.rule for v in self.violations))


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
    return Counterexample(initial, tuple(steps), found)


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
    shifted: Input = inp._replace(t=raw.now + (inp.t - rep.now))
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
    return "\n".join(lines)


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
