"""The core's records: one mutable object per job, session and backend, with their indexes.

The core (:mod:`sessionspec.model.core`) changes records in place and keeps what it looks
up often next to them: a session's jobs and its queued ones, a backend's queue, its
running count and its active session. Each record turns into the immutable
:class:`~sessionspec.model.world.JobRecord` or :class:`~sessionspec.model.world.SessionRecord`
of a :class:`~sessionspec.model.world.World` (``frozen()``) and back (``thaw``), field for
field; the frozen form is cached until the record changes, so an unchanged record is the
very same object in the world before and after a transition.

``seq`` numbers records of one kind in creation order: worlds list them in that order,
and deadlines due at one instant fire in it. ``mark`` is the number of the last
transition that saved the record's fields, so a transition saves each record it
changes once (see ``Core.rollback``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sessionspec.model.clock import later
from sessionspec.model.config import Number, Reservation
from sessionspec.model.world import JobRecord, SessionRecord

_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__


class Job:
    """A job: the fields of :class:`~sessionspec.model.world.JobRecord`, its session and its limit."""

    __slots__ = (
        "backend",
        "ended_at",
        "ended_by",
        "frozen_as",
        "id",
        "instance",
        "limit",
        "mark",
        "max_execution_time",
        "owner",
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
        owner: SessionState | None,
        instance: str,
        max_execution_time: Number | None,
        submitted_at: Number,
        limit: Number,
    ) -> None:
        self.seq = seq
        self.id = job_id
        self.backend = backend
        self.owner = owner  # the session record, or None for a plain job
        self.session = None if owner is None else owner.id
        self.instance = instance
        self.max_execution_time = max_execution_time
        self.state = "queued"
        self.submitted_at = submitted_at
        self.started_at: Number | None = None
        self.ended_at: Number | None = None
        self.ended_by: str | None = None
        self.limit = limit  # how long it may run, as the variant reads decision D13
        self.mark = -1
        self.frozen_as: JobRecord | None = None

    def saved(self) -> tuple[Any, ...]:
        return (self.state, self.started_at, self.ended_at, self.ended_by)

    def restore(self, saved: tuple[Any, ...]) -> None:
        self.state, self.started_at, self.ended_at, self.ended_by = saved
        self.frozen_as = None

    def fields(self) -> tuple[Any, ...]:
        """Every field of the frozen record, plain values only (how retired records are stored)."""
        return (
            self.id,
            self.backend,
            self.session,
            self.instance,
            self.max_execution_time,
            self.state,
            self.submitted_at,
            self.started_at,
            self.ended_at,
            self.ended_by,
        )

    def frozen(self) -> JobRecord:
        record = self.frozen_as
        if record is None:
            record = self.frozen_as = _new(JobRecord, self.fields())
        return record


class SessionState:
    """A session: the fields of :class:`~sessionspec.model.world.SessionRecord`, plus its jobs."""

    __slots__ = (
        "accepting",
        "backend",
        "created_at",
        "ended_at",
        "frozen_as",
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
        self.jobs: list[Job] = []  # every job of the session, in submission order
        # Its queued jobs in submission order; a job that left the queue is dropped lazily.
        self.queued: deque[Job] = deque()
        self.unfinished = 0  # jobs queued or running
        self.mark = -1
        self.frozen_as: SessionRecord | None = None

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
        self.frozen_as = None

    def first_queued(self) -> Job | None:
        """The session's oldest queued job."""
        return first_queued(self.queued)

    def fields(self) -> tuple[Any, ...]:
        return (
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

    def frozen(self) -> SessionRecord:
        record = self.frozen_as
        if record is None:
            record = self.frozen_as = _new(SessionRecord, self.fields())
        return record


class Backend:
    """What one backend has: its queue, its running jobs, its active session."""

    __slots__ = ("active", "name", "plain_by_instance", "queue", "reservations", "running", "simulator")

    def __init__(self, name: str, simulator: bool, reservations: tuple[Reservation, ...]) -> None:
        self.name = name
        self.simulator = simulator
        # Every queued job in submission order; a job that left the queue is dropped lazily.
        self.queue: deque[Job] = deque()
        self.running = 0
        self.active: SessionState | None = None
        self.reservations = reservations  # the windows configured on this backend
        # Queued plain jobs per instance, kept only where reservations exist (decision D10).
        self.plain_by_instance: dict[str, deque[Job]] = {}

    def first_queued(self) -> Job | None:
        return first_queued(self.queue)


def first_queued(jobs: deque[Job] | tuple[()]) -> Job | None:
    """The first job of ``jobs`` still queued; jobs before it, which left the queue, are dropped."""
    while jobs:
        job = jobs[0]
        if job.state == "queued":
            return job
        jobs.popleft()
    return None
