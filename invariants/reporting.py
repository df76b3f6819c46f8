"""Rules about what is reported: declared edges only, complete observations, answers."""

from __future__ import annotations

from collections.abc import Iterator

from sessionspec.invariants.catalogue import step_rule
from sessionspec.invariants.view import View
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.inputs import (
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Submit,
)
from sessionspec.model.observations import JobChanged, Rejected, SessionChanged
from sessionspec.model.step import Tick, Transition

PROTOCOL = "protocol v1 section 1 'Order and completeness'"


@step_rule(
    "DECL-EDGES",
    "Every change of a job's or a session's state follows an edge of the declared Job or Session machine.",
    source="model/declarations.py (the single source of truth)",
)
def declared_edges_only(tr: Transition, before: View, after: View) -> Iterator[str]:
    job_states: dict[str, str | None] = {}
    session_states: dict[str, str | None] = {}
    for obs in tr.observations:
        if isinstance(obs, JobChanged):
            old = job_states[obs.job] if obs.job in job_states else _job_state(before, obs.job)
            if old is None and obs.state != JOB.initial:
                yield f"new job {obs.job} entered {obs.state}, not {JOB.initial}"
            elif old is not None and not JOB.connects(old, obs.state):
                yield f"job {obs.job} went {old} -> {obs.state}: no such declared edge"
            job_states[obs.job] = obs.state
        elif isinstance(obs, SessionChanged):
            if obs.session in session_states:
                old = session_states[obs.session]
            else:
                pair = _pair(before, obs.session)
                old = None if pair is None else pair[0]
            if old is None and obs.state != SESSION.initial:
                yield f"new session {obs.session} entered {obs.state}, not {SESSION.initial}"
            elif old is not None and not SESSION.connects(old, obs.state):
                yield f"session {obs.session} went {old} -> {obs.state}: no such declared edge"
            session_states[obs.session] = obs.state


@step_rule(
    "OBS-MATCH",
    "The observations of a step report every change of a job's state and of a "
    "session's (state, accepting), at the instant it happened, and nothing else.",
    source=PROTOCOL,
)
def observations_match_changes(tr: Transition, before: View, after: View) -> Iterator[str]:
    jobs: dict[str, str | None] = {}
    sessions: dict[str, tuple[str, bool] | None] = {}
    for obs in tr.observations:
        if obs.t != after.now:
            yield f"{obs.event} observation stamped {obs.t} in a step at {after.now}"
        if isinstance(obs, JobChanged):
            current = jobs[obs.job] if obs.job in jobs else _job_state(before, obs.job)
            if current == obs.state:
                yield f"job {obs.job} reported entering {obs.state}, where it already was"
            jobs[obs.job] = obs.state
        elif isinstance(obs, SessionChanged):
            pair = (obs.state, obs.accepting)
            current_pair = sessions[obs.session] if obs.session in sessions else _pair(before, obs.session)
            if current_pair == pair:
                yield f"session {obs.session} reported {pair} without a change"
            sessions[obs.session] = pair
    for job in after.changed_jobs:
        reported = jobs.pop(job.id) if job.id in jobs else _job_state(before, job.id)
        if reported != job.state:
            yield f"job {job.id} changed to {job.state} but the observations say {reported}"
    for job_id, state in jobs.items():
        yield f"job {job_id} was reported {state} but did not change"
    for session in after.changed_sessions:
        pair_now = (session.state, session.accepting)
        said = sessions.pop(session.id) if session.id in sessions else _pair(before, session.id)
        if said != pair_now:
            yield f"session {session.id} changed to {pair_now} but the observations say {said}"
    for session_id, left in sessions.items():
        yield f"session {session_id} was reported {left} but did not change"


def _job_state(view: View, job_id: str) -> str | None:
    job = view.jobs.get(job_id)
    return None if job is None else job.state


def _pair(view: View, session_id: str) -> tuple[str, bool] | None:
    session = view.sessions.get(session_id)
    return None if session is None else (session.state, session.accepting)


def _expected_report(tr: Transition, after: View) -> str | None:
    """What an accepted input must have caused, or None when that happened."""
    cause = tr.cause
    jobs = {o.job: o.state for o in tr.observations if isinstance(o, JobChanged)}
    sessions = {o.session: o for o in tr.observations if isinstance(o, SessionChanged)}
    if isinstance(cause, CreateSession) and cause.session not in sessions:
        return f"session {cause.session} reported pending"
    if isinstance(cause, Submit) and cause.job not in jobs:
        return f"job {cause.job} reported queued"
    if isinstance(cause, CloseSession):
        seen = sessions.get(cause.session)
        if seen is None or seen.accepting:
            return f"session {cause.session} reported as no longer accepting"
    if isinstance(cause, CancelSession):
        seen = sessions.get(cause.session)
        if seen is None or seen.state != "canceled":
            return f"session {cause.session} reported canceled"
    if isinstance(cause, CancelJob) and jobs.get(cause.job) != "canceled":
        return f"job {cause.job} reported canceled"
    if isinstance(cause, FinishJob) and jobs.get(cause.job) != cause.outcome:
        return f"job {cause.job} reported {cause.outcome}"
    return None


@step_rule(
    "INP-ANSWERED",
    "Every input is either refused with a reason, changing nothing, or accepted with "
    "the change it asks for reported.",
    source="reading gap 15; protocol v1 section 1 ('rejected')",
    decisions=("D15",),
)
def inputs_answered(tr: Transition, before: View, after: View) -> Iterator[str]:
    if isinstance(tr.cause, Tick):
        if any(isinstance(o, Rejected) for o in tr.observations):
            yield "a deadline produced a refusal"
        return
    refusals = [o for o in tr.observations if isinstance(o, Rejected)]
    if refusals:
        refusal = refusals[0]
        if len(tr.observations) != 1:
            yield f"{tr.cause.op} was refused but other changes were reported too"
        if refusal.op != tr.cause.op or not refusal.reason:
            yield f"the refusal of {tr.cause.op} names {refusal.op!r} with reason {refusal.reason!r}"
        if tr.after != tr.before:
            yield f"{tr.cause.op} was refused but the world changed"
        return
    missing = _expected_report(tr, after)
    if missing is not None:
        yield f"{tr.cause.op} was not refused, so {missing} was expected"


@step_rule(
    "NOTHING-LOST",
    "No job or session ever disappears, and new ones appear only when an input creates them.",
    source="reading: properties worth checking",
)
def nothing_lost(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job_id in after.lost_jobs:
        yield f"job {job_id} disappeared from the world"
    for session_id in after.lost_sessions:
        yield f"session {session_id} disappeared from the world"
    cause = tr.cause
    for job in after.changed_jobs:
        if job.id not in before.jobs and not (isinstance(cause, Submit) and cause.job == job.id):
            yield f"job {job.id} appeared without a submission"
    creates = isinstance(cause, CreateSession) or (isinstance(cause, Submit) and cause.start_session)
    for session in after.changed_sessions:
        if session.id in before.sessions:
            continue
        if not (creates and getattr(cause, "session", None) == session.id):
            yield f"session {session.id} appeared without being created"
