"""Rules about who runs where: exclusivity, priority tiers, work conservation."""

from __future__ import annotations

from collections.abc import Iterator

from sessionspec.invariants.catalogue import state_rule, step_rule
from sessionspec.invariants.view import View
from sessionspec.model.step import Transition
from sessionspec.model.world import JobRecord

QUEUE_TIERS = "QUEUE 'How session jobs fit into the job queue'"


def started_jobs(before: View, after: View) -> Iterator[JobRecord]:
    """Jobs that went from queued (or not yet existing) to running in a transition."""
    for job in after.changed_jobs:
        if job.state == "running":
            old = before.jobs.get(job.id)
            if old is None or old.state == "queued":
                yield job


@state_rule(
    "EXC-ONE-RUNNING",
    "A physical backend runs at most one job at a time.",
    source=f"{QUEUE_TIERS}; facts: one quantum execution at a time",
)
def one_running_job(view: View) -> Iterator[str]:
    for backend, jobs in view.running.items():
        if len(jobs) > 1 and not view.config.is_simulator(backend):
            yield f"{backend} runs {len(jobs)} jobs at once: {', '.join(j.id for j in jobs)}"


@state_rule(
    "EXC-ONE-ACTIVE",
    "At most one session is active on a backend at any time.",
    source="INTRO 'How sessions work' 4 (normal selection resumes only on deactivation)",
    decisions=("D01",),
)
def one_active_session(view: View) -> Iterator[str]:
    for backend, sessions in view.active.items():
        if len(sessions) > 1:
            yield f"{backend} has {len(sessions)} active sessions: " + ", ".join(s.id for s in sessions)


@state_rule(
    "SES-JOB-BACKEND",
    "Every job of a session is queued and run on that session's backend.",
    source="QUEUE 'How to run a job in a session'",
    decisions=("D15",),
)
def session_job_on_session_backend(view: View) -> Iterator[str]:
    for job in view.recent_jobs:
        if job.session is None:
            continue
        session = view.sessions.get(job.session)
        if session is None:
            yield f"job {job.id} belongs to session {job.session}, which does not exist"
        elif session.backend != job.backend:
            yield (f"job {job.id} is on {job.backend} but its session {session.id} runs on {session.backend}")


@state_rule(
    "SIM-NO-SESSION",
    "No session exists on a simulator backend.",
    source="INTRO 'What is a session' (simulators have no queue)",
    decisions=("D11",),
)
def no_session_on_simulator(view: View) -> Iterator[str]:
    for session in view.recent_sessions:
        if view.config.is_simulator(session.backend):
            yield f"session {session.id} was created on simulator {session.backend}"


def _state_of(view: View, session_id: str) -> str | None:
    """A session's state; ``None`` for a session the world does not hold (a trace may claim one)."""
    session = view.sessions.get(session_id)
    return None if session is None else session.state


@state_rule(
    "WORK-CONSERVE",
    "A physical backend with no running job has no queued job that the rules allow to "
    "start (the hold for an active session aside), and a simulator keeps no job queued.",
    source=QUEUE_TIERS,
    decisions=("D09", "D01"),
)
def work_conserving(view: View) -> Iterator[str]:
    for backend, queued in view.queued.items():
        if view.config.is_simulator(backend):
            yield f"simulator {backend} keeps jobs waiting: {', '.join(j.id for j in queued)}"
            continue
        if view.running.get(backend):
            continue
        active = view.active.get(backend)
        eligible = [j for j in queued if view.reservation_job(j)]
        if not eligible and active:
            eligible = [j for j in queued if j.session == active[0].id]
        elif not eligible:
            eligible = [
                j
                for j in queued
                if j.session is None or _state_of(view, j.session) in ("pending", "inactive")
            ]
        if eligible:
            yield (f"{backend} is idle while {', '.join(j.id for j in eligible)} could start")


@step_rule(
    "RSV-PRIORITY",
    "While a reservation window is open on a backend, no other job starts there while a "
    "plain (non-session) job of the reserving instance is queued on it; session jobs get "
    "no reservation priority.",
    source=QUEUE_TIERS,
    decisions=("D10",),
)
def reservation_first(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job in started_jobs(before, after):
        if after.reservation_job(job):
            continue
        waiting = [j for j in after.queued.get(job.backend, ()) if after.reservation_job(j)]
        if waiting:
            yield (
                f"{job.id} started on {job.backend} while reservation job(s) "
                f"{', '.join(j.id for j in waiting)} were waiting"
            )


def _intruders(before: View, after: View) -> Iterator[tuple[JobRecord, str, bool]]:
    """Jobs that started beside another active session: (job, session, it had work)."""
    for job in started_jobs(before, after):
        if after.reservation_job(job):
            continue
        for session in after.active.get(job.backend, ()):
            if session.id != job.session:
                had_work = any(j.state == "queued" for j in before.jobs_of(session.id))
                yield job, session.id, had_work


@step_rule(
    "SES-PRIORITY",
    "While a session is active on a backend and has a job queued, no job from outside "
    "the session starts there (reservation jobs aside).",
    source="INTRO 'How sessions work' 3; QUEUE 'How session jobs fit into the job queue'",
)
def session_jobs_first(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job, session, had_work in _intruders(before, after):
        if had_work:
            yield f"{job.id} started while active session {session} had jobs queued"


@step_rule(
    "SES-ITTL-HOLD",
    "While a session is active on a backend with nothing queued, the backend is held "
    "for it: no job from outside the session starts there (reservation jobs aside).",
    source="INTRO 'How sessions work' 4",
    decisions=("D01", "D02"),
)
def backend_held_during_ittl(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job, session, had_work in _intruders(before, after):
        if not had_work:
            yield f"{job.id} started during the interactive timeout of session {session}"


def _activations(tr: Transition, before: View, after: View, source: str) -> Iterator[str]:
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        was = "pending" if old is None else old.state
        if was != source or session.state != "active":
            continue
        starters = [j for j in started_jobs(before, after) if j.session == session.id]
        if not starters:
            yield (
                f"session {session.id} became active from {source} at t={tr.after.now} "
                "without one of its jobs starting from the fair-share queue"
            )


@step_rule(
    "SES-FIRST-VIA-QUEUE",
    "A session becomes active only when its first job, picked from the fair-share queue, starts running.",
    source="INTRO 'How sessions work' 1; QUEUE 'How session jobs fit into the job queue'",
)
def first_job_through_queue(tr: Transition, before: View, after: View) -> Iterator[str]:
    yield from _activations(tr, before, after, "pending")


@step_rule(
    "SES-REACTIVATE-VIA-QUEUE",
    "A deactivated session becomes active again only when one of its jobs, picked "
    "from the fair-share queue, starts running.",
    source="INTRO 'How sessions work' 4 and its footnote; QUEUE 'How session jobs fit into the job queue'",
)
def reactivation_through_queue(tr: Transition, before: View, after: View) -> Iterator[str]:
    yield from _activations(tr, before, after, "inactive")


@step_rule(
    "SES-JOB-ORDER",
    "The jobs of one session start in the order they were submitted.",
    source="decision (the seeds are silent; a batch, unlike a session, promises no order)",
    decisions=("D17",),
)
def session_jobs_in_order(tr: Transition, before: View, after: View) -> Iterator[str]:
    for job in started_jobs(before, after):
        if job.session is None:
            continue
        for other in after.jobs_of(job.session):
            if other.id == job.id:
                break
            if other.state == "queued":
                yield f"{job.id} of session {job.session} started before the older {other.id}"
