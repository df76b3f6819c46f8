"""State abstraction: what of a world's past the future can still depend on.

Two worlds with the same future are one state for the explorer. Two reductions,
both exact for the model and for the rules (decision D20 of ``docs/decisions.md``):

* **finished business**: a job that ended outside any live session, and a session
  that ended, never change again; only their existence, state and id matter, not
  their instants, which are set to 0;
* **relative time**: every timer of the model runs for at most a few known lengths
  of time (the maximum timeout, the job time cap, the interactive and pending
  timeouts, and the values users may give). What matters is how long ago something
  happened, up to the longest of these; an instant further back than that is as good
  as any other. So instants are shifted so that ``now`` is fixed, and those older than
  the horizon of relevance are clamped to it. Reservation windows are absolute: until
  the last one closes, the clock is kept as it is.

Time therefore needs no bound: the explorer may let it run forever, and still meets
finitely many states.

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.world import JobRecord, World
>>> config = Config(system_max_ttl=4, interactive_ttl=1, job_time_cap=2)
>>> job = JobRecord("j1", "qpu", None, "a", None, "running", 7, started_at=8)
>>> memory(config, ())
5
>>> abstract(World(config, 9, (), (job,)), 5).jobs[0][6:8]  # now is 5: submitted 2 s ago, started 1 s ago
(3, 4)
"""

from __future__ import annotations

from collections.abc import Iterable

from sessionspec.model.clock import elapsed, later
from sessionspec.model.config import Config, Number
from sessionspec.model.world import JobRecord, SessionRecord, World


def memory(config: Config, lengths: Iterable[Number | None]) -> Number:
    """How far back an instant can still matter: the longest timer, plus one."""
    timers = [config.system_max_ttl, config.job_time_cap, config.interactive_ttl]
    if config.pending_timeout is not None:
        timers.append(config.pending_timeout)
    timers += [x for x in lengths if x is not None]
    return max(timers) + 1


def abstract(world: World, remembered: Number) -> World:
    """The representative of ``world``: time made relative, finished business forgotten.

    Finished business is reduced to what still matters: id, place and state. A job that
    ended outside any live session, and a session that ended, never change again, and
    nothing that happens later depends on when they were submitted, started or ended, on
    their instance, limits or the event that ended them: only that they exist (their ids
    stay taken, they count against the bounds), where, and in which final state (D20).

    One pass over the records; the world itself comes back when nothing changes, and each
    record that does not change is kept as the very same object.
    """
    last_window = max((r.end for r in world.config.reservations), default=0)
    # while a window is still to close the clock stays absolute: windows are absolute
    base = world.now if world.now < last_window else later(last_window, remembered)
    shift = elapsed(world.now, base)
    oldest = elapsed(remembered, base)
    live: set[str] = set()
    sessions: list[SessionRecord] = []
    changed = shift != 0
    for session in world.sessions:
        if session.ended_at is None:
            live.add(session.id)
            kept = _moved_session(session, shift, oldest)
        else:
            kept = _forgotten_session(session)
        changed = changed or kept is not session
        sessions.append(kept)
    jobs: list[JobRecord] = []
    for job in world.jobs:
        if job.ended_at is not None and (job.session is None or job.session not in live):
            moved = _forgotten_job(job)
        else:
            moved = _moved_job(job, shift, oldest)
        changed = changed or moved is not job
        jobs.append(moved)
    if not changed:
        return world
    return World(world.config, base, tuple(sessions), tuple(jobs))


def _moved(t: Number, shift: Number, oldest: Number) -> Number:
    """An instant on the relative clock: shifted, and no older than the horizon."""
    t = later(t, shift)
    return t if t > oldest else oldest


def _moved_job(job: JobRecord, shift: Number, oldest: Number) -> JobRecord:
    if job.instance == FORGOTTEN:  # finished business keeps its instants at 0
        return job
    submitted = _moved(job.submitted_at, shift, oldest)
    started = None if job.started_at is None else _moved(job.started_at, shift, oldest)
    ended = None if job.ended_at is None else _moved(job.ended_at, shift, oldest)
    if submitted == job.submitted_at and started == job.started_at and ended == job.ended_at:
        return job
    # positional construction: NamedTuple._replace costs several times more, on a hot path
    return JobRecord(job.id, job.backend, job.session, job.instance, job.max_execution_time, job.state,
                     submitted, started, ended, job.ended_by)  # fmt: skip


def _moved_session(session: SessionRecord, shift: Number, oldest: Number) -> SessionRecord:
    """A live session on the relative clock (an ended one is forgotten instead)."""
    created = _moved(session.created_at, shift, oldest)
    started = None if session.started_at is None else _moved(session.started_at, shift, oldest)
    idle = None if session.idle_since is None else _moved(session.idle_since, shift, oldest)
    if created == session.created_at and started == session.started_at and idle == session.idle_since:
        return session
    return SessionRecord(session.id, session.backend, session.max_time, session.state, session.accepting,
                         created, started, session.max_ttl, idle, session.got_job, None)  # fmt: skip


def _forgotten_job(job: JobRecord) -> JobRecord:
    if job.instance == FORGOTTEN:
        return job
    return JobRecord(job.id, job.backend, job.session, FORGOTTEN, None, job.state, 0, 0, 0)


def _forgotten_session(session: SessionRecord) -> SessionRecord:
    if (
        session.max_time is None
        and not session.accepting
        and session.created_at == 0
        and session.started_at == 0
        and session.max_ttl is None
        and session.idle_since is None
        and session.got_job
        and session.ended_at == 0
    ):
        return session  # forgotten already
    return SessionRecord(session.id, session.backend, None, session.state, False, 0, 0, None, None, True, 0)


# the instance of a forgotten job: no instance has this name (they are non-empty)
FORGOTTEN = ""
