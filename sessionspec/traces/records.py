"""Traces of model runs, in the record form of protocol v1 section 1.

>>> from sessionspec.model.inputs import CreateSession
>>> [type(r).__name__ for r in trace_of(World.empty(), [CreateSession(0, "s1", "qpu1")])]
['CreateSession', 'SessionChanged']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sessionspec.model.inputs import Input, input_to_dict
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.step import Tick, transitions
from sessionspec.model.world import World

Record = Input | Observation


def trace_of(world: World, inputs: Iterable[Input], policy: Policy = REFERENCE_POLICY) -> Iterator[Record]:
    """Records of a run: what time made happen, then each input and what it caused."""
    for inp in inputs:
        for transition in transitions(world, inp, policy):
            if not isinstance(transition.cause, Tick):
                yield inp
            yield from transition.observations
            world = transition.after


def header(world: World) -> dict[str, Any]:
    return {"trace": "sessionspec", "version": 1, "config": world.config.to_dict()}


def record_to_dict(record: Record) -> dict[str, Any]:
    if isinstance(record, JobChanged | SessionChanged | Rejected):
        return record.to_dict()
    return input_to_dict(record)
