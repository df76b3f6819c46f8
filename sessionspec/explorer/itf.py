"""Counterexamples in the ITF trace format, for Apalache and Quint users.

ITF (the Informal Trace Format, Apalache ADR-015) is a JSON object with the names of
the state variables and one object per state. Integers are written as ``{"#bigint":
"..."}``, maps as ``{"#map": [[key, value], ...]}``, and, as Quint does, an optional
field as the variant ``{"tag": "Some", "value": v}`` or ``{"tag": "None", "value":
{"#tup": []}}``. Each state also carries the step that led to it in ``action``.

>>> from sessionspec.model.world import World
>>> state = itf_state(World.empty(), 0, "init")
>>> state["now"], state["jobs"], state["action"]
({'#bigint': '0'}, {'#map': []}, 'init')
"""

from __future__ import annotations

from typing import Any

from sessionspec.explorer.counterexample import Counterexample
from sessionspec.model.inputs import input_to_dict
from sessionspec.model.world import World

FORMAT_URL = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def itf_value(value: Any) -> Any:
    """A Python value of a world record as an ITF value."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, float):
        if value.is_integer():
            return {"#bigint": str(int(value))}
        return str(value)  # ITF has no fractions; instants of this model are whole seconds
    raise TypeError(f"no ITF form for {value!r}")


def _optional(value: Any) -> dict[str, Any]:
    if value is None:
        return {"tag": "None", "value": {"#tup": []}}
    return {"tag": "Some", "value": itf_value(value)}


def _record(record: Any) -> dict[str, Any]:
    return {key: _optional(value) for key, value in record._asdict().items() if key != "id"}


def itf_state(world: World, index: int, action: str) -> dict[str, Any]:
    """One ITF state: the clock, the sessions and jobs by id, and the step taken."""
    return {
        "#meta": {"index": index},
        "now": itf_value(world.now),
        "sessions": {"#map": [[s.id, _record(s)] for s in world.sessions]},
        "jobs": {"#map": [[j.id, _record(j)] for j in world.jobs]},
        "action": action,
    }


def to_itf(counterexample: Counterexample, description: str) -> dict[str, Any]:
    """The whole counterexample: the empty world, then the world after each step."""
    states = [itf_state(counterexample.initial, 0, "init")]
    for step in counterexample.steps:
        fields = input_to_dict(step.inp)
        action = (
            f"{fields.pop('op')}(" + ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None) + ")"
        )
        states.append(itf_state(step.after, step.number, action))
    return {
        "#meta": {
            "format": "ITF",
            "format-description": FORMAT_URL,
            "source": "sessionspec check",
            "description": description,
            "violated": [str(v) for v in counterexample.violations] or [counterexample.error],
        },
        "vars": ["now", "sessions", "jobs", "action"],
        "states": states,
    }
