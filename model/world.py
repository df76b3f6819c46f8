"""The immutable, hashable world state the scheduler core works on.

A world is plain data: the configuration, the clock, and one record per session
and per job, in creation order (which is also the first-in-first-out order of the
queues). Per-backend views (running job, active session, queue) are derived from
the records, so they can never disagree with them.

>>> world = World.empty()
>>> world.now, world.sessions, world.jobs
(0, (), ())
>>> hash(world) == hash(World.empty())
True
"""

from __future__ import annotations

from typing import NamedTuple

from sessionspec.model.clock import later
from sessionspec.model.compiled import SESSION
from sessionspec.model.config import Config, Number

QUEUED, RUNNING = "queued", "running"
_FINAL_SESSION_STATES = SESSION.finals
PENDING, ACTIVE, INACTIVE = "pending", "active", "inactive"


class JobRecord(NamedTuple):
    """One accepted job."""

    id: str
    backend: str
    session: str | None
    instance: str
    max_execution_time: Number | None
    state: str
    submitted_at: Number
    started_at: Number | None = None
    ended_at: Number | None = None
    # The declared Job event that ended the job (for example "exceed_time_limit").
    ended_by: str | None = None

    @property
    def unfinished(self) -> bool:
        return self.state == QUEUED or self.state == RUNNING


class SessionRecord(NamedTuple):
    """One session."""

    id: str
    backend: str
    max_time: Number | None
    state: str
    accepting: bool
    created_at: Number
    # The max-TTL clock: set when the first job starts (seed INTRO "How sessions work" 2).
    started_at: Number | None = None
    max_ttl: Number | None = None
    # Start of the interactive-timeout window: the session is active and idle since then.
    idle_since: Number | None = None
    got_job: bool = False
    ended_at: Number | None = None

    @property
    def live(self) -> bool:
        return self.state not in _FINAL_SESSION_STATES

    @property
    def expires_at(self) -> Number | None:
        if self.started_at is None or self.max_ttl is None:
            return None
        return later(self.started_at, self.max_ttl)


class World(NamedTuple):
    """Everything the scheduler knows at one instant."""

    config: Config
    now: Number
    sessions: tuple[SessionRecord, ...]
    jobs: tuple[JobRecord, ...]

    @classmethod
    def empty(cls, config: Config | None = None) -> World:
        return cls(config if config is not None else Config(), 0, (), ())

    def session(self, session_id: str) -> SessionRecord | None:
        for s in self.sessions:
            if s.id == session_id:
                return s
        return None

    def job(self, job_id: str) -> JobRecord | None:
        for j in self.jobs:
            if j.id == job_id:
                return j
        return None

    def jobs_of(self, session_id: str) -> tuple[JobRecord, ...]:
        return tuple(j for j in self.jobs if j.session == session_id)

    def unfinished_jobs_of(self, session_id: str) -> int:
        return sum(1 for j in self.jobs if j.session == session_id and j.unfinished)

    def backends(self) -> tuple[str, ...]:
        """Every backend the world knows: configured ones first, then those in use."""
        seen = dict.fromkeys(self.config.backends)
        for s in self.sessions:
            seen.setdefault(s.backend)
        for j in self.jobs:
            seen.setdefault(j.backend)
        return tuple(seen)

    def running_on(self, backend: str) -> tuple[JobRecord, ...]:
        return tuple(j for j in self.jobs if j.backend == backend and j.state == RUNNING)

    def active_on(self, backend: str) -> SessionRecord | None:
        for s in self.sessions:
            if s.backend == backend and s.state == ACTIVE:
                return s
        return None

    def queued_on(self, backend: str) -> tuple[JobRecord, ...]:
        """Queued jobs of a backend, oldest first."""
        return tuple(j for j in self.jobs if j.backend == backend and j.state == QUEUED)

    def with_session(self, new: SessionRecord) -> World:
        return self._replace(sessions=tuple(new if s.id == new.id else s for s in self.sessions))

    def with_job(self, new: JobRecord) -> World:
        return self._replace(jobs=tuple(new if j.id == new.id else j for j in self.jobs))
