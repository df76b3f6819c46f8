"""The transition function: a world and an input give a new world and observations.

>>> from sessionspec.model.inputs import CreateSession, Submit, Advance
>>> world = World.empty()
>>> result = step(world, CreateSession(0, "s1", "qpu1"))
>>> [o.to_dict() for o in result.observations]
[{'t': 0, 'event': 'session', 'session': 's1', 'state': 'pending', 'accepting': True}]
>>> result = step(result.world, Submit(1, "j1", "qpu1", session="s1"))
>>> [(o.job if o.event == "job" else o.session, o.state) for o in result.observations]
[('j1', 'queued'), ('j1', 'running'), ('s1', 'active')]

Time is explicit. An input stamped later than the world's clock first lets every
deadline up to that instant fire, each at its own instant, before the input is
applied (decision D03). :func:`transitions` yields those steps one by one, which is
what the rule checks look at; :func:`step` folds them.

These functions are the immutable face of :class:`~sessionspec.model.core.Core`, the one
implementation of the rules: each thaws the world into a core, lets the core make the
transitions, and freezes the result. Records a transition leaves alone are the very same
objects before and after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sessionspec.model.config import Number
from sessionspec.model.core import INPUTS, Core
from sessionspec.model.errors import InvalidInput, TimeWentBackwards
from sessionspec.model.inputs import Input, validate
from sessionspec.model.observations import Observation
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.world import World


class Tick(NamedTuple):
    """The cause of a transition that time alone made: deadlines due at ``t``."""

    t: Any

    @property
    def op(self) -> str:
        return "deadline"


Cause = Input | Tick


class Transition(NamedTuple):
    """One atomic transition: an input applied, or one instant's deadlines fired."""

    before: World
    cause: Cause
    after: World
    observations: tuple[Observation, ...]
    # (machine, source, event, target) of each declared edge this transition took
    fired: tuple[tuple[str, str, str, str], ...] = ()


class Step(NamedTuple):
    """The outcome of one input: the new world and everything observed, in order."""

    world: World
    observations: tuple[Observation, ...]


def transitions(
    world: World, inp: Input, policy: Policy = REFERENCE_POLICY, *, trusted: bool = False
) -> Iterator[Transition]:
    """The atomic transitions caused by one input, deadlines first.

    Raises :class:`~sessionspec.model.errors.InvalidInput` (before yielding anything) when the
    input is malformed or stamped before the world's clock; set ``trusted`` to skip
    the field checks for inputs the caller built itself.
    """
    if not trusted:
        check_input_type(inp)
        inp = validate(inp)
    t = inp.t
    if t < world.now:
        raise TimeWentBackwards(world.now, t)
    core = Core.thaw(world)
    before_input = world.config.variant.deadlines_before_input
    while (due := core.next_deadline()) is not None and (due <= t if before_input else due < t):
        observed = core.tick(due, policy)
        after = core.freeze()
        yield Transition(world, Tick(due), after, tuple(observed), tuple(core.fired))
        core.commit()
        world = after
    if world.now != t:
        world = world._replace(now=t)
    observed = core.apply(inp, policy)
    after = world if core.refused or not core.changed else core.freeze()
    yield Transition(world, inp, after, tuple(observed), tuple(core.fired))


def fire_instant(world: World, t: Any, policy: Policy = REFERENCE_POLICY) -> Transition:
    """Everything time makes happen at ``t``: due deadlines, then the scheduler."""
    core = Core.thaw(world)
    observed = core.tick(t, policy)
    return Transition(world, Tick(t), core.freeze(), tuple(observed), tuple(core.fired))


def next_deadline(world: World) -> Number | None:
    """The earliest instant after ``world.now`` at which something is due, or None."""
    return Core.thaw(world).next_deadline()


def step(world: World, inp: Input, policy: Policy = REFERENCE_POLICY, *, trusted: bool = False) -> Step:
    """Apply one input; return the new world and all observations in order."""
    observations: list[Observation] = []
    after = world
    for transition in transitions(world, inp, policy, trusted=trusted):
        observations.extend(transition.observations)
        after = transition.after
    return Step(after, tuple(observations))


def run(world: World, inputs: list[Input], policy: Policy = REFERENCE_POLICY) -> Step:
    """Apply inputs in order; return the final world and all observations."""
    observations: list[Observation] = []
    for inp in inputs:
        world, seen = step(world, inp, policy)
        observations.extend(seen)
    return Step(world, tuple(observations))


def check_input_type(inp: object) -> None:
    """Refuse an object that is not one of the input types, with a usable message."""
    if type(inp) not in INPUTS:
        raise InvalidInput("input", inp, f"one of {', '.join(t.__name__ for t in INPUTS)}")
