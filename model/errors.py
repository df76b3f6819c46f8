"""Typed errors of the model.

Each error subclasses the natural built-in and carries structured fields, so a
caller can react to it without parsing the message. Messages say what to do.
"""

from __future__ import annotations


class SessionSpecError(Exception):
    """Base class of every error this project raises on purpose."""


class InvalidInput(SessionSpecError, ValueError):
    """An input (or configuration) is malformed: the world is left unchanged.

    ``field`` names the offending key, ``value`` is what was given, ``hint`` says
    what would be accepted instead.
    """

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"{field}={value!r} is not valid: {hint}")


class TimeWentBackwards(InvalidInput):
    """An input is stamped earlier than the world's clock."""

    def __init__(self, now: float, t: float) -> None:
        self.now = now
        self.t = t
        super().__init__("t", t, f"the clock is already at {now}; stamp inputs with t >= {now}")


class UndeclaredTransition(SessionSpecError, RuntimeError):
    """The core asked for a transition that the declared machine does not have.

    This is always a bug in the core (or a deliberately broken variant of it): the
    declarations in :mod:`sessionspec.model.declarations` are the only source of edges.
    """

    def __init__(self, machine: str, state: str, event: str) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        super().__init__(f"{machine} has no {event!r} transition out of {state!r}")


class PolicyError(SessionSpecError, ValueError):
    """A scheduling policy picked a job that the rules do not allow to start."""

    def __init__(self, backend: str, picked: str, allowed: tuple[str, ...]) -> None:
        self.backend = backend
        self.picked = picked
        self.allowed = allowed
        super().__init__(
            f"the policy picked job {picked!r} on backend {backend!r}, but only "
            f"{', '.join(allowed) or 'nothing'} may start there; return one of the "
            "candidates it was given"
        )
