"""The Session and Job lifecycles, declared once with python-statemachine.

These two classes are the single source of truth for which states exist and which
transitions connect them. The scheduler core (:mod:`sessionspec.model.compiled`), the rule
checks and the diagrams read the graph from here; nothing else spells it out.

Every event is named after what causes it. Guards are pure predicates over a small
facts record that the caller computes (see :mod:`sessionspec.model.guards`), so the declared
machine can be driven on its own, without a world around it:

>>> from sessionspec.model.guards import SessionFacts
>>> machine = Session()
>>> machine.current_state_value
'pending'
>>> _ = machine.send("first_job_started")
>>> facts = SessionFacts(unfinished_jobs=0, accepting=True, before_max_ttl=True,
...                      ever_got_job=True)
>>> _ = machine.send("interactive_timeout", facts=facts)
>>> machine.current_state_value
'inactive'

The strict :class:`~statemachine.StateMachine` base refuses an event that has no
enabled transition instead of ignoring it:

>>> machine.send("first_job_started")
Traceback (most recent call last):
...
statemachine.exceptions.TransitionNotAllowed: Can't First job started when in Inactive.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from sessionspec.model import guards


class Session(StateMachine):
    """Lifecycle of a session (seed INTRO "How sessions work", "End a session").

    ``pending`` until its first job runs; ``active`` while it owns its backend (its
    jobs go first, and the backend is held for it during the interactive timeout);
    ``inactive`` after the interactive timeout ran out; then one of three ends.
    Whether it still accepts jobs is a separate flag, not a state (decision D06).
    """

    pending = State(initial=True)
    active = State()
    inactive = State()
    closed = State(final=True)
    canceled = State(final=True)
    expired = State(final=True)

    # The session's first job was picked from the fair-share queue and started.
    first_job_started = pending.to(active)
    # A job of the deactivated session was picked from the fair-share queue.
    reactivating_job_started = inactive.to(active, cond="before_max_ttl")
    # The interactive timeout ran out with nothing of the session queued or running.
    interactive_timeout = active.to(inactive, cond=["is_idle", "is_accepting"])
    # The maximum timeout, counted from the first job's start, ran out.
    max_timeout = active.to(expired) | inactive.to(expired)
    # The user canceled the session.
    cancel = pending.to(canceled) | active.to(canceled) | inactive.to(canceled)
    # The user closed the session: it ends at once when nothing is left to run,
    # otherwise it stays where it is, stops accepting jobs and drains.
    close = (
        pending.to(closed, cond="is_idle")
        | active.to(closed, cond="is_idle")
        | inactive.to(closed, cond="is_idle")
        | pending.to.itself(unless="is_idle", internal=True)
        | active.to.itself(unless="is_idle", internal=True)
        | inactive.to.itself(unless="is_idle", internal=True)
    )
    # The last job of a closed (no longer accepting) session ended.
    drained = (
        pending.to(closed, cond="is_idle", unless="is_accepting")
        | active.to(closed, cond="is_idle", unless="is_accepting")
        | inactive.to(closed, cond="is_idle", unless="is_accepting")
    )
    # The optional pending timeout ran out before the session got any job.
    pending_timeout = pending.to(closed, cond="never_got_job")

    is_idle = staticmethod(guards.is_idle)
    is_accepting = staticmethod(guards.is_accepting)
    before_max_ttl = staticmethod(guards.before_max_ttl)
    never_got_job = staticmethod(guards.never_got_job)


class Job(StateMachine):
    """Lifecycle of a job (seed QUEUE "How session jobs fit into the job queue").

    A job is created ``queued`` when it is accepted. It ends in exactly one of three
    final states; a running job ends only through its own causes (decision D12).
    """

    queued = State(initial=True)
    running = State()
    completed = State(final=True)
    failed = State(final=True)
    canceled = State(final=True)

    # The scheduler picked the job for its backend.
    start = queued.to(running)
    # The QPU reported that the job finished successfully.
    complete = running.to(completed)
    # The QPU reported that the job failed.
    fail = running.to(failed)
    # The job reached its own time limit while running.
    exceed_time_limit = running.to(failed)
    # The job's session reached its maximum timeout while the job was still queued.
    session_expired = queued.to(failed)
    # The job's session was canceled while the job was still queued.
    session_canceled = queued.to(canceled)
    # The user canceled this job.
    cancel = queued.to(canceled) | running.to(canceled)
