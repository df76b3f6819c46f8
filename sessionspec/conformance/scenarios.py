"""The fixed scenario library of ``sessionspec conform``: at least one named scenario per rule.

A scenario is a configuration and a list of inputs in the record form of protocol v1,
section 1 (each with its ``"t"``). ``sessionspec conform`` plays each one against the
implementation under test, advancing the clock before every input at a new instant
and, after the last input, past every deadline still pending; the oracle judges what
the implementation reports. A scenario says nothing about the expected observations:
the model is the expectation. Each scenario is built so that an implementation that
breaks its rule shows it in the trace (rules about the world's bookkeeping that no
trace can show, such as ``NOTHING-LOST``, get a scenario exercising the situation;
their descriptions say so).

>>> scenario = SCENARIOS["ittl-hold-keeps-plain-job-waiting"]
>>> scenario.rule
'SES-ITTL-HOLD'
>>> scenario.inputs[0]
{'t': 0, 'op': 'create_session', 'session': 's1', 'backend': 'qpu1'}
>>> sorted(set(RULES) - {s.rule for s in SCENARIOS.values()})
[]

``sessionspec scenarios`` lists them (``--json`` for everything, names to show some).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sessionspec.invariants import RULES

JSON = dict[str, Any]

QPU1, QPU2, SIM = {"name": "qpu1"}, {"name": "qpu2"}, {"name": "sim", "simulator": True}
BASE: JSON = {
    "backends": [QPU1, QPU2, SIM],
    "system_max_ttl": 600,
    "interactive_ttl": 60,
    "job_time_cap": 300,
}


def config(**changes: Any) -> JSON:
    """The base configuration of the library (ITTL 60, max TTL 600, job cap 300) with changes."""
    return {**BASE, **changes}


@dataclass(frozen=True)
class Scenario:
    """A named input sequence that exposes an implementation breaking ``rule``."""

    name: str
    rule: str
    description: str
    config: JSON
    inputs: tuple[JSON, ...]

    def as_dict(self) -> JSON:
        return {
            "name": self.name,
            "rule": self.rule,
            "description": self.description,
            "config": self.config,
            "inputs": list(self.inputs),
        }


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, rule: str, description: str, inputs: list[JSON], cfg: JSON | None = None) -> None:
    if name in SCENARIOS:
        raise ValueError(f"scenario {name!r} is defined twice")
    if rule not in RULES:
        raise ValueError(f"scenario {name!r}: {rule!r} is not a rule of the catalogue")
    SCENARIOS[name] = Scenario(name, rule, description, cfg if cfg is not None else config(), tuple(inputs))


# -- exclusivity and placement --------------------------------------------------------------------

scenario(
    "one-job-at-a-time-on-a-backend",
    "EXC-ONE-RUNNING",
    "Two plain jobs on one QPU: the second waits until the first ends.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "p2", "backend": "qpu1"},
        {"t": 10, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "p2", "outcome": "completed"},
    ],
)

scenario(
    "second-session-waits-for-the-first",
    "EXC-ONE-ACTIVE",
    "Two sessions on one QPU: the second activates only after the first is deactivated.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "create_session", "session": "s2", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s2"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 80, "op": "finish_job", "job": "j2", "outcome": "completed"},
    ],
)

scenario(
    "session-refuses-job-for-another-backend",
    "SES-JOB-BACKEND",
    "A job sent into a session on another backend than the session's is refused.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu2", "session": "s1"},
        {"t": 2, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 5, "op": "finish_job", "job": "j2", "outcome": "completed"},
    ],
)

scenario(
    "no-session-on-a-simulator",
    "SIM-NO-SESSION",
    "create_session on a simulator is refused; a start_session job there runs as a plain job.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "sim"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "sim", "session": "s2", "start_session": True},
        {"t": 2, "op": "submit", "job": "j2", "backend": "sim", "session": "s2"},
        {"t": 5, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

# -- scheduling -----------------------------------------------------------------------------------

scenario(
    "time-limit-frees-backend-for-next-job",
    "WORK-CONSERVE",
    "A job stopped by its time limit frees the QPU: the waiting job starts at that instant.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1", "max_execution_time": 20},
        {"t": 1, "op": "submit", "job": "p2", "backend": "qpu1"},
        {"t": 30, "op": "finish_job", "job": "p2", "outcome": "completed"},
    ],
)

scenario(
    "simulator-runs-every-job-at-once",
    "WORK-CONSERVE",
    "A simulator has no queue: two jobs sent to it at once both run at once.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "sim"},
        {"t": 0, "op": "submit", "job": "p2", "backend": "sim", "instance": "lab-a"},
        {"t": 5, "op": "finish_job", "job": "p2", "outcome": "completed"},
        {"t": 8, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
)

scenario(
    "reservation-jobs-go-first",
    "RSV-PRIORITY",
    "In an open reservation window the reserving instance's waiting job starts before an older one "
    "that fair share would pick.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1", "instance": "lab-a"},
        {"t": 1, "op": "submit", "job": "p2", "backend": "qpu1", "instance": "lab-c"},
        {"t": 2, "op": "submit", "job": "p3", "backend": "qpu1", "instance": "lab-b"},
        {"t": 25, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 30, "op": "finish_job", "job": "p3", "outcome": "completed"},
        {"t": 35, "op": "finish_job", "job": "p2", "outcome": "completed"},
    ],
    config(reservations=[{"backend": "qpu1", "instance": "lab-b", "start": 20, "end": 200}]),
)

scenario(
    "reservation-window-opens-during-ittl-hold",
    "RSV-PRIORITY",
    "A reservation window opens at 30 while a session holds the QPU between jobs: the reserving "
    "instance's waiting job starts at 30, not at the next input or deadline.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 20, "op": "submit", "job": "p1", "backend": "qpu1", "instance": "lab-b"},
        {"t": 45, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
    config(reservations=[{"backend": "qpu1", "instance": "lab-b", "start": 30, "end": 200}]),
)

scenario(
    "active-session-jobs-before-plain-jobs",
    "SES-PRIORITY",
    "An active session's queued job starts before an older plain job waiting on the same QPU.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 3, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "j2", "outcome": "completed"},
        {"t": 90, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
)

scenario(
    "ittl-hold-keeps-plain-job-waiting",
    "SES-ITTL-HOLD",
    "While an active session waits out its interactive timeout, a plain job waits; it starts at "
    "deactivation.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 20, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 80, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
)

scenario(
    "first-session-job-waits-its-turn",
    "SES-FIRST-VIA-QUEUE",
    "A session's first job waits behind a running plain job; the session stays pending until it runs.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

scenario(
    "inactive-session-reactivates-when-its-job-runs",
    "SES-REACTIVATE-VIA-QUEUE",
    "A job sent to an inactive session waits its turn; the session reactivates only when it runs.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 80, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 90, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 100, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 110, "op": "finish_job", "job": "j2", "outcome": "completed"},
    ],
)

scenario(
    "session-jobs-run-in-order",
    "SES-JOB-ORDER",
    "The queued jobs of a session start in the order they were submitted.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 3, "op": "submit", "job": "j3", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "j2", "outcome": "completed"},
        {"t": 30, "op": "finish_job", "job": "j3", "outcome": "completed"},
    ],
)

# -- time -----------------------------------------------------------------------------------------

scenario(
    "max-ttl-clock-starts-with-first-job",
    "SES-TTL-START",
    "A session created at 0 whose first job starts at 100 expires at 700 (max TTL 600), not 600; "
    "a session that never gets a job never expires. (A plain job's time limit also falls at 600, "
    "so an early expiry shows next to a deadline that is due.)",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "create_session", "session": "s2", "backend": "qpu2"},
        {"t": 100, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 110, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 300, "op": "submit", "job": "p1", "backend": "qpu2"},
    ],
)

scenario(
    "max-ttl-from-max-time-or-first-job",
    "SES-TTL-VALUE",
    "Max TTL: the session's own max_time (150) when given, else its first job's max_execution_time "
    "(100), capped by the system limit (600).",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 100},
        {"t": 0, "op": "create_session", "session": "s2", "backend": "qpu2", "max_time": 150},
        {"t": 0, "op": "submit", "job": "j2", "backend": "qpu2", "session": "s2", "max_execution_time": 100},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 10, "op": "finish_job", "job": "j2", "outcome": "completed"},
        {"t": 50, "op": "submit", "job": "j3", "backend": "qpu1", "session": "s1"},
        {"t": 50, "op": "submit", "job": "j4", "backend": "qpu2", "session": "s2"},
    ],
    config(interactive_ttl=200),
)

scenario(
    "max-ttl-from-the-first-job-that-runs",
    "SES-TTL-VALUE",
    "A session's first job (max_execution_time 100) is canceled while it waits; its next job (50) is "
    "the first to run, at 10, so the session expires at 60.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 100},
        {"t": 2, "op": "cancel_job", "job": "j1"},
        {"t": 3, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1", "max_execution_time": 50},
        {"t": 10, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "j2", "outcome": "completed"},
    ],
)

scenario(
    "max-time-capped-by-system-limit",
    "SES-TTL-VALUE",
    "A session created with max_time 1000, above the system limit of 600, expires 600 s after its "
    "first job starts.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": 1000},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

scenario(
    "session-expires-when-max-ttl-runs-out",
    "SES-EXPIRY",
    "An inactive session still expires exactly when its max TTL (max_time 200) runs out.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": 200},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 150, "op": "advance"},
    ],
)

scenario(
    "no-reactivation-after-max-ttl",
    "SES-REACTIVATE-BEFORE-MAX",
    "A job sent to an inactive session after its max TTL (the first job's 50 s) ran out is refused.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 50},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 60, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
    ],
    config(interactive_ttl=20),
)

scenario(
    "ittl-counts-from-last-job-end",
    "SES-ITTL-DEACTIVATE",
    "An idle active session deactivates one interactive timeout after its last job ended, not after it "
    "began. (A plain job's time limit falls at 60, so an early deactivation shows next to a due deadline.)",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu2", "max_execution_time": 60},
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 30, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 80, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 85, "op": "finish_job", "job": "j2", "outcome": "failed"},
    ],
)

scenario(
    "job-stopped-at-its-time-limit",
    "JOB-TIME-LIMIT",
    "A job fails when it has run for its max_execution_time (50), or for the system cap (300) if smaller.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1", "max_execution_time": 50},
        {"t": 0, "op": "submit", "job": "p2", "backend": "qpu2", "max_execution_time": 1000},
        {"t": 10, "op": "submit", "job": "p3", "backend": "qpu1"},
        {"t": 50, "op": "finish_job", "job": "p3", "outcome": "completed"},
    ],
)

scenario(
    "unused-session-closes-at-pending-timeout",
    "SES-PENDING-TIMEOUT",
    "With a pending timeout of 100, a session that never gets a job closes at 100; one that got a job "
    "does not.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu2"},
        {"t": 10, "op": "create_session", "session": "s2", "backend": "qpu2"},
        {"t": 20, "op": "submit", "job": "j1", "backend": "qpu2", "session": "s2"},
        {"t": 130, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 140, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
    config(pending_timeout=100),
)

scenario(
    "pending-timeout-spares-session-whose-job-was-canceled",
    "SES-PENDING-TIMEOUT",
    "A pending session whose only job was canceled before it ran got a job: the pending timeout "
    "(100) does not close it.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 10, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 20, "op": "cancel_job", "job": "j1"},
        {"t": 150, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
    config(pending_timeout=100),
)

# -- endings --------------------------------------------------------------------------------------

scenario(
    "expiry-fails-queued-jobs",
    "SES-EXPIRE-FAILS-QUEUED",
    "An inactive session with a job queued behind a plain job expires: the queued job fails then.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": 100},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 40, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 50, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 110, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
    config(interactive_ttl=20),
)

scenario(
    "expiry-lets-running-job-finish",
    "SES-END-SPARES-RUNNING",
    "A session expires (max_time 100) while its job runs: the job keeps running and completes later.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": 100},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 150, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

scenario(
    "cancel-session-cancels-queued-jobs",
    "SES-CANCEL-QUEUED",
    "Canceling a session ends it at once and cancels its queued job; its running job carries on.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 5, "op": "cancel_session", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

scenario(
    "closed-session-refuses-new-jobs",
    "SES-CLOSE-REFUSES",
    "After close, a session still running a job refuses new jobs, and closes when the job ends.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 5, "op": "close_session", "session": "s1"},
        {"t": 6, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

scenario(
    "closed-session-drains-then-closes",
    "SES-CLOSE-DRAINS",
    "A closed session keeps its state while its jobs run, becomes closed when the last ends; "
    "an idle session closes at once.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "close_session", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 10, "op": "create_session", "session": "s2", "backend": "qpu2"},
        {"t": 11, "op": "submit", "job": "j2", "backend": "qpu2", "session": "s2"},
        {"t": 12, "op": "finish_job", "job": "j2", "outcome": "completed"},
        {"t": 20, "op": "close_session", "session": "s2"},
    ],
)

scenario(
    "close-keeps-queued-jobs",
    "SES-CLOSE-KEEPS-JOBS",
    "Closing a session with jobs queued ends none of them: they still run, in order.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
        {"t": 2, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1"},
        {"t": 3, "op": "submit", "job": "j3", "backend": "qpu1", "session": "s1"},
        {"t": 4, "op": "close_session", "session": "s1"},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 20, "op": "finish_job", "job": "j2", "outcome": "failed"},
        {"t": 30, "op": "finish_job", "job": "j3", "outcome": "completed"},
    ],
)

scenario(
    "final-states-never-change",
    "TERM-FINAL",
    "Reports and requests for jobs and sessions that already ended are refused and change nothing.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 5, "op": "finish_job", "job": "p1", "outcome": "completed"},
        {"t": 6, "op": "finish_job", "job": "p1", "outcome": "failed"},
        {"t": 6, "op": "cancel_job", "job": "p1"},
        {"t": 7, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 8, "op": "cancel_session", "session": "s1"},
        {"t": 9, "op": "close_session", "session": "s1"},
        {"t": 9, "op": "cancel_session", "session": "s1"},
    ],
)

scenario(
    "every-job-ends",
    "EVT-JOBS-END",
    "Jobs the QPU never reports on still end: each fails at its time limit (the system cap, 300).",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "p2", "backend": "qpu1"},
    ],
)

scenario(
    "sessions-settle",
    "EVT-SESSIONS-SETTLE",
    "A session whose job ran and that nobody closes is deactivated, then expires at its max TTL.",
    [
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "start_session": True},
        {"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"},
    ],
)

# -- reporting ------------------------------------------------------------------------------------

scenario(
    "finish-report-for-queued-job-is-refused",
    "DECL-EDGES",
    "A finish report for a job that never ran is refused: a job completes or fails only from running.",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "p2", "backend": "qpu1"},
        {"t": 5, "op": "finish_job", "job": "p2", "outcome": "completed"},
        {"t": 6, "op": "cancel_job", "job": "p2"},
        {"t": 10, "op": "finish_job", "job": "p1", "outcome": "failed"},
    ],
)

scenario(
    "deactivation-is-reported",
    "OBS-MATCH",
    "The example of protocol v1 section 1: the deactivation after the interactive timeout is reported.",
    [
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 600},
        {"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": 80, "op": "advance"},
    ],
    {"interactive_ttl": 60},
)

scenario(
    "unknown-ids-are-refused",
    "INP-ANSWERED",
    "Requests naming jobs or sessions that do not exist, or ids already in use, are refused.",
    [
        {"t": 0, "op": "cancel_job", "job": "nope"},
        {"t": 0, "op": "finish_job", "job": "nope", "outcome": "completed"},
        {"t": 0, "op": "close_session", "session": "nope"},
        {"t": 0, "op": "cancel_session", "session": "nope"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "nope"},
        {"t": 1, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 1, "op": "create_session", "session": "s1", "backend": "qpu2"},
        {"t": 2, "op": "submit", "job": "p1", "backend": "qpu2"},
        {"t": 2, "op": "submit", "job": "p1", "backend": "qpu2"},
        {"t": 3, "op": "submit", "job": "j2", "backend": "qpu1", "session": "s1", "start_session": True},
    ],
)

scenario(
    "canceled-job-stays-known",
    "NOTHING-LOST",
    "A canceled job is still known: a second cancel and a reused id are refused. (No trace can show a "
    "record vanishing from the world itself; this exercises where a forgetful implementation shows it.)",
    [
        {"t": 0, "op": "submit", "job": "p1", "backend": "qpu1"},
        {"t": 0, "op": "submit", "job": "p2", "backend": "qpu1"},
        {"t": 1, "op": "cancel_job", "job": "p2"},
        {"t": 2, "op": "cancel_job", "job": "p2"},
        {"t": 3, "op": "submit", "job": "p2", "backend": "qpu1"},
        {"t": 4, "op": "cancel_job", "job": "p1"},
        {"t": 5, "op": "finish_job", "job": "p1", "outcome": "completed"},
    ],
)


# -- the command ----------------------------------------------------------------------------------


def format_scenario(s: Scenario) -> str:
    """A scenario in full: its rule, description, configuration and inputs, one per line."""
    lines = [
        f"{s.name}  [{s.rule}]",
        f"    {s.description}",
        f"    rule: {RULES[s.rule].statement}",
        f"    config: {json.dumps(s.config)}",
    ]
    lines += [f"    {json.dumps(inp)}" for inp in s.inputs]
    return "\n".join(lines)


__all__ = ["SCENARIOS", "Scenario", "format_scenario"]
