"""Deliberately broken variants of the model, one or more per rule.

A rule that no broken model can break checks nothing. Each :class:`Mutant` names the rule
it must break and a :class:`~sessionspec.model.variant.Variant` of the core with a plausible
bug (the kind of mistake an implementation of the seeds could make). The variant travels
with the configuration, so every engine runs the very code users run, with the bug in
place: tests run the explorer and the trace oracle against every mutant and expect its
rule to fail.

>>> mutant = MUTANTS["ttl-clock-at-creation"]
>>> mutant.rules
('SES-TTL-START',)
>>> from sessionspec.model.inputs import CreateSession
>>> from sessionspec.model.step import step
>>> from sessionspec.model.world import World
>>> step(mutant.world(), CreateSession(0, "s1", "qpu1")).world.session("s1").started_at
0
>>> step(World.empty(), CreateSession(0, "s1", "qpu1")).world.session("s1").started_at is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessionspec.model.config import Config
from sessionspec.model.variant import REFERENCE, Variant
from sessionspec.model.world import World


@dataclass(frozen=True)
class Mutant:
    """A named bug: the core run with ``variant``, which must break ``rules``."""

    name: str
    rules: tuple[str, ...]
    description: str
    variant: Variant

    def config(self, config: Config | None = None) -> Config:
        """``config`` (the default one if none) with this bug in place."""
        return (config if config is not None else Config())._replace(variant=self.variant)

    def world(self, config: Config | None = None) -> World:
        """An empty world of ``config`` that runs with this bug."""
        return World.empty(self.config(config))


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, rules: str | tuple[str, ...], description: str, **knobs: Any) -> None:
    if name in MUTANTS:
        raise ValueError(f"mutant {name!r} is defined twice")
    rules = (rules,) if isinstance(rules, str) else rules
    MUTANTS[name] = Mutant(name, rules, description, REFERENCE.but(**knobs))


# -- who runs where -------------------------------------------------------------------------------

mutant(
    "start-on-busy-backend",
    "EXC-ONE-RUNNING",
    "the scheduler starts a job without checking that the backend is free",
    one_job_per_backend=False,
)
mutant(
    "second-session-during-hold",
    "EXC-ONE-ACTIVE",
    "another session's first job may start while a session holds the backend",
    hold_admits_sessions=True,
)
mutant(
    "session-backend-unchecked",
    "SES-JOB-BACKEND",
    "a submission into a session is not checked against the session's backend",
    check_session_backend=False,
)
mutant(
    "session-on-simulator",
    "SIM-NO-SESSION",
    "create_session is accepted on a simulator",
    refuse_sessions_on_simulators=False,
)
mutant(
    "no-scheduling-after-deadlines",
    "WORK-CONSERVE",
    "the scheduler runs after inputs only, so nothing starts when a deadline frees a backend",
    schedule_after_deadlines=False,
)
mutant("reservations-ignored", "RSV-PRIORITY", "reservation windows give no priority", reservations=False)
mutant(
    "fair-share-before-session",
    "SES-PRIORITY",
    "plain jobs go before the queued jobs of the active session",
    plain_before_session_jobs=True,
)
mutant(
    "fair-share-during-ittl",
    "SES-ITTL-HOLD",
    "a plain job is let in while the active session waits out its interactive timeout",
    hold_admits_plain=True,
)
mutant(
    "session-jobs-lifo",
    "SES-JOB-ORDER",
    "the active session's newest queued job runs first",
    session_jobs_newest_first=True,
)
mutant(
    "first-job-skips-queue",
    "SES-FIRST-VIA-QUEUE",
    "submitting to a pending session activates it at once, before its job runs",
    submit_activates_pending=True,
)
mutant(
    "reactivation-skips-queue",
    "SES-REACTIVATE-VIA-QUEUE",
    "submitting to an inactive session reactivates it at once, before its job runs",
    submit_reactivates_inactive=True,
)

# -- time -----------------------------------------------------------------------------------------

mutant(
    "ttl-clock-at-creation",
    "SES-TTL-START",
    "the max-TTL clock starts when the session is created",
    ttl_clock="creation",
)
mutant(
    "ttl-ignores-first-job",
    # With too long a max TTL the core also reactivates sessions past their real one.
    ("SES-TTL-VALUE", "SES-REACTIVATE-BEFORE-MAX"),
    "the max TTL is always the system limit",
    max_ttl_value="system",
)
mutant(
    "inactive-sessions-never-expire",
    "SES-EXPIRY",
    "the max timeout is only enforced on active sessions",
    expire_inactive=False,
)
mutant(
    "inputs-before-deadlines",
    "JOB-TIME-LIMIT",
    "an input stamped with a deadline's instant is handled before that deadline fires",
    deadlines_before_input=False,
)
mutant(
    "ittl-from-job-start",
    "SES-ITTL-DEACTIVATE",
    "the interactive timeout is counted from the last job's start instead of its end",
    ittl_from_last_start=True,
)
mutant(
    "no-system-job-cap",
    "JOB-TIME-LIMIT",
    "a job's own max_execution_time is not capped by the system limit",
    cap_job_time=False,
)
mutant(
    "pending-timeout-never-fires",
    "SES-PENDING-TIMEOUT",
    "the pending timeout is configured but never closes anything",
    pending_timeout_fires=False,
)
mutant(
    "jobs-without-time-limit",
    "EVT-JOBS-END",
    "running jobs have no time limit, so one the QPU never reports on runs forever",
    job_time_limits=False,
)
mutant(
    "sessions-without-max-ttl",
    "EVT-SESSIONS-SETTLE",
    "sessions have no maximum timeout, so a deactivated one lives forever",
    max_ttl=False,
)

# -- endings --------------------------------------------------------------------------------------

mutant(
    "expiry-cancels-queued",
    "SES-EXPIRE-FAILS-QUEUED",
    "at the max timeout queued jobs are canceled instead of failed",
    expiry_queued_event="session_canceled",
)
mutant(
    "expiry-fails-running",
    "SES-END-SPARES-RUNNING",
    "at the max timeout the running job is failed too",
    expiry_fails_running=True,
)
mutant(
    "cancel-keeps-queued",
    "SES-CANCEL-QUEUED",
    "canceling a session leaves its queued jobs queued",
    cancel_session_cancels_queued=False,
)
mutant(
    "close-keeps-accepting",
    "SES-CLOSE-REFUSES",
    "closing a session that still has work does not stop it accepting jobs",
    close_stops_accepting=False,
)
mutant(
    "close-ends-at-once",
    "SES-CLOSE-DRAINS",
    "closing a session ends it at once even while its jobs are queued or running",
    close_ends_at_once=True,
)
mutant(
    "close-cancels-queued",
    "SES-CLOSE-KEEPS-JOBS",
    "closing a session cancels its queued jobs (as a context-manager exit wrongly might)",
    close_cancels_queued=True,
)
mutant(
    "ended-job-can-finish",
    "TERM-FINAL",
    "a finish report for a job that already ended overwrites its final state",
    finish_overwrites_ended=True,
)

# -- reporting ------------------------------------------------------------------------------------

mutant(
    "queued-job-can-finish",
    "DECL-EDGES",
    "a finish report for a queued job completes it without it ever running",
    finish_queued=True,
)
mutant(
    "deactivation-unreported",
    "OBS-MATCH",
    "the deactivation after the interactive timeout happens but is not reported",
    report_deactivation=False,
)
mutant(
    "unknown-job-cancel-unanswered",
    "INP-ANSWERED",
    "a cancel of an unknown job is neither refused nor applied",
    refuse_unknown_cancel=False,
)
mutant(
    "canceled-jobs-forgotten",
    "NOTHING-LOST",
    "a canceled job is dropped from the world",
    forget_canceled_jobs=True,
)
