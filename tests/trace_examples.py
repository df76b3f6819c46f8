"""Traces several test modules judge or draw, written out once."""

from __future__ import annotations

from typing import Any

# protocol v1: one session, one job, its interactive timeout running out at t=71
EXAMPLE: list[dict[str, Any]] = [
    {"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}},
    {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
    {"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": True},
    {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 600},
    {"t": 1, "event": "job", "job": "j1", "state": "queued"},
    {"t": 1, "event": "job", "job": "j1", "state": "running"},
    {"t": 1, "event": "session", "session": "s1", "state": "active", "accepting": True},
    {"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"},
    {"t": 11, "event": "job", "job": "j1", "state": "completed"},
    {"t": 71, "event": "session", "session": "s1", "state": "inactive", "accepting": True},
    {"t": 80, "op": "advance"},
]
