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

from sessionspec.conformance.adapter import ModelImplementation
from sessionspec.conformance.serve import ModelServer, serve
from sessionspec.model.variant import REFERENCE
from sessionspec.mutants import MUTANTS, Mutant


def _fault(name: str, description: str, **knobs: Any) -> Mutant:
    return Mutant(name, (), description, REFERENCE.but(**knobs))


def _from_mutant(name: str, mutant: str) -> Mutant:
    found = MUTANTS[mutant]
    return Mutant(name, found.rules, found.description, found.variant)


_FAULTS = (
    _from_mutant("plain-job-during-ittl-hold", "fair-share-during-ittl"),
    _from_mutant("fails-running-job-at-expiry", "expiry-fails-running"),
    _fault(
        "max-ttl-from-creation",
        "counts the max TTL from the session's creation, not from its first job's start",
        ttl_clock="creation-at-start",
    ),
    _from_mutant("accepts-jobs-after-close", "close-keeps-accepting"),
    _fault(
        "forgets-to-deactivate",
        "never deactivates a session after its interactive timeout",
        deactivate=False,
    ),
    _fault(
        "reservation-waits-for-next-event",
        "acts on a reservation window that opens while a session holds the backend only at the next event",
        reservation_opening_is_deadline=False,
        settle_after_advance=False,
    ),
    _fault(
        "max-ttl-from-canceled-first-job",
        "takes the max TTL from the first job submitted to the session, even one canceled before it ran",
        max_ttl_job="submitted",
    ),
    _fault(
        "ignores-session-max-time",
        "ignores create_session's max_time: the max TTL comes from the first job or the system limit",
        max_ttl_value="no-own-max-time",
    ),
    _fault(
        "max-time-not-capped",
        "takes create_session's max_time as the max TTL even when it exceeds the system limit",
        max_ttl_value="uncapped",
    ),
    _from_mutant("session-on-simulator", "session-on-simulator"),
    _fault(
        "simulator-runs-one-job-at-a-time",
        "queues the jobs of a simulator and runs them one at a time, as on a QPU",
        simulators_run_at_once=False,
    ),
    _fault(
        "reservation-ignores-instance",
        "gives an open reservation window's priority to any plain job on the backend, whatever its instance",
        reservation_any_instance=True,
    ),
    _fault(
        "reactivation-restarts-max-ttl",
        "starts the max-TTL clock again when an inactive session is reactivated",
        ttl_clock="every-start",
    ),
    _fault(
        "time-limit-from-submission",
        "counts a job's time limit from its submission, so time spent queued counts as running time",
        time_limit_from_submission=True,
    ),
    _from_mutant("expiry-cancels-queued-jobs", "expiry-cancels-queued"),
    _from_mutant("close-cancels-queued-jobs", "close-cancels-queued"),
    _from_mutant("cancel-leaves-queued-jobs", "cancel-keeps-queued"),
    _from_mutant("session-jobs-newest-first", "session-jobs-lifo"),
    _from_mutant("deadline-after-input-at-same-instant", "inputs-before-deadlines"),
    _fault(
        "closed-session-never-drains",
        "does not close a closed session when its last job ends; it lingers until its max TTL",
        drain=False,
    ),
    _fault(
        "pending-timeout-after-canceled-job",
        "lets the pending timeout close a session whose only job was canceled before it ran",
        pending_timeout_spares_used=False,
    ),
    _from_mutant("no-system-job-cap", "no-system-job-cap"),
    _fault(
        "refuses-cancel-of-running-job",
        "refuses to cancel a job that is already running",
        cancel_running=False,
    ),
)

RULE_BREAKERS: dict[str, Mutant] = {fault.name: fault for fault in _FAULTS}
"""Each faulty implementation by name: what it gets wrong, and the variant of the core that does."""

PROTOCOL_BREAKERS = ("crash", "hang", "garbage", "error")


class FaultyImplementation(ModelImplementation):
    """The model with one fault of :data:`RULE_BREAKERS`."""

    def __init__(self, name: str) -> None:
        self.fault = RULE_BREAKERS[name]
        super().__init__(variant=self.fault.variant)


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
    sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape", newline="\n")  # type: ignore[union-attr]
    return serve(sys.stdin, sys.stdout, ModelServer(variant=RULE_BREAKERS[name].variant))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
