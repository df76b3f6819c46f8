"""Observations: the changes the system reports (protocol v1, section 1, ``event`` records).

>>> JobChanged(1, "j1", "queued").to_dict()
{'t': 1, 'event': 'job', 'job': 'j1', 'state': 'queued'}
>>> SessionChanged(71, "s1", "inactive", True).to_dict()
{'t': 71, 'event': 'session', 'session': 's1', 'state': 'inactive', 'accepting': True}
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sessionspec.model.config import Number


class JobChanged(NamedTuple):
    """A job entered ``state``; ``reason`` is free text for people."""

    t: Number
    job: str
    state: str
    reason: str | None = None

    @property
    def event(self) -> str:
        return "job"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t, "event": "job", "job": self.job, "state": self.state}
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class SessionChanged(NamedTuple):
    """A session's state or accepting flag changed; both are reported."""

    t: Number
    session: str
    state: str
    accepting: bool

    @property
    def event(self) -> str:
        return "session"

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "event": "session",
            "session": self.session,
            "state": self.state,
            "accepting": self.accepting,
        }


class Rejected(NamedTuple):
    """The input just before was refused; nothing changed."""

    t: Number
    op: str
    reason: str
    job: str | None = None
    session: str | None = None

    @property
    def event(self) -> str:
        return "rejected"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t, "event": "rejected", "op": self.op}
        if self.job is not None:
            out["job"] = self.job
        if self.session is not None:
            out["session"] = self.session
        out["reason"] = self.reason
        return out


Observation = JobChanged | SessionChanged | Rejected
