"""A scratch builder for one transition of the world.

The transition function is pure: it takes a world and returns a new one. Inside,
a :class:`Transaction` collects the new records and the observations as changes
happen, so each change is written once, next to the observation that reports it.
Every state change goes through the compiled tables of the declarations.
"""

from __future__ import annotations

from typing import Any

from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.guards import SessionFacts
from sessionspec.model.observations import JobChanged, Observation, SessionChanged
from sessionspec.model.world import ACTIVE, JobRecord, SessionRecord, World


class Transaction:
    """Accumulates the changes of one transition; never shared between calls."""

    __slots__ = ("fired", "observations", "world")

    def __init__(self, world: World) -> None:
        self.world = world
        self.observations: list[Observation] = []
        # (machine, source, event, target) of every declared edge taken, for coverage
        self.fired: list[tuple[str, str, str, str]] = []

    @property
    def now(self) -> Any:
        return self.world.now

    def facts(self, session: SessionRecord) -> SessionFacts:
        expires_at = session.expires_at
        return SessionFacts(
            unfinished_jobs=self.world.unfinished_jobs_of(session.id),
            accepting=session.accepting,
            before_max_ttl=expires_at is None or self.now < expires_at,
            ever_got_job=session.got_job,
        )

    def fire_job(self, job: JobRecord, event: str, reason: str | None = None) -> JobRecord:
        """Move a job along a declared edge and report the state it entered."""
        target = JOB.fire(job.state, event, None)
        self.fired.append(("Job", job.state, event, target))
        changes: dict[str, Any] = {"state": target}
        if target == "running":
            changes["started_at"] = self.now
        elif JOB.is_final(target):
            changes["ended_at"] = self.now
            changes["ended_by"] = event
        new = job._replace(**changes)
        self.world = self.world.with_job(new)
        self.observations.append(JobChanged(self.now, job.id, target, reason))
        return new

    def fire_session(self, session: SessionRecord, event: str, **changes: Any) -> SessionRecord:
        """Move a session along a declared edge; report it if state or flag changed."""
        target = SESSION.fire(session.state, event, self.facts(session))
        self.fired.append(("Session", session.state, event, target))
        if SESSION.is_final(target):
            changes.setdefault("accepting", False)
            changes["ended_at"] = self.now
        new = session._replace(state=target, **changes)
        return self.put_session(session, new)

    def put_session(self, old: SessionRecord, new: SessionRecord) -> SessionRecord:
        """Store a session record; report it when its (state, accepting) changed."""
        self.world = self.world.with_session(new)
        if (old.state, old.accepting) != (new.state, new.accepting):
            self.observations.append(SessionChanged(self.now, new.id, new.state, new.accepting))
        return new

    def after_job_ended(self, job: JobRecord) -> None:
        """A job of a session ended: start the ITTL window, or finish draining."""
        if job.session is None:
            return
        session = self.world.session(job.session)
        if session is None or not session.live:
            return
        if self.world.unfinished_jobs_of(session.id):
            return
        if not session.accepting:
            self.fire_session(session, "drained")
        elif session.state == ACTIVE:
            self.put_session(session, session._replace(idle_since=self.now))
