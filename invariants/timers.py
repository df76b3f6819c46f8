"""Rules about time: the max TTL, the interactive timeout, job and pending limits."""

from __future__ import annotations

from collections.abc import Iterator

from sessionspec.invariants.catalogue import state_rule, step_rule
from sessionspec.invariants.view import View, expected_max_ttl, expected_time_limit
from sessionspec.model.clock import later
from sessionspec.model.step import Tick, Transition

HOW_LONG = "QUEUE 'How long is a session active?'"


@state_rule(
    "SES-TTL-START",
    "A session's max-TTL clock starts when its first job starts running, not before.",
    source="INTRO 'How sessions work' 2",
)
def ttl_clock_start(view: View) -> Iterator[str]:
    for session in view.recent_sessions:
        first = view.first_started(session.id)
        expected = None if first is None else first.started_at
        if session.started_at != expected:
            yield (
                f"session {session.id}'s max-TTL clock started at {session.started_at}, "
                f"but its first job started at {expected}"
            )


@state_rule(
    "SES-TTL-VALUE",
    "A session's max TTL is the system limit, lowered to the session's own max_time or, "
    "without one, to its first job's max_execution_time.",
    source=HOW_LONG,
    decisions=("D07",),
)
def ttl_value(view: View) -> Iterator[str]:
    for session in view.recent_sessions:
        first = view.first_started(session.id)
        if first is None:
            continue
        expected = expected_max_ttl(session, first, view.config)
        if session.max_ttl != expected:
            yield f"session {session.id} has max TTL {session.max_ttl}, expected {expected}"


@state_rule(
    "SES-EXPIRY",
    "A session ends expired exactly when its max TTL runs out, and no live session outlives it.",
    source=f"INTRO 'How sessions work' 5; {HOW_LONG}",
    decisions=("D03", "D16"),
)
def expiry_on_time(view: View) -> Iterator[str]:
    for session in view.recent_sessions:
        expiry = view.expected_expiry(session.id)
        if session.state == "expired" and session.ended_at != expiry:
            yield f"session {session.id} expired at {session.ended_at}, its max TTL ran out at {expiry}"
        elif session.live and expiry is not None and view.now >= expiry:
            yield f"session {session.id} is still {session.state} at {view.now}, past its max TTL ({expiry})"


@step_rule(
    "SES-REACTIVATE-BEFORE-MAX",
    "A deactivated session can be reactivated only before its max TTL runs out.",
    source="INTRO 'How sessions work' 4; QUEUE 'How long is a session active?'",
    decisions=("D03",),
)
def reactivation_before_max(tr: Transition, before: View, after: View) -> Iterator[str]:
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        if old is None or old.state != "inactive" or session.state != "active":
            continue
        expiry = after.expected_expiry(session.id)
        if expiry is not None and after.now >= expiry:
            yield f"session {session.id} was reactivated at {after.now}, its max TTL ran out at {expiry}"


@step_rule(
    "SES-ITTL-DEACTIVATE",
    "An active session with nothing queued or running is deactivated exactly when the "
    "interactive timeout has passed since its last job ended, and not otherwise.",
    source="INTRO 'How sessions work' 4; QUEUE 'How long is a session active?'",
    decisions=("D02", "D03", "D16"),
)
def deactivation_after_ittl(tr: Transition, before: View, after: View) -> Iterator[str]:
    ittl = after.config.interactive_ttl
    for session in after.recent_sessions:
        old = before.sessions.get(session.id)
        idle_since = after.idle_since(session.id)
        if old is not None and old.state == "active" and session.state == "inactive":
            due = None if idle_since is None else later(idle_since, ittl)
            if not isinstance(tr.cause, Tick) or due != after.now:
                yield (
                    f"session {session.id} was deactivated at {after.now}; its interactive "
                    f"timeout was due at {due}"
                )
        elif (
            session.state == "active"
            and session.accepting
            and idle_since is not None
            and after.now >= later(idle_since, ittl)
        ):
            yield (
                f"session {session.id} is still active at {after.now}; it has been idle "
                f"since {idle_since} and its interactive timeout is {ittl}"
            )


@state_rule(
    "JOB-TIME-LIMIT",
    "A running job is stopped when it has run for its own time limit (its "
    "max_execution_time capped by the system), neither earlier nor later.",
    source="QUEUE 'How long is a session active?' (max_execution_time)",
    decisions=("D13",),
)
def job_time_limit(view: View) -> Iterator[str]:
    for job in view.recent_jobs:
        if job.started_at is None:
            continue
        if job.state == "running":
            limit = expected_time_limit(job, view.config)
            if view.now >= later(job.started_at, limit):
                yield f"job {job.id} is still running at {view.now}, past its limit of {limit}s"
        elif job.ended_by == "exceed_time_limit":
            limit = expected_time_limit(job, view.config)
            if job.ended_at != later(job.started_at, limit):
                yield f"job {job.id} was stopped for time at {job.ended_at}, its limit is {limit}s"


@step_rule(
    "SES-PENDING-TIMEOUT",
    "With a pending timeout configured, a session that never got a job closes exactly "
    "when it runs out; without one, or once it got a job, it never closes this way.",
    source="facts: newer docs close unused sessions after 30 minutes",
    decisions=("D14",),
)
def pending_timeout(tr: Transition, before: View, after: View) -> Iterator[str]:
    timeout = after.config.pending_timeout
    # Without a timeout only a closing by time can break the rule, and only changed
    # sessions can have closed; with one, every pending session may be overdue.
    sessions = after.changed_sessions if timeout is None else after.recent_sessions
    for session in sessions:
        old = before.sessions.get(session.id)
        never_used = not after.jobs_of(session.id)
        due = None if timeout is None else later(session.created_at, timeout)
        if old is not None and old.state == "pending" and session.state == "closed":
            if isinstance(tr.cause, Tick) and (not never_used or due != after.now):
                yield f"session {session.id} was closed by time at {after.now} (pending timeout: {due})"
        elif session.state == "pending" and never_used and due is not None and after.now >= due:
            yield f"session {session.id} is still pending at {after.now}; its pending timeout ended at {due}"
