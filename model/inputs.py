"""Inputs: what users or the machine do (protocol v1, section 1, the ``op`` records).

Each input carries its instant ``t``. :func:`input_from_dict` validates a record
and raises :class:`~sessionspec.model.errors.InvalidInput` naming the bad field:

>>> input_from_dict({"t": 1, "op": "submit", "job": "j1", "backend": "qpu1"}).instance
'default'
>>> input_from_dict({"t": 1, "op": "submit", "job": "j1", "backend": "q", "max_execution_time": -5})
Traceback (most recent call last):
...
sessionspec.model.errors.InvalidInput: max_execution_time=-5 is not valid: a number of seconds > 0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from sessionspec.model.config import Number, duration, identifier, instant
from sessionspec.model.errors import InvalidInput


class CreateSession(NamedTuple):
    t: Number
    session: str
    backend: str
    max_time: Number | None = None

    @property
    def op(self) -> str:
        return "create_session"


class Submit(NamedTuple):
    t: Number
    job: str
    backend: str
    session: str | None = None
    start_session: bool = False
    instance: str = "default"
    max_execution_time: Number | None = None

    @property
    def op(self) -> str:
        return "submit"


class CloseSession(NamedTuple):
    t: Number
    session: str

    @property
    def op(self) -> str:
        return "close_session"


class CancelSession(NamedTuple):
    t: Number
    session: str

    @property
    def op(self) -> str:
        return "cancel_session"


class CancelJob(NamedTuple):
    t: Number
    job: str

    @property
    def op(self) -> str:
        return "cancel_job"


class FinishJob(NamedTuple):
    t: Number
    job: str
    outcome: str

    @property
    def op(self) -> str:
        return "finish_job"


class Advance(NamedTuple):
    t: Number

    @property
    def op(self) -> str:
        return "advance"


Input = CreateSession | Submit | CloseSession | CancelSession | CancelJob | FinishJob | Advance

OUTCOMES = ("completed", "failed")


def input_to_dict(inp: Input) -> dict[str, Any]:
    """The trace-record form of an input; optional fields at their default are left out."""
    out: dict[str, Any] = {"t": inp.t, "op": inp.op}
    defaults = type(inp)._field_defaults
    for name, value in zip(inp._fields[1:], inp[1:], strict=True):
        # Compare types too: 0.0 == False, but 0.0 is not a valid start_session.
        if name in defaults and type(value) is type(defaults[name]) and value == defaults[name]:
            continue
        out[name] = value
    return out


def _optional(raw: Mapping[str, Any], key: str, parse: Callable[[object, str], Any]) -> Any:
    value = raw.get(key)
    return None if value is None else parse(value, key)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(where, value, "true or false")
    return value


def _outcome(value: object, where: str) -> str:
    if value not in OUTCOMES:
        raise InvalidInput(where, value, '"completed" or "failed"')
    return str(value)


_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "create_session": (("session", "backend"), ("max_time",)),
    "submit": (
        ("job", "backend"),
        ("session", "start_session", "instance", "max_execution_time"),
    ),
    "close_session": (("session",), ()),
    "cancel_session": (("session",), ()),
    "cancel_job": (("job",), ()),
    "finish_job": (("job", "outcome"), ()),
    "advance": ((), ()),
}


def input_from_dict(raw: Mapping[str, Any]) -> Input:
    """Validate one input record; raise :class:`InvalidInput` naming the bad field."""
    op = raw.get("op")
    if not isinstance(op, str) or op not in _FIELDS:
        raise InvalidInput("op", op, f"one of {', '.join(_FIELDS)}")
    required, optional = _FIELDS[op]
    allowed = {"t", "op", *required, *optional}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise InvalidInput(extra[0], raw[extra[0]], f"{op} takes only {', '.join(sorted(allowed))}")
    for key in ("t", *required):
        if key not in raw:
            raise InvalidInput(key, None, f"{op} needs the field {key!r}")
    t = instant(raw["t"], "t")
    if op == "create_session":
        return CreateSession(
            t,
            identifier(raw["session"], "session"),
            identifier(raw["backend"], "backend"),
            _optional(raw, "max_time", duration),
        )
    if op == "submit":
        # null means "not given", as for every optional field
        start_session = raw.get("start_session") is not None and _flag(raw["start_session"], "start_session")
        session = _optional(raw, "session", identifier)
        if start_session and session is None:
            raise InvalidInput("start_session", True, "give the new session's id in 'session'")
        return Submit(
            t,
            identifier(raw["job"], "job"),
            identifier(raw["backend"], "backend"),
            session,
            start_session,
            identifier(raw.get("instance", "default"), "instance"),
            _optional(raw, "max_execution_time", duration),
        )
    if op == "close_session":
        return CloseSession(t, identifier(raw["session"], "session"))
    if op == "cancel_session":
        return CancelSession(t, identifier(raw["session"], "session"))
    if op == "cancel_job":
        return CancelJob(t, identifier(raw["job"], "job"))
    if op == "finish_job":
        return FinishJob(t, identifier(raw["job"], "job"), _outcome(raw["outcome"], "outcome"))
    return Advance(t)


def validate(inp: Input) -> Input:
    """Check an input built in Python (not parsed) with the same rules as a record."""
    return input_from_dict(input_to_dict(inp))
