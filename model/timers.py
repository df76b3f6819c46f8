"""Deadlines: the instants at which time alone changes the world.

Four timers exist (decisions D02, D07, D13, D14): a session's maximum timeout, a
running job's own time limit, the interactive timeout of an active idle session,
and the optional pending timeout. A reservation window opening is an instant too:
nothing fires, but a waiting reservation job may now start.

When several deadlines fall due at one instant they fire in a fixed order (decision
D16): expiries first, so a session that expires at T is not also deactivated at T;
then job time limits, then interactive timeouts, then pending timeouts.
"""

from __future__ import annotations

from sessionspec.model.clock import later
from sessionspec.model.config import Number
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import ACTIVE, INACTIVE, PENDING, RUNNING, World


def next_deadline(world: World) -> Number | None:
    """The earliest instant after ``world.now`` at which something is due."""
    now, config = world.now, world.config
    best: Number | None = None
    for s in world.sessions:
        state = s.state
        if state in (ACTIVE, INACTIVE):
            due = s.expires_at
            if due is not None and due > now and (best is None or due < best):
                best = due
            if state == ACTIVE and s.idle_since is not None:
                due = later(s.idle_since, config.interactive_ttl)
                if due > now and (best is None or due < best):
                    best = due
        elif state == PENDING and not s.got_job and config.pending_timeout is not None:
            due = later(s.created_at, config.pending_timeout)
            if due > now and (best is None or due < best):
                best = due
    for j in world.jobs:
        if j.state == RUNNING and j.started_at is not None:
            due = later(j.started_at, j.time_limit(config))
            if due > now and (best is None or due < best):
                best = due
    for r in config.reservations:
        if r.start > now and (best is None or r.start < best):
            best = r.start
    return best


def fire_due(tx: Transaction) -> None:
    """Fire every deadline due at ``tx.now``, in the order of decision D16."""
    expire_sessions(tx)
    enforce_time_limits(tx)
    deactivate_idle_sessions(tx)
    close_unused_sessions(tx)


def expire_sessions(tx: Transaction) -> None:
    """Max TTL: the session ends; its queued jobs fail; a running job carries on."""
    for session in tx.world.sessions:
        expires_at = session.expires_at
        if not session.live or expires_at is None or expires_at > tx.now:
            continue
        tx.fire_session(session, "max_timeout", idle_since=None)
        for job in tx.world.jobs_of(session.id):
            if job.state == "queued":
                tx.fire_job(job, "session_expired", "the session reached its maximum timeout")


def enforce_time_limits(tx: Transaction) -> None:
    config = tx.world.config
    for job in tx.world.jobs:
        if job.state != RUNNING or job.started_at is None:
            continue
        if later(job.started_at, job.time_limit(config)) <= tx.now:
            ended = tx.fire_job(job, "exceed_time_limit", "the job ran longer than its time limit")
            tx.after_job_ended(ended)


def deactivate_idle_sessions(tx: Transaction) -> None:
    ittl = tx.world.config.interactive_ttl
    for session in tx.world.sessions:
        if session.state != ACTIVE or session.idle_since is None:
            continue
        if later(session.idle_since, ittl) <= tx.now:
            tx.fire_session(session, "interactive_timeout", idle_since=None)


def close_unused_sessions(tx: Transaction) -> None:
    timeout = tx.world.config.pending_timeout
    if timeout is None:
        return
    for session in tx.world.sessions:
        if session.state == PENDING and not session.got_job and later(session.created_at, timeout) <= tx.now:
            tx.fire_session(session, "pending_timeout")
