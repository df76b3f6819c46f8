"""Named variants of the semantics: the points where one reading of the rules differs from another.

The core (:mod:`sessionspec.model.core`) is one implementation of the rules. Where an
implementation could plausibly read them otherwise (or get them wrong), the core asks a
:class:`Variant` instead of hard-wiring one answer. :data:`REFERENCE` is the project's
reading (the seeds with the decision register); every other variant is a named departure
from it: the deliberately broken models of :mod:`sessionspec.mutants`, the faulty
implementations the conformance tests serve, and later the semantic profiles. A variant
travels with the configuration (:attr:`sessionspec.model.config.Config.variant`), so every
engine that runs a world runs its variant, without patching any code.

>>> REFERENCE.check_session_backend, REFERENCE.expiry_queued_event
(True, 'session_expired')
>>> broken = REFERENCE.but(check_session_backend=False)
>>> broken.departures()
('check_session_backend=False',)
>>> REFERENCE.but(no_such_knob=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
TypeError: Variant has no knob 'no_such_knob'; known knobs: cancel_running, ...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, repr=False)
class Variant:
    """Every knob of the semantics, at the reference reading by default."""

    # -- inputs --
    # A job submitted into a session must be for the session's backend.
    check_session_backend: bool = True
    # create_session on a simulator is refused (decision D11).
    refuse_sessions_on_simulators: bool = True
    # A cancel of an unknown job is refused (it is not silently ignored).
    refuse_unknown_cancel: bool = True
    # A running job may be canceled (only a queued one, when False).
    cancel_running: bool = True
    # Canceling a session cancels its queued jobs.
    cancel_session_cancels_queued: bool = True
    # Closing a session stops it accepting jobs at once; when False it only ends an idle session.
    close_stops_accepting: bool = True
    # Closing a session ends it at once, whatever it still runs (no drain).
    close_ends_at_once: bool = False
    # Closing a session cancels its queued jobs.
    close_cancels_queued: bool = False
    # A closed session ends when its last job ends (it drains).
    drain: bool = True
    # A finish report for a job that already ended overwrites its final state.
    finish_overwrites_ended: bool = False
    # A finish report for a queued job ends it without it ever running.
    finish_queued: bool = False
    # A canceled job is dropped from the world.
    forget_canceled_jobs: bool = False
    # Submitting to a pending (inactive) session activates (reactivates) it at once.
    submit_activates_pending: bool = False
    submit_reactivates_inactive: bool = False
    # -- the scheduler --
    # A job starts only on a backend that runs nothing.
    one_job_per_backend: bool = True
    # Simulators run every job at once (decision D11); when False they queue like QPUs.
    simulators_run_at_once: bool = True
    # Open reservation windows give their instance's plain jobs priority (decision D10).
    reservations: bool = True
    # A window's priority goes to any plain job on the backend, not only its instance's.
    reservation_any_instance: bool = False
    # A reservation window opening is an instant at which the scheduler runs.
    reservation_opening_is_deadline: bool = True
    # The scheduler runs when the clock is advanced (when False: only at the next other event).
    settle_after_advance: bool = True
    # The scheduler also runs after deadlines, not after inputs only.
    schedule_after_deadlines: bool = True
    # While the active session has nothing queued, other sessions' first jobs may start.
    hold_admits_sessions: bool = False
    # While the active session has nothing queued, plain jobs may start.
    hold_admits_plain: bool = False
    # Plain jobs go before the queued jobs of the active session.
    plain_before_session_jobs: bool = False
    # The active session's newest queued job runs first.
    session_jobs_newest_first: bool = False
    # -- timers --
    # Deadlines at an input's own instant fire before the input (decision D03).
    deadlines_before_input: bool = True
    # Where the max-TTL clock starts: "first-start" (seed), "creation" (set at creation),
    # "creation-at-start" (set at the first start, back-dated to creation), "every-start"
    # (restarted whenever an inactive session is reactivated).
    ttl_clock: str = "first-start"
    # The max TTL: "documented" (decision D07), "system" (always the system limit),
    # "no-own-max-time" (the session's max_time ignored), "uncapped" (max_time not capped).
    max_ttl_value: str = "documented"
    # Which job's max_execution_time sets the max TTL: "started" (the first to start) or
    # "submitted" (the first submitted, even one canceled before it ran).
    max_ttl_job: str = "started"
    # Sessions have a maximum timeout at all.
    max_ttl: bool = True
    # The max timeout is enforced on inactive sessions too.
    expire_inactive: bool = True
    # The event that ends a session's queued jobs at its max timeout.
    expiry_queued_event: str = "session_expired"
    # The max timeout fails the running job too.
    expiry_fails_running: bool = False
    # Running jobs have a time limit at all.
    job_time_limits: bool = True
    # A job's own max_execution_time is capped by the system limit (decision D13).
    cap_job_time: bool = True
    # A job's time limit counts from its submission instead of its start.
    time_limit_from_submission: bool = False
    # Sessions are deactivated after their interactive timeout.
    deactivate: bool = True
    # The deactivation is reported.
    report_deactivation: bool = True
    # The interactive timeout counts from the last job's start instead of its end.
    ittl_from_last_start: bool = False
    # The pending timeout closes sessions that never got a job.
    pending_timeout_fires: bool = True
    # The pending timeout spares a session that ever got a job (when False: one with no
    # unfinished job, so a session whose only job was canceled is closed too).
    pending_timeout_spares_used: bool = True

    def but(self, **changes: Any) -> Variant:
        """This variant with some knobs set otherwise."""
        known = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            if name not in known:
                raise TypeError(f"Variant has no knob {name!r}; known knobs: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return f"Variant({', '.join(self.departures())})"

    def departures(self) -> tuple[str, ...]:
        """The knobs set otherwise than in :data:`REFERENCE`, as ``name=value``."""
        return tuple(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(REFERENCE, f.name)
        )


REFERENCE = Variant()
