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

>>> from model.config import Config
>>> from model.world import JobRecord, World
>>> config = Config(system_max_ttl=4, interactive_ttl=1, job_time_cap=2)
>>> job = JobRecord("j1", "qpu", None, "a", None, "running", 7, started_at=8)
>>> memory(config, ())
5
>>> abstract(World(config, 9, (), (job,)), 5).jobs[0][6:8]  # now is 5: submitted 2 s ago, started 1 s ago
(3, 4)
"""

from __future__ import annotations

from collections.abc import Iterable

from model.config import Config, Number
from model.world import JobRecord, SessionRecord, World


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
    base = world.now if world.now < last_window else last_window + remembered
    shift = base - world.now
    oldest = base - remembered

    def at(t: Number) -> Number:
        return max(oldest, t + shift)

    def moved(t: Number | None) -> Number | None:
        return None if t is None else max(oldest, t + shift)

    fresh = all(_fresh(s, oldest) for s in world.sessions) and all(_fresh(j, oldest) for j in world.jobs)
    if shift == 0 and fresh:
        return world
    jobs = tuple(
        j._replace(
            submitted_at=at(j.submitted_at), started_at=moved(j.started_at), ended_at=moved(j.ended_at)
        )
        for j in world.jobs
    )
    sessions = tuple(
        s._replace(
            created_at=at(s.created_at),
            started_at=moved(s.started_at),
            idle_since=moved(s.idle_since),
            ended_at=moved(s.ended_at),
        )
        for s in world.sessions
    )
    return World(world.config, base, sessions, jobs)


def _fresh(record: JobRecord | SessionRecord, oldest: Number) -> bool:
    """No instant of the record lies further back than ``oldest``."""
    stamps: tuple[Number | None, ...]
    if isinstance(record, JobRecord):
        stamps = (record.submitted_at, record.started_at, record.ended_at)
    else:
        stamps = (record.created_at, record.started_at, record.idle_since, record.ended_at)
    return all(t is None or t >= oldest for t in stamps)


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
        JobRecord(j.id, j.backend, j.session, FORGOTTEN, None, j.state, 0, 0, 0)
        if j.ended_at is not None and (j.session is None or j.session not in live_sessions)
        else j
        for j in world.jobs
    )
    sessions = tuple(
        s
        if s.ended_at is None
        else SessionRecord(s.id, s.backend, None, s.state, False, 0, 0, None, None, True, 0)
        for s in world.sessions
    )
    return World(world.config, world.now, sessions, jobs)


# the instance of a forgotten job: no instance has this name (they are non-empty)
FORGOTTEN = ""
