"""When a rule was exercised: the situation it constrains actually arose.

A rule check yields violation messages, so a check that yields nothing cannot tell
"the rule held" from "the situation the rule talks about never arose". For every rule
of the catalogue this module holds an *exercised* predicate with the signature of the
rule's check, returning a bool: ``predicate(view)`` for state invariants and eventual
properties, ``predicate(transition, before, after)`` for step properties. A rule whose
predicate was never true over a whole exploration was checked only vacuously.

Predicates register with :func:`exercised`; importing the module checks that every rule
has exactly one. :func:`exercised_rules` evaluates the state and step predicates for one
transition, :func:`exercised_at_end` the eventual ones for a world out of deadlines.

>>> from sessionspec.model.inputs import CreateSession
>>> from sessionspec.model.step import transitions
>>> from sessionspec.model.world import World
>>> world = World.empty()
>>> before = View(world)
>>> [tr] = transitions(world, CreateSession(0, "s1", "qpu1"))
>>> exercised_rules(tr, before, View(tr.after, before), state_changed=True)
['DECL-EDGES', 'OBS-MATCH', 'INP-ANSWERED', 'NOTHING-LOST']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from sessionspec.invariants.catalogue import RULES, Kind, Rule
from sessionspec.invariants.scheduling import started_jobs
from sessionspec.invariants.view import View
from sessionspec.model.errors import SessionSpecError
from sessionspec.model.inputs import CancelSession, CloseSession, Submit
from sessionspec.model.step import Tick, Transition
from sessionspec.model.world import SessionRecord

StatePredicate = Callable[[View], bool]
StepPredicate = Callable[[Transition, View, View], bool]
P = TypeVar("P", bound=Callable[..., bool])

EXERCISED: dict[str, Callable[..., bool]] = {}
"""Rule ID -> exercised predicate, in the order the predicates are defined."""

_HOW_TO_ADD = (
    "add one to invariants/exercise.py with @exercised({rule!r}): a predicate with the "
    "signature of the rule's check that returns True when the situation the rule constrains is present"
)


class ExerciseError(SessionSpecError, ValueError):
    """The exercised predicates do not match the rule catalogue one to one."""


def _arity(kind: Kind) -> int:
    return 3 if kind is Kind.STEP else 1


def exercised(rule_id: str) -> Callable[[P], P]:
    """Register the exercised predicate of the rule ``rule_id`` (a decorator)."""

    def register(check: P) -> P:
        rule = RULES.get(rule_id)
        if rule is None:
            raise ExerciseError(
                f"{check.__name__} is registered for {rule_id!r}, which is not a rule of the "
                "catalogue; use an ID that `sessionspec rules` lists"
            )
        if rule_id in EXERCISED:
            raise ExerciseError(
                f"rule {rule_id} already has the exercised predicate {EXERCISED[rule_id].__name__}; "
                "keep exactly one per rule"
            )
        wanted = _arity(rule.kind)
        given = len(inspect.signature(check).parameters)
        if given != wanted:
            shape = "(transition, before, after)" if wanted == 3 else "(view)"
            raise ExerciseError(
                f"{check.__name__} takes {given} argument(s), but {rule_id} is a {rule.kind.value}: "
                f"its predicate takes {shape}"
            )
        EXERCISED[rule_id] = check
        return check

    return register


def predicate(rule_id: str) -> Callable[..., bool]:
    """The exercised predicate of one rule; :class:`ExerciseError` for an unknown ID."""
    try:
        return EXERCISED[rule_id]
    except KeyError:
        if rule_id in RULES:
            raise ExerciseError(
                f"rule {rule_id} has no exercised predicate; " + _HOW_TO_ADD.format(rule=rule_id)
            ) from None
        raise ExerciseError(f"{rule_id!r} is not a rule of the catalogue") from None


def check_complete(
    rules: Mapping[str, Rule] | None = None, predicates: Mapping[str, Callable[..., bool]] | None = None
) -> None:
    """Raise :class:`ExerciseError` unless every rule has a predicate and every predicate a rule."""
    rules = RULES if rules is None else rules
    predicates = EXERCISED if predicates is None else predicates
    missing = [rule_id for rule_id in rules if rule_id not in predicates]
    if missing:
        raise ExerciseError(
            f"rule {missing[0]} has no exercised predicate"
            + (f" (nor have {', '.join(missing[1:])})" if missing[1:] else "")
            + "; "
            + _HOW_TO_ADD.format(rule=missing[0])
        )
    unknown = [rule_id for rule_id in predicates if rule_id not in rules]
    if unknown:
        raise ExerciseError(
            f"exercised predicate(s) for {', '.join(unknown)}, which the catalogue does not have; "
            "remove them or register the rule first"
        )


def exercised_rules(
    transition: Transition,
    before: View,
    after: View,
    state_changed: bool = True,
    rules: Collection[str] | None = None,
) -> list[str]:
    """IDs of the state and step rules exercised by one transition, in catalogue order.

    ``before`` and ``after`` are the views a checker passes to step checks. With
    ``state_changed`` false (the transition left the very world already checked) the
    state invariants are skipped, as a checker skips them. ``rules`` restricts the
    answer to the given IDs; eventual properties are never included here.
    """
    found: list[str] = []
    for rule_id, is_state, check in _PER_TRANSITION:
        if rules is not None and rule_id not in rules:
            continue
        if is_state:
            if state_changed and check(after):
                found.append(rule_id)
        elif check(transition, before, after):
            found.append(rule_id)
    return found


def exercised_at_end(view: View, rules: Collection[str] | None = None) -> list[str]:
    """IDs of the eventual properties exercised by a world with no deadline left."""
    return [rule_id for rule_id, check in _EVENTUAL if (rules is None or rule_id in rules) and check(view)]


# --- who runs where ------------------------------------------------------------------------------


@exercised("EXC-ONE-RUNNING")
def _physical_backend_runs(view: View) -> bool:
    """Some physical backend has a running job."""
    running = view.running
    if not running:
        return False
    simulators = view.config.simulators
    if not simulators:
        return True
    return any(backend not in simulators for backend in running)


@exercised("EXC-ONE-ACTIVE")
def _session_active(view: View) -> bool:
    """Some backend has an active session."""
    return bool(view.active)


@exercised("SES-JOB-BACKEND")
def _session_job_present(view: View) -> bool:
    """A live or just-ended job belongs to a session."""
    return any(job.session is not None for job in view.recent_jobs)


@exercised("SIM-NO-SESSION")
def _session_beside_simulator(view: View) -> bool:
    """A simulator is configured and a live or just-ended session exists."""
    return bool(view.config.simulators) and bool(view.recent_sessions)


@exercised("WORK-CONSERVE")
def _work_waits_or_just_started(view: View) -> bool:
    """A job waits on some backend, or a job just left the queue to run."""
    if view.queued:
        return True
    return any(job.state == "running" for job in view.changed_jobs)


def _outsiders(before: View, after: View, backend: str, session: SessionRecord) -> bool:
    """A job from outside ``session``, not a reservation job, waits or just started on ``backend``."""
    for job in after.queued.get(backend, ()):
        if job.session != session.id and not after.reservation_job(job):
            return True
    for job in after.changed_jobs:  # jobs that just started there (as in ``started_jobs``)
        if job.state != "running" or job.backend != backend or job.session == session.id:
            continue
        old = before.jobs.get(job.id)
        if (old is None or old.state == "queued") and not after.reservation_job(job):
            return True
    return False


def _had_queued(view: View, session_id: str) -> bool:
    """Does the session have a job queued in this view?"""
    return any(job.state == "queued" for job in view.jobs_of(session_id))


@exercised("RSV-PRIORITY")
def _reservation_job_waits_or_starts(transition: Transition, before: View, after: View) -> bool:
    """A reservation window is open on a backend while a job of the reserving instance waits or starts."""
    reservations = after.config.reservations
    if not reservations:
        return False
    now = after.now
    opened = [r for r in reservations if r.start <= now < r.end]
    if not opened:
        return False
    for r in opened:
        for job in after.queued.get(r.backend, ()):
            if job.session is None and job.instance == r.instance:
                return True
    return any(after.reservation_job(job) for job in started_jobs(before, after))


@exercised("SES-PRIORITY")
def _active_session_with_work_and_outsider(transition: Transition, before: View, after: View) -> bool:
    """A session active on a backend had a job queued while a job from outside it waits or starts there."""
    for backend, sessions in after.active.items():
        for session in sessions:
            if _outsiders(before, after, backend, session) and _had_queued(before, session.id):
                return True
    return False


@exercised("SES-ITTL-HOLD")
def _held_backend_with_outsider(transition: Transition, before: View, after: View) -> bool:
    """A session active on a backend, idle before or after the step, holds it while an outsider waits."""
    for backend, sessions in after.active.items():
        for session in sessions:
            if not _outsiders(before, after, backend, session) or _had_queued(before, session.id):
                continue
            idle_before = not before.busy(session.id)
            if idle_before or not any(job.session == session.id for job in after.running.get(backend, ())):
                return True
    return False


def _activated_from(before: View, after: View, source: str) -> bool:
    for session in after.changed_sessions:
        if session.state != "active":
            continue
        old = before.sessions.get(session.id)
        if ("pending" if old is None else old.state) == source:
            return True
    return False


@exercised("SES-FIRST-VIA-QUEUE")
def _first_activation(transition: Transition, before: View, after: View) -> bool:
    """A session goes from pending to active."""
    return _activated_from(before, after, "pending")


@exercised("SES-REACTIVATE-VIA-QUEUE")
def _reactivation(transition: Transition, before: View, after: View) -> bool:
    """A session goes from inactive to active."""
    return _activated_from(before, after, "inactive")


@exercised("SES-JOB-ORDER")
def _session_job_starts_beside_another(transition: Transition, before: View, after: View) -> bool:
    """A job of a session starts while another job of that session is still queued."""
    for job in started_jobs(before, after):
        if job.session is None:
            continue
        if any(other.state == "queued" and other.id != job.id for other in after.jobs_of(job.session)):
            return True
    return False


# --- time ----------------------------------------------------------------------------------------


@exercised("SES-TTL-START")
def _session_has_a_job(view: View) -> bool:
    """A live or just-ended session has a job, so its first job exists (started or still waiting)."""
    stats = view.stats
    if not stats:
        return False
    for session in view.recent_sessions:
        found = stats.get(session.id)
        if found is not None and found.jobs:
            return True
    return False


@exercised("SES-TTL-VALUE")
def _session_first_job_started(view: View) -> bool:
    """A live or just-ended session's first job has started, which fixes its max TTL."""
    stats = view.stats
    if not stats:
        return False
    for session in view.recent_sessions:
        found = stats.get(session.id)
        if found is not None and found.first_started is not None:
            return True
    return False


@exercised("SES-EXPIRY")
def _session_has_expiry(view: View) -> bool:
    """A live or just-expired session has an expiry instant (its first job started)."""
    stats = view.stats
    if not stats:
        return False
    for session in view.recent_sessions:
        found = stats.get(session.id)
        if (
            found is not None
            and found.first_started is not None
            and (session.live or session.state == "expired")
        ):
            return True
    return False


@exercised("SES-REACTIVATE-BEFORE-MAX")
def _inactive_session_revived_or_expired_with_work(transition: Transition, before: View, after: View) -> bool:
    """An inactive session is reactivated, or reaches its max TTL with a job waiting for it."""
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        if old is None or old.state != "inactive":
            continue
        if session.state == "active":
            return True
        if session.state == "expired" and _had_queued(before, session.id):
            return True
    return False


@exercised("SES-ITTL-DEACTIVATE")
def _interactive_timeout_running(transition: Transition, before: View, after: View) -> bool:
    """An active session is idle (its ITTL runs) before or after the step, or is deactivated by it."""
    for view in (after, before):
        for sessions in view.active.values():
            for session in sessions:
                if view.idle_since(session.id) is not None:
                    return True
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        if session.state == "inactive" and old is not None and old.state == "active":
            return True
    return False


@exercised("JOB-TIME-LIMIT")
def _job_running_or_stopped_for_time(view: View) -> bool:
    """A job is running, or a job was just stopped for exceeding its time limit."""
    if view.running:
        return True
    return any(job.ended_by == "exceed_time_limit" for job in view.recent_jobs)


@exercised("SES-PENDING-TIMEOUT")
def _pending_session_while_time_passes(transition: Transition, before: View, after: View) -> bool:
    """Time passes while a session is pending (the timeout, if configured, may close it; else nothing may)."""
    if not (isinstance(transition.cause, Tick) or after.now > before.now):
        return False
    return any(session.state == "pending" for session in before.live_sessions.values())


# --- endings -------------------------------------------------------------------------------------


def _entered(before: View, after: View, state: str, *, with_queued: bool) -> bool:
    """A session entered ``state`` in this transition (having a job queued, if asked)."""
    for session in after.changed_sessions:
        if session.state != state:
            continue
        old = before.sessions.get(session.id)
        if old is not None and old.state != state and (not with_queued or _had_queued(before, session.id)):
            return True
    return False


@exercised("SES-EXPIRE-FAILS-QUEUED")
def _expiry_with_queued_jobs(transition: Transition, before: View, after: View) -> bool:
    """A session expires while it has a job queued."""
    return _entered(before, after, "expired", with_queued=True)


@exercised("SES-END-SPARES-RUNNING")
def _running_job_stops_or_its_session_ends(transition: Transition, before: View, after: View) -> bool:
    """A running job stops, or a session ends while one of its jobs is running."""
    for job in after.changed_jobs:
        old_job = before.jobs.get(job.id)
        if old_job is not None and old_job.state == "running" and job.state != "running":
            return True
    for session in after.changed_sessions:
        if session.live:
            continue
        old = before.sessions.get(session.id)
        if old is not None and old.live and any(job.state == "running" for job in before.jobs_of(session.id)):
            return True
    return False


@exercised("SES-CANCEL-QUEUED")
def _session_canceled(transition: Transition, before: View, after: View) -> bool:
    """The input cancels a live session, or a session becomes canceled."""
    cause = transition.cause
    if isinstance(cause, CancelSession):
        session = before.sessions.get(cause.session)
        if session is not None and session.live:
            return True
    return _entered(before, after, "canceled", with_queued=False)


@exercised("SES-CLOSE-REFUSES")
def _close_or_submission_to_closed(transition: Transition, before: View, after: View) -> bool:
    """The input closes an accepting session, or submits a job to a session that accepts none."""
    cause = transition.cause
    if isinstance(cause, CloseSession):
        session = before.sessions.get(cause.session)
        return session is not None and session.accepting
    if isinstance(cause, Submit) and cause.session is not None and not cause.start_session:
        session = before.sessions.get(cause.session)
        return session is not None and not session.accepting
    return False


@exercised("SES-CLOSE-DRAINS")
def _closed_session_draining_or_closed(view: View) -> bool:
    """A session closed to new jobs is still live (draining), or a session just became closed."""
    for session in view.recent_sessions:
        if not session.accepting and (session.live or session.state == "closed"):
            return True
    return False


@exercised("SES-CLOSE-KEEPS-JOBS")
def _close_of_busy_session(transition: Transition, before: View, after: View) -> bool:
    """The input closes an accepting session that has jobs queued or running."""
    cause = transition.cause
    if not isinstance(cause, CloseSession):
        return False
    session = before.sessions.get(cause.session)
    return session is not None and session.accepting and before.busy(session.id)


@exercised("TERM-FINAL")
def _final_record_exists(transition: Transition, before: View, after: View) -> bool:
    """A job or a session was already in a final state before the step."""
    return len(before.live_jobs) < len(before.jobs) or len(before.live_sessions) < len(before.sessions)


@exercised("EVT-JOBS-END")
def _world_has_jobs(view: View) -> bool:
    """The world has accepted at least one job."""
    return bool(view.jobs)


@exercised("EVT-SESSIONS-SETTLE")
def _world_has_used_session(view: View) -> bool:
    """Some session's first job ran."""
    return any(
        stats.first_started is not None and session_id in view.sessions
        for session_id, stats in view.stats.items()
    )


# --- reporting -----------------------------------------------------------------------------------


def _state_changes(before: View, after: View, *, accepting: bool) -> bool:
    """Some job's state, or some session's state (and, if asked, accepting flag), changed or appeared."""
    for job in after.changed_jobs:
        old_job = before.jobs.get(job.id)
        if old_job is None or old_job.state != job.state:
            return True
    for session in after.changed_sessions:
        old = before.sessions.get(session.id)
        if old is None or old.state != session.state or (accepting and old.accepting != session.accepting):
            return True
    return False


@exercised("DECL-EDGES")
def _state_changed(transition: Transition, before: View, after: View) -> bool:
    """The step changed the state of some job or session (or created one)."""
    return _state_changes(before, after, accepting=False)


@exercised("OBS-MATCH")
def _something_to_report(transition: Transition, before: View, after: View) -> bool:
    """The step reports something, or changed a job's state or a session's (state, accepting)."""
    return bool(transition.observations) or _state_changes(before, after, accepting=True)


@exercised("INP-ANSWERED")
def _cause_is_input(transition: Transition, before: View, after: View) -> bool:
    """The step's cause is an input, not a deadline."""
    return not isinstance(transition.cause, Tick)


@exercised("NOTHING-LOST")
def _records_exist(transition: Transition, before: View, after: View) -> bool:
    """The world holds some job or session before or after the step."""
    return bool(before.jobs or before.sessions or after.jobs or after.sessions)


check_complete()

_PER_TRANSITION: tuple[tuple[str, bool, Callable[..., bool]], ...] = tuple(
    (rule_id, rule.kind is Kind.STATE, EXERCISED[rule_id])
    for rule_id, rule in RULES.items()
    if rule.kind is not Kind.EVENTUAL
)
_EVENTUAL: tuple[tuple[str, StatePredicate], ...] = tuple(
    (rule_id, EXERCISED[rule_id]) for rule_id, rule in RULES.items() if rule.kind is Kind.EVENTUAL
)
