"""Indexes over one world, built once and shared by every rule check.

Rules re-derive what the core should have done from the job records (when a
session's first job started, when its last job ended), not from the timers the
core keeps, so a broken timer in the core cannot hide itself.
"""

from __future__ import annotations

from model.config import Config, Number
from model.world import JobRecord, SessionRecord, World


class View:
    """Lookups by id, per backend and per session, for one world."""

    __slots__ = (
        "active",
        "by_session",
        "config",
        "jobs",
        "now",
        "queued",
        "running",
        "sessions",
        "world",
    )

    def __init__(self, world: World) -> None:
        self.world = world
        self.config = world.config
        self.now = world.now
        self.jobs: dict[str, JobRecord] = {}
        self.by_session: dict[str, list[JobRecord]] = {}
        self.running: dict[str, list[JobRecord]] = {}
        self.queued: dict[str, list[JobRecord]] = {}
        for job in world.jobs:
            self.jobs[job.id] = job
            if job.session is not None:
                self.by_session.setdefault(job.session, []).append(job)
            if job.state == "running":
                self.running.setdefault(job.backend, []).append(job)
            elif job.state == "queued":
                self.queued.setdefault(job.backend, []).append(job)
        self.sessions: dict[str, SessionRecord] = {}
        self.active: dict[str, list[SessionRecord]] = {}
        for session in world.sessions:
            self.sessions[session.id] = session
            if session.state == "active":
                self.active.setdefault(session.backend, []).append(session)

    def jobs_of(self, session_id: str) -> list[JobRecord]:
        return self.by_session.get(session_id, [])

    def first_started(self, session_id: str) -> JobRecord | None:
        """The session's job that started running first, if any did."""
        first: JobRecord | None = None
        for job in self.jobs_of(session_id):
            if job.started_at is not None and (first is None or job.started_at < first.started_at):  # type: ignore[operator]
                first = job
        return first

    def unfinished(self, session_id: str) -> list[JobRecord]:
        return [j for j in self.jobs_of(session_id) if j.state in ("queued", "running")]

    def idle_since(self, session_id: str) -> Number | None:
        """When the session's last job ended, if none is queued or running now."""
        last: Number | None = None
        for job in self.jobs_of(session_id):
            if job.ended_at is None:
                return None
            if last is None or job.ended_at > last:
                last = job.ended_at
        return last

    def expected_expiry(self, session_id: str) -> Number | None:
        """First job's start plus the max TTL the seeds give (decision D07)."""
        first = self.first_started(session_id)
        if first is None or first.started_at is None:
            return None
        return first.started_at + expected_max_ttl(self.sessions[session_id], first, self.config)

    def reservation_job(self, job: JobRecord) -> bool:
        """A plain job whose instance holds a window open now on its backend (D10)."""
        return job.session is None and any(
            r.backend == job.backend and r.instance == job.instance and r.start <= self.now < r.end
            for r in self.config.reservations
        )


def expected_max_ttl(session: SessionRecord, first_job: JobRecord, config: Config) -> Number:
    """min(system limit, the session's max_time, else the first job's max_execution_time)."""
    limits = [config.system_max_ttl]
    if session.max_time is not None:
        limits.append(session.max_time)
    elif first_job.max_execution_time is not None:
        limits.append(first_job.max_execution_time)
    return min(limits)


def expected_time_limit(job: JobRecord, config: Config) -> Number:
    """min(the job's max_execution_time, the system cap) (decision D13)."""
    if job.max_execution_time is None:
        return config.job_time_cap
    return min(job.max_execution_time, config.job_time_cap)
