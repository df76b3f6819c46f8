"""Faulty implementations of protocol v1 section 2, for proving that ``sessionspec conform`` finds bugs.

``python -m tests.faulty NAME`` (from the repository root), or ``python tests/faulty.py NAME``
(from anywhere), serves the model with one fault: a bug a real scheduler could have. Each
rule breaker in :data:`RULE_BREAKERS` (``sessionspec conform`` must exit 1 naming a rule)
says what it gets wrong; ``python tests/faulty.py --list`` prints them. Among them are two
bugs found in a real scheduler: ``reservation-waits-for-next-event`` (a reservation window
that opens while a session holds the backend is acted on only at the next event) and
``max-ttl-from-canceled-first-job`` (the max TTL is taken from the first job submitted,
even when that job was canceled before it ran).

Protocol breakers (``sessionspec conform`` must exit 3): ``crash`` (exits after ``init``),
``hang`` (stops replying after ``init``; it first starts a child process, so that a test
can check the whole process group is killed), ``garbage`` (answers with a line that is
not JSON), ``error`` (answers ``{"error": ...}``). If the environment variable
``FAULTY_PIDS`` names a file, the process writes its own pid (and its child's) there.

:class:`FaultyImplementation` is the same fault as an in-process implementation object.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from sessionspec.cli import serve
from sessionspec.conformance.adapter import ModelImplementation
from sessionspec.model import scheduler, step, timers
from sessionspec.model.config import Config, Number
from sessionspec.model.inputs import Advance, CancelJob, Input
from sessionspec.model.observations import Rejected
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import INACTIVE, PENDING, RUNNING, JobRecord, SessionRecord, World, time_limit
from sessionspec.mutants import MUTANTS, Mutant

# The model's own pieces, kept before any fault replaces them.
_start_job = scheduler.start_job
_settle = scheduler.settle
_next_deadline = timers.next_deadline
_after_job_ended = Transaction.after_job_ended
_cancel_job = step.HANDLERS[CancelJob]
_step = step.step


def _start_then(change: Any) -> Any:
    """A ``start_job`` that starts the job, then lets ``change(tx, session_before)`` alter its session."""

    def start(tx: Transaction, job: JobRecord) -> None:
        before = tx.world.session(job.session) if job.session else None
        _start_job(tx, job)
        if before is not None:
            change(tx, before)

    return start


def _restamp(tx: Transaction, session_id: str, **fields: Any) -> None:
    now = tx.world.session(session_id)
    assert now is not None
    tx.world = tx.world.with_session(now._replace(**fields))


def _clock_from_creation(tx: Transaction, before: SessionRecord) -> None:
    """The max-TTL clock is back-dated to the session's creation."""
    if before.state == PENDING:
        _restamp(tx, before.id, started_at=before.created_at)


def _clock_restarts(tx: Transaction, before: SessionRecord) -> None:
    """Reactivating a session starts its max-TTL clock again."""
    if before.state == INACTIVE:
        _restamp(tx, before.id, started_at=tx.now)


def _ttl_from_first_submitted(tx: Transaction, before: SessionRecord) -> None:
    """The max TTL comes from the first job ever submitted to the session, ended or not."""
    if before.state == PENDING:
        first = tx.world.jobs_of(before.id)[0]
        _restamp(tx, before.id, max_ttl=scheduler.max_ttl_for(before, first, tx.world.config))


def _ttl_without_own_max_time(session: SessionRecord, job: JobRecord, config: Config) -> Number:
    return scheduler.max_ttl_value(config, None, job.max_execution_time)


def _ttl_own_max_time_uncapped(session: SessionRecord, job: JobRecord, config: Config) -> Number:
    if session.max_time is not None:
        return session.max_time
    return scheduler.max_ttl_value(config, None, job.max_execution_time)


def _never_deactivate(tx: Transaction) -> None:
    """The interactive timeout runs out, and nothing happens."""


def _deadline_without_windows(world: World) -> Number | None:
    """The scheduler's own timers: a reservation window opening is not one of them."""
    return _next_deadline(world._replace(config=world.config._replace(reservations=())))


def _step_on_events_only(
    world: World, inp: Input, policy: Policy = REFERENCE_POLICY, *, trusted: bool = False
) -> step.Step:
    """Time passing is no event: an advance fires the scheduler's own timers, and nothing else."""
    if not isinstance(inp, Advance):
        return _step(world, inp, policy, trusted=trusted)
    observations: list[Any] = []
    while (due := _deadline_without_windows(world)) is not None and due <= inp.t:
        tx = step.fire_instant(world, due, policy)
        observations += tx.observations
        world = tx.world
    return step.Step(world._replace(now=inp.t), tuple(observations))


def _settle_simulators_as_qpus(tx: Transaction, policy: Policy) -> None:
    """The scheduler forgets that a simulator runs every job at once: it queues them one by one."""
    config = tx.world.config
    tx.world = tx.world._replace(config=config._replace(simulators=frozenset()))
    try:
        _settle(tx, policy)
    finally:
        tx.world = tx.world._replace(config=config)


def _reservation_for_everyone(world: World, backend: str) -> tuple[JobRecord, ...]:
    """An open window on a backend lets any plain job there go first, whatever its instance."""
    if not any(r.backend == backend and r.is_open(world.now) for r in world.config.reservations):
        return ()
    return tuple(j for j in world.queued_on(backend) if j.session is None)


def _time_limit_from_submission(job: JobRecord, config: Config) -> Number:
    """The job's time limit is counted from its submission, so waiting in the queue uses it up."""
    waited = 0 if job.started_at is None else job.started_at - job.submitted_at
    return max(time_limit(job.max_execution_time, config) - waited, 1)


def _never_drained(tx: Transaction, job: JobRecord) -> None:
    """A closed session's last job ends, and the session is not closed."""
    session = tx.world.session(job.session) if job.session else None
    if session is not None and not session.accepting:
        return
    _after_job_ended(tx, job)


def _close_sessions_without_work(tx: Transaction) -> None:
    """The pending timeout closes a pending session with no unfinished job, even one that got a job."""
    timeout = tx.world.config.pending_timeout
    if timeout is None:
        return
    for session in tx.world.sessions:
        if session.state != PENDING or tx.world.unfinished_jobs_of(session.id):
            continue
        if session.created_at + timeout <= tx.now:
            tx.put_session(session, session._replace(state="closed", accepting=False, ended_at=tx.now))


def _pending_deadline_without_work(world: World) -> Number | None:
    """The pending timeout's deadline for sessions without unfinished jobs (as the fault reads it)."""
    best = _next_deadline(world)
    timeout = world.config.pending_timeout
    if timeout is None:
        return best
    for s in world.sessions:
        due = s.created_at + timeout
        if s.state == PENDING and not world.unfinished_jobs_of(s.id) and due > world.now:
            best = due if best is None else min(best, due)
    return best


def _refuse_cancel_of_running(tx: Transaction, inp: CancelJob) -> Rejected | None:
    """Only a queued job can be canceled: a cancel of a running job is refused."""
    job = tx.world.job(inp.job)
    if job is not None and job.state == RUNNING:
        return Rejected(inp.t, inp.op, "the job is already running", job=inp.job)
    return _cancel_job(tx, inp)


def _fault(name: str, description: str, **patches: Any) -> Mutant:
    return Mutant(name, (), description, patches={f"sessionspec.model.{k}": v for k, v in patches.items()})


def _from_mutant(name: str, mutant: str) -> Mutant:
    found = MUTANTS[mutant]
    return Mutant(name, found.rules, found.description, found.patches, found.handlers)


_FAULTS = (
    _from_mutant("plain-job-during-ittl-hold", "fair-share-during-ittl"),
    _from_mutant("fails-running-job-at-expiry", "expiry-fails-running"),
    _fault(
        "max-ttl-from-creation",
        "counts the max TTL from the session's creation, not from its first job's start",
        **{"scheduler.start_job": _start_then(_clock_from_creation)},
    ),
    _from_mutant("accepts-jobs-after-close", "close-keeps-accepting"),
    _fault(
        "forgets-to-deactivate",
        "never deactivates a session after its interactive timeout",
        **{"timers.deactivate_idle_sessions": _never_deactivate},
    ),
    Mutant(
        "reservation-waits-for-next-event",
        (),
        "acts on a reservation window that opens while a session holds the backend only at the next event",
        patches={
            "sessionspec.conformance.serve.step": _step_on_events_only,
            "sessionspec.model.step.next_deadline": _deadline_without_windows,
        },
    ),
    _fault(
        "max-ttl-from-canceled-first-job",
        "takes the max TTL from the first job submitted to the session, even one canceled before it ran",
        **{"scheduler.start_job": _start_then(_ttl_from_first_submitted)},
    ),
    _fault(
        "ignores-session-max-time",
        "ignores create_session's max_time: the max TTL comes from the first job or the system limit",
        **{"scheduler.max_ttl_for": _ttl_without_own_max_time},
    ),
    _fault(
        "max-time-not-capped",
        "takes create_session's max_time as the max TTL even when it exceeds the system limit",
        **{"scheduler.max_ttl_for": _ttl_own_max_time_uncapped},
    ),
    _from_mutant("session-on-simulator", "session-on-simulator"),
    _fault(
        "simulator-runs-one-job-at-a-time",
        "queues the jobs of a simulator and runs them one at a time, as on a QPU",
        **{"step.settle": _settle_simulators_as_qpus},
    ),
    _fault(
        "reservation-ignores-instance",
        "gives an open reservation window's priority to any plain job on the backend, whatever its instance",
        **{"scheduler.reservation_jobs": _reservation_for_everyone},
    ),
    _fault(
        "reactivation-restarts-max-ttl",
        "starts the max-TTL clock again when an inactive session is reactivated",
        **{"scheduler.start_job": _start_then(_clock_restarts)},
    ),
    _fault(
        "time-limit-from-submission",
        "counts a job's time limit from its submission, so time spent queued counts as running time",
        **{"world.JobRecord.time_limit": _time_limit_from_submission},
    ),
    _from_mutant("expiry-cancels-queued-jobs", "expiry-cancels-queued"),
    _from_mutant("close-cancels-queued-jobs", "close-cancels-queued"),
    _from_mutant("cancel-leaves-queued-jobs", "cancel-keeps-queued"),
    _from_mutant("session-jobs-newest-first", "session-jobs-lifo"),
    _from_mutant("deadline-after-input-at-same-instant", "inputs-before-deadlines"),
    _fault(
        "closed-session-never-drains",
        "does not close a closed session when its last job ends; it lingers until its max TTL",
        **{"transaction.Transaction.after_job_ended": _never_drained},
    ),
    _fault(
        "pending-timeout-after-canceled-job",
        "lets the pending timeout close a session whose only job was canceled before it ran",
        **{
            "timers.close_unused_sessions": _close_sessions_without_work,
            "step.next_deadline": _pending_deadline_without_work,
        },
    ),
    _from_mutant("no-system-job-cap", "no-system-job-cap"),
    Mutant(
        "refuses-cancel-of-running-job",
        (),
        "refuses to cancel a job that is already running",
        handlers={CancelJob: _refuse_cancel_of_running},
    ),
)

RULE_BREAKERS: dict[str, Mutant] = {fault.name: fault for fault in _FAULTS}
"""Each faulty implementation by name: what it gets wrong, and the patches that make it so."""

PROTOCOL_BREAKERS = ("crash", "hang", "garbage", "error")


class FaultyImplementation(ModelImplementation):
    """The model with one fault of :data:`RULE_BREAKERS`, in effect only while it answers."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.fault = RULE_BREAKERS[name]

    def init(self, config: dict[str, Any]) -> None:
        with self.fault.applied():
            super().init(config)

    def _handle(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        with self.fault.applied():
            return super()._handle(request)


def _record_pids(*pids: int) -> None:
    path = os.environ.get("FAULTY_PIDS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write(" ".join(str(pid) for pid in pids))


def _reply(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def break_protocol(name: str) -> int:
    """Answer ``init`` properly, then break the protocol at the next request."""
    child = None
    if name == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    _record_pids(os.getpid(), *([child.pid] if child else []))
    for line in sys.stdin:
        if '"init"' in line:
            _reply('{"ok": true}')
            continue
        if name == "crash":
            print("faulty: crashing on purpose", file=sys.stderr)
            return 1
        if name == "hang":
            print("faulty: hanging on purpose", file=sys.stderr, flush=True)
            time.sleep(300)
        if name == "garbage":
            _reply("this is not JSON")
        else:
            _reply('{"error": "faulty: not implemented"}')
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        for fault in RULE_BREAKERS.values():
            print(f"{fault.name:36} {fault.description}")
        return 0
    if len(argv) != 1 or argv[0] not in (*RULE_BREAKERS, *PROTOCOL_BREAKERS):
        names = ", ".join((*RULE_BREAKERS, *PROTOCOL_BREAKERS))
        print(f"usage: python -m tests.faulty NAME|--list  (NAME: {names})", file=sys.stderr)
        return 2
    name = argv[0]
    if name in PROTOCOL_BREAKERS:
        return break_protocol(name)
    _record_pids(os.getpid())
    with RULE_BREAKERS[name].applied():
        return serve.main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
