"""Rules about how sessions and jobs end: expiry, cancel, close, terminal states."""

from __future__ import annotations

from collections.abc import Iterator

from sessionspec.invariants.catalogue import eventual_rule, state_rule, step_rule
from sessionspec.invariants.view import View, expected_time_limit
from sessionspec.model.clock import later
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.inputs import CancelJob, CancelSession, CloseSession, FinishJob, Submit
from sessionspec.model.observations import Rejected
from sessionspec.model.step import Tick, Transition

END_A_SESSION = "INTRO 'End a session'"


def _newly(before: View, after: View, state: str) -> Iterator[str]:
    """Ids of sessions that entered ``state`` in this transition."""
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        if session.state == state and (old is None or old.state != state):
            yield session.id


@step_rule(
    "SES-EXPIRE-FAILS-QUEUED",
    "When a session expires, every job it still has queued fails at that instant.",
    source="INTRO 'How sessions work' 5; QUEUE 'How long is a session active?'",
    decisions=("D04",),
)
def expiry_fails_queued(tr: Transition, before: View, after: View) -> Iterator[str]:
    for session_id in _newly(before, after, "expired"):
        for job in before.jobs_of(session_id):
            if job.state == "queued" and after.jobs[job.id].state != "failed":
                yield (
                    f"session {session_id} expired but its queued job {job.id} is "
                    f"{after.jobs[job.id].state}, not failed"
                )


@step_rule(
    "SES-END-SPARES-RUNNING",
    "A running job stops only by its own end, its own time limit or a cancel of that "
    "job; a session ending never stops it.",
    source=f"INTRO 'How sessions work' 5; {END_A_SESSION}",
    decisions=("D12",),
)
def running_jobs_run_to_end(tr: Transition, before: View, after: View) -> Iterator[str]:
    cause = tr.cause
    for now in after.changed_jobs:
        job = before.jobs.get(now.id)
        if job is None or job.state != "running" or now.state == "running":
            continue
        if isinstance(cause, FinishJob | CancelJob) and cause.job == job.id:
            continue
        limit = expected_time_limit(job, after.config)
        on_time = job.started_at is not None and after.now == later(job.started_at, limit)
        if isinstance(cause, Tick) and on_time and now.state == "failed":
            continue
        yield f"running job {job.id} became {now.state} at {after.now} by {cause.op}"


@step_rule(
    "SES-CANCEL-QUEUED",
    "Canceling a session ends it at once and cancels every job it has queued; nothing "
    "but a cancel of the session ends it canceled.",
    source=END_A_SESSION,
    decisions=("D05",),
)
def cancel_cancels_queued(tr: Transition, before: View, after: View) -> Iterator[str]:
    for session_id in _newly(before, after, "canceled"):
        cause = tr.cause
        if not (isinstance(cause, CancelSession) and cause.session == session_id):
            yield f"session {session_id} became canceled by {cause.op}, not by a cancel"
        for job in before.jobs_of(session_id):
            if job.state == "queued" and after.jobs[job.id].state != "canceled":
                yield (
                    f"session {session_id} was canceled but its queued job {job.id} is "
                    f"{after.jobs[job.id].state}"
                )
    cause = tr.cause
    if isinstance(cause, CancelSession) and not any(isinstance(o, Rejected) for o in tr.observations):
        session = after.sessions.get(cause.session)
        if session is None or session.state != "canceled":
            yield f"cancel of session {cause.session} was accepted but it is not canceled"


@step_rule(
    "SES-CLOSE-REFUSES",
    "A close stops a session accepting jobs, and a submission to a session that no longer "
    "accepts jobs is refused.",
    source=END_A_SESSION,
    decisions=("D06", "D15"),
)
def closed_session_refuses(tr: Transition, before: View, after: View) -> Iterator[str]:
    cause = tr.cause
    if isinstance(cause, CloseSession):
        session = after.sessions.get(cause.session)
        if session is not None and session.accepting:
            yield f"session {cause.session} still accepts jobs after close"
    if isinstance(cause, Submit) and cause.session is not None and not cause.start_session:
        session = before.sessions.get(cause.session)
        if session is not None and not session.accepting and cause.job in after.jobs:
            old = before.jobs.get(cause.job)
            if old is None:
                yield f"job {cause.job} was accepted into session {cause.session}, which is closed"


@state_rule(
    "SES-CLOSE-DRAINS",
    "A session closed to new jobs stays pending, active or inactive while any of its jobs "
    "is queued or running, and becomes closed as soon as none is left.",
    source=f"{END_A_SESSION}; INTRO 'End a session' (context manager)",
    decisions=("D06",),
)
def close_drains(view: View) -> Iterator[str]:
    for session in view.recent_sessions:
        if session.accepting:
            continue  # only a closed (non-accepting) session can break this rule
        busy = view.busy(session.id)
        if session.live and not busy:
            yield f"session {session.id} is closed to new jobs, has none left, but is {session.state}"
        if session.state == "closed" and busy:
            unfinished = ", ".join(j.id for j in view.unfinished(session.id))
            yield f"session {session.id} is closed while {unfinished} are not finished"


@step_rule(
    "SES-CLOSE-KEEPS-JOBS",
    "Closing a session ends none of its jobs: the queued ones still run.",
    source=END_A_SESSION,
    decisions=("D06",),
)
def close_keeps_jobs(tr: Transition, before: View, after: View) -> Iterator[str]:
    if not isinstance(tr.cause, CloseSession):
        return
    for job in before.jobs_of(tr.cause.session):
        now = after.jobs.get(job.id)
        if job.state in ("queued", "running") and (now is None or JOB.is_final(now.state)):
            yield f"closing session {tr.cause.session} ended its job {job.id}"


@step_rule(
    "TERM-FINAL",
    "A job or session in a final state never changes again.",
    source="QUEUE 'How long is a session active?' ('closes permanently')",
)
def final_states_stay(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job in after.changed_jobs:
        old = before.jobs.get(job.id)
        if old is not None and JOB.is_final(old.state) and old != job:
            yield f"job {job.id} had ended ({old.state}) but changed to {job}"
    for session in after.changed_sessions:
        was = before.sessions.get(session.id)
        if was is not None and SESSION.is_final(was.state) and was != session:
            yield f"session {session.id} had ended ({was.state}) but changed to {session}"


@eventual_rule(
    "EVT-JOBS-END",
    "Every accepted job eventually ends.",
    source="reading: properties worth checking",
    decisions=("D13",),
)
def every_job_ends(view: View) -> Iterator[str]:
    for job in view.jobs.values():
        if not JOB.is_final(job.state):
            yield f"job {job.id} is still {job.state} with no deadline left to end it"


@eventual_rule(
    "EVT-SESSIONS-SETTLE",
    "Every session whose first job ran eventually ends; a session none of whose jobs "
    "ever ran may stay pending.",
    source=f"INTRO 'How sessions work' 5; {END_A_SESSION}",
    decisions=("D14",),
)
def every_used_session_ends(view: View) -> Iterator[str]:
    for session in view.sessions.values():
        if session.live and view.first_started(session.id) is not None:
            yield f"session {session.id} is still {session.state} with no deadline left to end it"
