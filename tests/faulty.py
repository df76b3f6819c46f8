"""Faulty implementations of protocol v1 section 2, for proving that ``sessionspec conform`` finds bugs.

``python -m tests.faulty NAME`` (from the repository root), or ``python tests/faulty.py NAME``
(from anywhere), serves the model with one fault. Rule breakers (``sessionspec conform`` must
exit 1 naming the rule):

- ``plain-job-during-ittl-hold``: lets a plain job in while a session waits out its ITTL;
- ``fails-running-job-at-expiry``: fails the running job when its session expires;
- ``max-ttl-from-creation``: counts the max TTL from the session's creation;
- ``accepts-jobs-after-close``: a closed session that still has work accepts new jobs;
- ``forgets-to-deactivate``: never deactivates a session after its interactive timeout.

Protocol breakers (``sessionspec conform`` must exit 3): ``crash`` (exits after ``init``),
``hang`` (stops replying after ``init``; it first starts a child process, so that a test
can check the whole process group is killed), ``garbage`` (answers with a line that is
not JSON), ``error`` (answers ``{"error": ...}``). If the environment variable
``FAULTY_PIDS`` names a file, the process writes its own pid (and its child's) there.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from sessionspec.cli import serve
from sessionspec.model import scheduler
from sessionspec.model.transaction import Transaction
from sessionspec.model.world import PENDING, JobRecord
from sessionspec.mutants import MUTANTS

_original_start_job = scheduler.start_job


def _start_with_clock_from_creation(tx: Transaction, job: JobRecord) -> None:
    """Start a job; a session's max-TTL clock is back-dated to the session's creation."""
    session = tx.world.session(job.session) if job.session else None
    _original_start_job(tx, job)
    if session is not None and session.state == PENDING:
        started = tx.world.session(session.id)
        assert started is not None
        tx.world = tx.world.with_session(started._replace(started_at=session.created_at))


def _never_deactivate(tx: Transaction) -> None:
    """The interactive timeout runs out, and nothing happens."""


@contextlib.contextmanager
def _patched(target: str, replacement: Any) -> Iterator[None]:
    with mock.patch(target, replacement):
        yield


RULE_BREAKERS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "plain-job-during-ittl-hold": MUTANTS["fair-share-during-ittl"].applied,
    "fails-running-job-at-expiry": MUTANTS["expiry-fails-running"].applied,
    "max-ttl-from-creation": lambda: _patched(
        "sessionspec.model.scheduler.start_job", _start_with_clock_from_creation
    ),
    "accepts-jobs-after-close": MUTANTS["close-keeps-accepting"].applied,
    "forgets-to-deactivate": lambda: _patched(
        "sessionspec.model.timers.deactivate_idle_sessions", _never_deactivate
    ),
}

PROTOCOL_BREAKERS = ("crash", "hang", "garbage", "error")


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
    if len(argv) != 1 or argv[0] not in (*RULE_BREAKERS, *PROTOCOL_BREAKERS):
        names = ", ".join((*RULE_BREAKERS, *PROTOCOL_BREAKERS))
        print(f"usage: python -m tests.faulty NAME  (NAME: {names})", file=sys.stderr)
        return 2
    name = argv[0]
    if name in PROTOCOL_BREAKERS:
        return break_protocol(name)
    _record_pids(os.getpid())
    with RULE_BREAKERS[name]():
        return serve.main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
