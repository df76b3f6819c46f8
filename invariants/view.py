"""Indexes over one world, built once and shared by every rule check.

Rules re-derive what the core should have done from the job records (when a
session's first job started, when its last job ended), not from the timers the
core keeps, so a broken timer in the core cannot hide itself.

A view built for the world after a transition also knows which records that
transition changed (records are immutable and the core reuses unchanged ones, so
identity tells). State invariants look at the *recent* records: those still live
and those changed by the last transition. A record that ended earlier was checked
when it ended, and TERM-FINAL checks on every step that it never changes again.
"""

from __future__ import annotations

from typing import TypeVar

from sessionspec.model.clock import later
from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config, Number
from sessionspec.model.world import JobRecord, SessionRecord, World

FINAL_JOB_STATES = JOB.finals
FINAL_SESSION_STATES = SESSION.finals


class SessionStats:
    """Facts about one session derived from its jobs (in submission order)."""

    __slots__ = ("first_started", "jobs", "last_end", "unfinished")

    def __init__(self, jobs: list[JobRecord]) -> None:
        self.jobs = jobs
        self.first_started: JobRecord | None = None
        self.unfinished = 0
        self.last_end: Number | None = None
        for job in jobs:
            if job.ended_at is None:
                self.unfinished += 1
            elif self.last_end is None or job.ended_at > self.last_end:
                self.last_end = job.ended_at
            started = job.started_at
            # ties go to the older job: a session's jobs start in submission order (D17)
            if started is not None and (
                self.first_started is None or started < self.first_started.started_at  # type: ignore[operator]
            ):
                self.first_started = job


_NO_STATS = SessionStats([])


class View:
    """Lookups by id, per backend and per session, for one world.

    ``View(world)`` indexes a world from scratch. ``View(world, previous)``, where
    ``previous`` is the view of the world just before a transition, patches that view
    with the records the transition changed: the work is proportional to what changed
    and to what is live, not to everything the world ever held.
    """

    __slots__ = (
        "active",
        "by_session",
        "changed_jobs",
        "changed_sessions",
        "config",
        "jobs",
        "live_jobs",
        "live_sessions",
        "lost_jobs",
        "lost_sessions",
        "now",
        "queued",
        "recent_jobs",
        "recent_sessions",
        "running",
        "sessions",
        "stats",
        "world",
    )

    def __init__(self, world: World, previous: View | None = None) -> None:
        self.world = world
        self.config = world.config
        self.now = world.now
        old = None if previous is None else previous.world
        self.changed_jobs, self.lost_jobs = _changed(old.jobs if old else None, world.jobs)
        self.changed_sessions, self.lost_sessions = _changed(old.sessions if old else None, world.sessions)
        if previous is None or self.lost_jobs or self.lost_sessions:
            self._index_all(world)
        else:
            self._patch(previous)
        self.running: dict[str, list[JobRecord]] = {}
        self.queued: dict[str, list[JobRecord]] = {}
        for job in self.live_jobs.values():
            target = self.running if job.state == "running" else self.queued
            target.setdefault(job.backend, []).append(job)
        self.active: dict[str, list[SessionRecord]] = {}
        for session in self.live_sessions.values():
            if session.state == "active":
                self.active.setdefault(session.backend, []).append(session)
        if previous is None:
            self.recent_jobs = list(world.jobs)
            self.recent_sessions = list(world.sessions)
        else:
            self.recent_jobs = [*self.live_jobs.values()]
            self.recent_jobs += [j for j in self.changed_jobs if j.state in FINAL_JOB_STATES]
            self.recent_sessions = [*self.live_sessions.values()]
            self.recent_sessions += [s for s in self.changed_sessions if s.state in FINAL_SESSION_STATES]

    def _index_all(self, world: World) -> None:
        self.jobs = {j.id: j for j in world.jobs}
        self.sessions = {s.id: s for s in world.sessions}
        self.live_jobs = {j.id: j for j in world.jobs if j.state not in FINAL_JOB_STATES}
        self.live_sessions = {s.id: s for s in world.sessions if s.state not in FINAL_SESSION_STATES}
        self.by_session: dict[str, list[JobRecord]] = {}
        for job in world.jobs:
            if job.session is not None:
                self.by_session.setdefault(job.session, []).append(job)
        self.stats = {sid: SessionStats(jobs) for sid, jobs in self.by_session.items()}

    def _patch(self, previous: View) -> None:
        self.jobs = previous.jobs.copy()
        self.sessions = previous.sessions.copy()
        self.live_jobs = previous.live_jobs.copy()
        self.live_sessions = previous.live_sessions.copy()
        self.by_session = previous.by_session.copy()
        self.stats = previous.stats.copy()
        touched: dict[str, None] = {}
        for job in self.changed_jobs:
            self.jobs[job.id] = job
            if job.state in FINAL_JOB_STATES:
                self.live_jobs.pop(job.id, None)
            else:
                self.live_jobs[job.id] = job
            if job.session is not None:
                touched[job.session] = None
        for session in self.changed_sessions:
            self.sessions[session.id] = session
            if session.state in FINAL_SESSION_STATES:
                self.live_sessions.pop(session.id, None)
            else:
                self.live_sessions[session.id] = session
        for session_id in touched:
            known = self.by_session.get(session_id, [])
            ids = {j.id for j in known}
            jobs = [self.jobs[j.id] for j in known]
            jobs += [j for j in self.changed_jobs if j.session == session_id and j.id not in ids]
            self.by_session[session_id] = jobs
            self.stats[session_id] = SessionStats(jobs)

    def jobs_of(self, session_id: str) -> list[JobRecord]:
        return self.stats.get(session_id, _NO_STATS).jobs

    def first_started(self, session_id: str) -> JobRecord | None:
        """The session's job that started running first, if any did."""
        return self.stats.get(session_id, _NO_STATS).first_started

    def busy(self, session_id: str) -> bool:
        """Does the session have a job queued or running?"""
        return self.stats.get(session_id, _NO_STATS).unfinished > 0

    def unfinished(self, session_id: str) -> list[JobRecord]:
        return [j for j in self.jobs_of(session_id) if j.ended_at is None]

    def idle_since(self, session_id: str) -> Number | None:
        """When the session's last job ended, if none is queued or running now."""
        stats = self.stats.get(session_id, _NO_STATS)
        return None if stats.unfinished else stats.last_end

    def expected_expiry(self, session_id: str) -> Number | None:
        """First job's start plus the max TTL the seeds give (decision D07)."""
        first = self.first_started(session_id)
        session = self.sessions.get(session_id)
        if first is None or first.started_at is None or session is None:
            return None
        return later(first.started_at, expected_max_ttl(session, first, self.config))

    def reservation_job(self, job: JobRecord) -> bool:
        """A plain job whose instance holds a window open now on its backend (D10)."""
        if job.session is not None:
            return False
        return any(
            r.backend == job.backend and r.instance == job.instance and r.start <= self.now < r.end
            for r in self.config.reservations
        )


R = TypeVar("R", JobRecord, SessionRecord)


def _changed(old: tuple[R, ...] | None, new: tuple[R, ...]) -> tuple[list[R], list[str]]:
    """Records of ``new`` that are not the very object at their position in ``old``, and
    the ids of ``old`` that ``new`` no longer holds (the core only ever appends records)."""
    if old is None or old is new:
        return [], []
    changed: list[R] = []
    displaced = len(old) > len(new)
    for before, after in zip(old, new, strict=False):
        if before is not after:
            changed.append(after)
            displaced = displaced or before.id != after.id
    changed.extend(new[len(old) :])
    if not displaced:
        return changed, []
    kept = {r.id for r in new}
    return changed, [r.id for r in old if r.id not in kept]


def expected_max_ttl(session: SessionRecord, first_job: JobRecord, config: Config) -> Number:
    """min(system limit, the session's max_time, else the first job's max_execution_time)."""
    own = session.max_time if session.max_time is not None else first_job.max_execution_time
    return config.system_max_ttl if own is None or own >= config.system_max_ttl else own


def expected_time_limit(job: JobRecord, config: Config) -> Number:
    """min(the job's max_execution_time, the system cap) (decision D13)."""
    if job.max_execution_time is None:
        return config.job_time_cap
    return min(job.max_execution_time, config.job_time_cap)
