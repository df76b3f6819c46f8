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

from collections.abc import Callable, Iterable

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
    """The representative of ``world``: time made relative, finished business forgotten."""
    return forget_history(_relative(world, remembered))


def _relative(world: World, remembered: Number) -> World:
    last_window = max((r.end for r in world.config.reservations), default=0)
    # while a window is still to close the clock stays absolute: windows are absolute
    base = world.now if world.now < last_window else later(last_window, remembered)
    shift = elapsed(world.now, base)
    oldest = elapsed(remembered, base)

    def moved(t: Number | None) -> Number | None:
        if t is None:
            return None
        t = later(t, shift)
        return t if t > oldest else oldest

    jobs = tuple(_moved_job(j, moved) for j in world.jobs)
    sessions = tuple(_moved_session(s, moved) for s in world.sessions)
    if shift == 0 and _same(jobs, world.jobs) and _same(sessions, world.sessions):
        return world
    return World(world.config, base, sessions, jobs)


def _moved_job(job: JobRecord, moved: Callable[[Number | None], Number | None]) -> JobRecord:
    if job.instance == FORGOTTEN:  # finished business keeps its instants at 0
        return job
    submitted, started, ended = moved(job.submitted_at), moved(job.started_at), moved(job.ended_at)
    if submitted == job.submitted_at and started == job.started_at and ended == job.ended_at:
        return job
    # positional construction: NamedTuple._replace costs several times more, on a hot path
    assert submitted is not None
    return JobRecord(job.id, job.backend, job.session, job.instance, job.max_execution_time, job.state,
                     submitted, started, ended, job.ended_by)  # fmt: skip


def _moved_session(session: SessionRecord, moved: Callable[[Number | None], Number | None]) -> SessionRecord:
    if session.ended_at is not None:  # finished business: forget_history clears its instants
        return session
    created, started = moved(session.created_at), moved(session.started_at)
    idle, ended = moved(session.idle_since), moved(session.ended_at)
    if (created, started, idle, ended) == (
        session.created_at,
        session.started_at,
        session.idle_since,
        session.ended_at,
    ):
        return session
    assert created is not None
    return SessionRecord(session.id, session.backend, session.max_time, session.state, session.accepting,
                         created, started, session.max_ttl, idle, session.got_job, ended)  # fmt: skip


def _same(new: tuple[object, ...], old: tuple[object, ...]) -> bool:
    return all(a is b for a, b in zip(new, old, strict=True))


def forget_history(world: World) -> World:
    """The world with finished business reduced to what still matters: id, place and state.

    A job that ended outside any live session, and a session that ended, never change
    again, and nothing that happens later depends on when they were submitted, started
    or ended, on their instance, limits or the event that ended them: only that they
    exist (their ids stay taken, they count against the bounds), where, and in which
    final state (decision D20).
    """
    live_sessions = {s.id for s in world.sessions if s.ended_at is None}
    jobs = tuple(
        _forgotten_job(j)
        if j.ended_at is not None and (j.session is None or j.session not in live_sessions)
        else j
        for j in world.jobs
    )
    sessions = tuple(s if s.ended_at is None else _forgotten_session(s) for s in world.sessions)
    if _same(jobs, world.jobs) and _same(sessions, world.sessions):
        return world
    return World(world.config, world.now, sessions, jobs)


def _forgotten_job(job: JobRecord) -> JobRecord:
    if job.instance == FORGOTTEN:
        return job
    return JobRecord(job.id, job.backend, job.session, FORGOTTEN, None, job.state, 0, 0, 0)


def _forgotten_session(session: SessionRecord) -> SessionRecord:
    forgotten = SessionRecord(
        session.id, session.backend, None, session.state, False, 0, 0, None, None, True, 0
    )
    return session if session == forgotten else forgotten


# the instance of a forgotten job: no instance has this name (they are non-empty)
FORGOTTEN = ""
