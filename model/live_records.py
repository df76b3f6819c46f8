"""Mutable records of the live world: one object per job and session, updated in place.

These are the working copies :class:`sessionspec.model.live.LiveWorld` keeps while it replays a long
trace. Each converts back to the immutable :class:`~sessionspec.model.world.JobRecord` or
:class:`~sessionspec.model.world.SessionRecord` it stands for, field for field, so the reference
model can take over from the live world at any point.

``seq`` numbers records in creation order (jobs and sessions share one counter): the
reference world keeps its records in that order, and so does every world rebuilt from
live records. ``mark`` is the number of the last transition that saved the record's
fields, so a transition saves each record it changes once (see ``LiveWorld.rollback``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sessionspec.model.clock import later
from sessionspec.model.config import Number
from sessionspec.model.world import JobRecord, SessionRecord


class LiveJob:
    """A job, as :class:`~sessionspec.model.world.JobRecord` describes it, plus its time limit."""

    __slots__ = (
        "backend",
        "ended_at",
        "ended_by",
        "id",
        "instance",
        "limit",
        "mark",
        "max_execution_time",
        "seq",
        "session",
        "started_at",
        "state",
        "submitted_at",
    )

    def __init__(
        self,
        seq: int,
        job_id: str,
        backend: str,
        session: LiveSession | None,
        instance: str,
        max_execution_time: Number | None,
        submitted_at: Number,
        limit: Number,
    ) -> None:
        self.seq = seq
        self.id = job_id
        self.backend = backend
        self.session = session
        self.instance = instance
        self.max_execution_time = max_execution_time
        self.state = "queued"
        self.submitted_at = submitted_at
        self.started_at: Number | None = None
        self.ended_at: Number | None = None
        self.ended_by: str | None = None
        self.limit = limit  # the job's own time limit, capped by the system (decision D13)
        self.mark = -1

    def saved(self) -> tuple[Any, ...]:
        return (self.state, self.started_at, self.ended_at, self.ended_by)

    def restore(self, saved: tuple[Any, ...]) -> None:
        self.state, self.started_at, self.ended_at, self.ended_by = saved

    def fields(self) -> tuple[Any, ...]:
        """Every field, plain values only (the form retired records are stored in)."""
        session = None if self.session is None else self.session.id
        return (
            self.seq,
            self.id,
            self.backend,
            session,
            self.instance,
            self.max_execution_time,
            self.state,
            self.submitted_at,
            self.started_at,
            self.ended_at,
            self.ended_by,
        )

    def record(self) -> JobRecord:
        return job_record(self.fields())


class LiveSession:
    """A session, as :class:`~sessionspec.model.world.SessionRecord` describes it, plus its jobs."""

    __slots__ = (
        "accepting",
        "backend",
        "created_at",
        "ended_at",
        "got_job",
        "id",
        "idle_since",
        "jobs",
        "mark",
        "max_time",
        "max_ttl",
        "queued",
        "seq",
        "started_at",
        "state",
        "unfinished",
    )

    def __init__(
        self, seq: int, session_id: str, backend: str, max_time: Number | None, created_at: Number
    ) -> None:
        self.seq = seq
        self.id = session_id
        self.backend = backend
        self.max_time = max_time
        self.state = "pending"
        self.accepting = True
        self.created_at = created_at
        self.started_at: Number | None = None
        self.max_ttl: Number | None = None
        self.idle_since: Number | None = None
        self.got_job = False
        self.ended_at: Number | None = None
        self.jobs: list[LiveJob] = []  # every job of the session, in submission order
        # Its queued jobs in submission order; a job that left the queue is dropped lazily.
        self.queued: deque[LiveJob] = deque()
        self.unfinished = 0  # jobs queued or running
        self.mark = -1

    @property
    def expires_at(self) -> Number | None:
        if self.started_at is None or self.max_ttl is None:
            return None
        return later(self.started_at, self.max_ttl)

    def saved(self) -> tuple[Any, ...]:
        return (
            self.state,
            self.accepting,
            self.started_at,
            self.max_ttl,
            self.idle_since,
            self.got_job,
            self.ended_at,
            self.unfinished,
        )

    def restore(self, saved: tuple[Any, ...]) -> None:
        (
            self.state,
            self.accepting,
            self.started_at,
            self.max_ttl,
            self.idle_since,
            self.got_job,
            self.ended_at,
            self.unfinished,
        ) = saved

    def first_queued(self) -> LiveJob | None:
        """The session's oldest queued job."""
        return first_queued(self.queued)

    def fields(self) -> tuple[Any, ...]:
        return (
            self.seq,
            self.id,
            self.backend,
            self.max_time,
            self.state,
            self.accepting,
            self.created_at,
            self.started_at,
            self.max_ttl,
            self.idle_since,
            self.got_job,
            self.ended_at,
        )

    def record(self) -> SessionRecord:
        return session_record(self.fields())


def job_record(fields: tuple[Any, ...]) -> JobRecord:
    """The immutable record of :meth:`LiveJob.fields` (the sequence number dropped)."""
    return JobRecord(*fields[1:])


def session_record(fields: tuple[Any, ...]) -> SessionRecord:
    """The immutable record of :meth:`LiveSession.fields` (the sequence number dropped)."""
    return SessionRecord(*fields[1:])


class Backend:
    """What one backend has: its queue, its running jobs, its active session."""

    __slots__ = ("active", "name", "plain_by_instance", "queue", "reservations", "running", "simulator")

    def __init__(self, name: str, simulator: bool, reservations: tuple[Any, ...]) -> None:
        self.name = name
        self.simulator = simulator
        # Every queued job in submission order; a job that left the queue is dropped lazily.
        self.queue: deque[LiveJob] = deque()
        self.running = 0
        self.active: LiveSession | None = None
        self.reservations = reservations  # the windows configured on this backend
        # Queued plain jobs per instance, kept only where reservations exist (decision D10).
        self.plain_by_instance: dict[str, deque[LiveJob]] = {}

    def first_queued(self) -> LiveJob | None:
        return first_queued(self.queue)


def first_queued(jobs: deque[LiveJob] | tuple[()]) -> LiveJob | None:
    """The first job of ``jobs`` still queued; jobs before it, which left the queue, are dropped."""
    while jobs:
        job = jobs[0]
        if job.state == "queued":
            return job
        jobs.popleft()
    return None
