"""Guard predicates of the Session machine, over a facts record.

The declared machine (:mod:`sessionspec.model.declarations`) attaches these functions as its
guards, and the compiled core evaluates the very same functions, so a guard is
written in one place only.
"""

from __future__ import annotations

from typing import NamedTuple


class SessionFacts(NamedTuple):
    """What a Session guard may look at: computed by the caller from the world."""

    unfinished_jobs: int
    accepting: bool
    before_max_ttl: bool
    ever_got_job: bool


def is_idle(facts: SessionFacts) -> bool:
    """The session has no job queued or running."""
    return facts.unfinished_jobs == 0


def is_accepting(facts: SessionFacts) -> bool:
    """The session still accepts new jobs (it was not closed)."""
    return facts.accepting


def before_max_ttl(facts: SessionFacts) -> bool:
    """The session's maximum timeout has not been reached."""
    return facts.before_max_ttl


def never_got_job(facts: SessionFacts) -> bool:
    """No job was ever submitted to the session."""
    return not facts.ever_got_job
