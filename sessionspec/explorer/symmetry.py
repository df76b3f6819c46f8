"""Symmetry reduction: worlds that differ only by names are explored once.

Nothing in the rules depends on what a job, a session or an instance is called:
only on which records belong together, on each backend's order of submission, and
on which instance holds a reservation. :func:`canonical` renames and reorders a
world into one representative of its class:

* jobs are grouped by backend (in the configuration's order), keeping each backend's
  submission order, which is its queue order, and renamed ``j1``, ``j2``, ...;
* sessions are sorted by their backend, their fields and the positions of their jobs,
  and renamed ``s1``, ``s2``, ...;
* instances named by no reservation are renamed in order of first use, onto the
  bounds' list of instances.

The order of records *across* backends carries no meaning: each backend has its own
queue, and the scheduler's choices on one backend never look at another (decision
D20 of ``docs/decisions.md``).

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.world import JobRecord, World
>>> config = Config(backends=("q1", "q2"))
>>> a = JobRecord("j1", "q1", None, "x", None, "queued", 0)
>>> b = JobRecord("j2", "q2", None, "y", None, "queued", 0)
>>> one = World(config, 0, (), (a, b))
>>> two = World(config, 0, (), (b._replace(id="j1"), a._replace(id="j2")))
>>> canonical(one, ("x", "y")).world == canonical(two, ("x", "y")).world
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sessionspec.model.inputs import Input
from sessionspec.model.world import JobRecord, SessionRecord, World


class Renaming(NamedTuple):
    """A world's representative, and how the names of the original map onto it."""

    world: World
    jobs: dict[str, str]
    sessions: dict[str, str]
    instances: dict[str, str]

    def to_original(self, inp: Input) -> Input:
        """The input, written in the representative's names, in the original's names."""
        changes: dict[str, Any] = {}
        job, session, instance = (getattr(inp, f, None) for f in ("job", "session", "instance"))
        if isinstance(job, str):
            changes["job"] = _inverse(self.jobs).get(job, job)
        if isinstance(session, str):
            changes["session"] = _inverse(self.sessions).get(session, session)
        if isinstance(instance, str):
            changes["instance"] = _inverse(self.instances).get(instance, instance)
        renamed: Input = inp._replace(**changes)
        return renamed


def _inverse(mapping: dict[str, str]) -> dict[str, str]:
    return {new: old for old, new in mapping.items()}


def _order(value: object) -> tuple[int, object]:
    """A sort key for optional fields: ``None`` first, then by value."""
    return (0, 0) if value is None else (1, value)


def canonical_world(world: World, instance_pool: tuple[str, ...]) -> World:
    """The representative of ``world``'s symmetry class (:func:`canonical` without the renaming).

    Most worlds the explorer meets are their own representative already; telling so takes one
    pass over the records, while renaming takes several and builds new ones.
    """
    if _is_canonical(world, instance_pool):
        return world
    return canonical(world, instance_pool).world


def _is_canonical(world: World, instance_pool: tuple[str, ...]) -> bool:
    """Would :func:`canonical` give ``world`` itself? True only if so; a world it cannot tell
    about quickly (a backend the configuration does not name) is left to :func:`canonical`."""
    config = world.config
    backends = config.backends
    reserved = [r.instance for r in config.reservations]
    free = [i for i in instance_pool if i not in reserved]
    next_free = 0
    rank = 0
    for i, job in enumerate(world.jobs):
        if job.id != _name("j", i):
            return False
        if job.backend != backends[rank]:
            # the records of one backend must come together, in the configuration's order
            while rank < len(backends) and backends[rank] != job.backend:
                rank += 1
            if rank == len(backends):
                return False
        instance = job.instance
        if instance in free:  # interchangeable instances are named in order of first use
            if free.index(instance) > next_free:
                return False
            if free.index(instance) == next_free:
                next_free += 1
    sessions = world.sessions
    for i, session in enumerate(sessions):
        if session.id != _name("s", i):
            return False
    if len(sessions) < 2:
        return True
    backend_rank = {b: i for i, b in enumerate(backends)}
    positions: dict[str, list[int]] = {}
    for i, job in enumerate(world.jobs):
        if job.session is not None:
            positions.setdefault(job.session, []).append(i)
    keys = [_session_key(s, backend_rank, positions) for s in sessions]
    return all(keys[i] <= keys[i + 1] for i in range(len(keys) - 1))


_NAMES: dict[str, list[str]] = {"j": [], "s": []}


def _name(prefix: str, index: int) -> str:
    """The canonical name of the record at ``index`` (0-based): ``j1``, ``s2``, ..."""
    names = _NAMES[prefix]
    while len(names) <= index:
        names.append(f"{prefix}{len(names) + 1}")
    return names[index]


def canonical(world: World, instance_pool: tuple[str, ...]) -> Renaming:
    """The representative of ``world``'s symmetry class, with the renaming that gives it."""
    config = world.config
    backend_rank = {b: i for i, b in enumerate(config.backends)}
    jobs = sorted(world.jobs, key=lambda j: backend_rank.get(j.backend, len(backend_rank)))
    job_names = {job.id: f"j{i}" for i, job in enumerate(jobs, 1)}
    positions: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        if job.session is not None:
            positions.setdefault(job.session, []).append(i)
    sessions = sorted(world.sessions, key=lambda s: _session_key(s, backend_rank, positions))
    session_names = {s.id: f"s{i}" for i, s in enumerate(sessions, 1)}
    reserved = {r.instance for r in config.reservations}
    free = [i for i in instance_pool if i not in reserved]
    interchangeable = set(free)
    used = [j.instance for j in jobs if j.instance in interchangeable]
    order = list(dict.fromkeys([*used, *free]))
    instance_names = {old: new for old, new in zip(order, free, strict=False)}
    renamed_jobs = tuple(_rename_job(j, job_names, session_names, instance_names) for j in jobs)
    renamed_sessions = tuple(
        s if session_names[s.id] == s.id else SessionRecord(session_names[s.id], *s[1:]) for s in sessions
    )
    if _same_records(renamed_jobs, world.jobs) and _same_records(renamed_sessions, world.sessions):
        # already its own representative (the common case): keep the very object, which
        # also lets the rule views see that nothing changed
        return Renaming(world, job_names, session_names, instance_names)
    representative = World(config, world.now, renamed_sessions, renamed_jobs)
    return Renaming(representative, job_names, session_names, instance_names)


def _same_records(new: tuple[object, ...], old: tuple[object, ...]) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old, strict=True))


def _session_key(
    session: SessionRecord, backend_rank: dict[str, int], positions: dict[str, list[int]]
) -> tuple[object, ...]:
    fields = tuple(_order(v) for v in session[1:])
    return (backend_rank.get(session.backend, len(backend_rank)), fields, positions.get(session.id, []))


def _rename_job(
    job: JobRecord, jobs: dict[str, str], sessions: dict[str, str], instances: dict[str, str]
) -> JobRecord:
    session = None if job.session is None else sessions.get(job.session, job.session)
    name, instance = jobs[job.id], instances.get(job.instance, job.instance)
    if name == job.id and session == job.session and instance == job.instance:
        return job
    # positional construction: NamedTuple._replace costs several times more, on a hot path
    return JobRecord(name, job.backend, session, instance, *job[4:])
