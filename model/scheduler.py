"""Which job may start on a backend, and starting it.

Per backend, in priority order (seed QUEUE "How session jobs fit into the job
queue", decisions D01, D10):

1. plain jobs of an instance whose reservation window is open on the backend;
2. otherwise, if a session is active there, its oldest queued job, or nothing at
   all while it has none (the backend is held for it during the interactive
   timeout);
3. otherwise any job of the fair-share queue: plain jobs, and jobs of pending or
   inactive sessions (which activate or reactivate their session by starting).

Simulators have no queue: every job on one starts at once (decision D11).
"""

from __future__ import annotations

from typing import NamedTuple

from sessionspec.model.config import Config, Number
from sessionspec.model.errors import PolicyError
from sessionspec.model.policy import Policy
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import (
    ACTIVE,
    INACTIVE,
    PENDING,
    QUEUED,
    RUNNING,
    JobRecord,
    SessionRecord,
    World,
)

RESERVATION, SESSION_PRIORITY, FAIR_SHARE = "reservation", "session", "fair-share"


class Candidates(NamedTuple):
    """The jobs the rules allow to start next on one backend, and why."""

    tier: str
    jobs: tuple[JobRecord, ...]


def reservation_jobs(world: World, backend: str) -> tuple[JobRecord, ...]:
    """Queued plain jobs on ``backend`` whose instance holds an open window there."""
    instances = {
        r.instance for r in world.config.reservations if r.backend == backend and r.is_open(world.now)
    }
    if not instances:
        return ()
    return tuple(
        j
        for j in world.jobs
        if j.backend == backend and j.state == QUEUED and j.session is None and j.instance in instances
    )


def fair_share_jobs(world: World, backend: str) -> tuple[JobRecord, ...]:
    """Jobs on ``backend`` waiting in the normal queue, oldest first.

    Plain jobs, and of each pending or inactive session only its oldest queued job:
    a session's jobs keep their submission order (decision D17).
    """
    waiting_sessions = {
        s.id for s in world.sessions if s.backend == backend and (s.state == PENDING or s.state == INACTIVE)
    }
    picked: list[JobRecord] = []
    for job in world.jobs:
        if job.backend != backend or job.state != QUEUED:
            continue
        if job.session is None:
            picked.append(job)
        elif job.session in waiting_sessions:
            picked.append(job)
            waiting_sessions.discard(job.session)
    return tuple(picked)


def allowed_starts(world: World, backend: str) -> Candidates | None:
    """What may start on an idle physical backend now; ``None`` if nothing may."""
    reserved = reservation_jobs(world, backend)
    if reserved:
        return Candidates(RESERVATION, reserved)
    active = world.active_on(backend)
    if active is not None:
        for job in world.jobs:
            if job.session == active.id and job.state == QUEUED:
                return Candidates(SESSION_PRIORITY, (job,))
        return None  # held for the active session during its interactive timeout
    waiting = fair_share_jobs(world, backend)
    return Candidates(FAIR_SHARE, waiting) if waiting else None


def max_ttl_value(config: Config, max_time: Number | None, first_job_limit: Number | None) -> Number:
    """min(system limit, the session's own max_time, else its first job's max_execution_time) (D07)."""
    own = max_time if max_time is not None else first_job_limit
    return config.system_max_ttl if own is None else min(config.system_max_ttl, own)


def max_ttl_for(session: SessionRecord, first_job: JobRecord, config: Config) -> Number:
    """The session's maximum timeout, fixed when its first job starts (decision D07)."""
    return max_ttl_value(config, session.max_time, first_job.max_execution_time)


def start_job(tx: Transaction, job: JobRecord) -> None:
    """Start a queued job; its session becomes (or stays) active."""
    tx.fire_job(job, "start")
    if job.session is None:
        return
    session = tx.world.session(job.session)
    assert session is not None, "a session job always has its session"
    if session.state == PENDING:
        tx.fire_session(
            session,
            "first_job_started",
            started_at=tx.now,
            max_ttl=max_ttl_for(session, job, tx.world.config),
            idle_since=None,
        )
    elif session.state == INACTIVE:
        tx.fire_session(session, "reactivating_job_started", idle_since=None)
    elif session.state == ACTIVE and session.idle_since is not None:
        tx.put_session(session, session._replace(idle_since=None))


def settle(tx: Transaction, policy: Policy) -> None:
    """Start whatever the rules require to start now, on every backend with a queue."""
    world = tx.world
    busy: set[str] = set()
    waiting: dict[str, list[JobRecord]] = {}
    for job in world.jobs:
        if job.state == QUEUED:
            waiting.setdefault(job.backend, []).append(job)
        elif job.state == RUNNING:
            busy.add(job.backend)
    for backend, queued in waiting.items():
        if world.config.is_simulator(backend):
            for job in queued:
                start_job(tx, job)
            continue
        if backend in busy:
            continue
        allowed = allowed_starts(tx.world, backend)
        if allowed is None:
            continue
        jobs = allowed.jobs
        pick = jobs[0] if len(jobs) == 1 else policy.choose(tx.world, backend, jobs)
        if pick not in jobs:
            raise PolicyError(backend, getattr(pick, "id", repr(pick)), tuple(j.id for j in jobs))
        start_job(tx, pick)
