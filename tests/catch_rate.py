"""How many faulty implementations a default ``sessionspec conform`` run catches, and how fast.

``python tests/catch_rate.py`` (from anywhere) runs ``sessionspec conform`` with its defaults
against ``sessionspec serve`` (the model: it must conform) and then against every rule
breaker of ``tests/faulty.py``, one command each, exactly as a user would, and prints one
line per implementation (exit status, the rule named, where the failure was found, seconds)
and a summary with the catch rate and the slowest run. Options after the script go to
``conform`` itself; ``--generated-only`` runs only the scenario
``one-job-at-a-time-on-a-backend`` (which every faulty implementation passes), so that what is
caught is caught by the generated phase. The exit status is 0 when the model conforms and
every faulty implementation is caught, 1 otherwise.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
SCENARIO_EVERY_FAULT_PASSES = "one-job-at-a-time-on-a-backend"
TARGET_SECONDS = 30.0  # the longest a default run may take on the 2-core development machine


def conform(options: list[str], command: list[str]) -> tuple[int, dict[str, Any], float]:
    """One ``sessionspec conform --json`` run: its exit status, its report, and its wall time."""
    with tempfile.TemporaryDirectory(prefix="catch-rate-") as out:
        argv = [sys.executable, "-m", "sessionspec", "conform", "--json", "--out", out, *options, "--"]
        started = time.monotonic()
        done = subprocess.run([*argv, *command], capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = {"verdict": f"no report ({done.stderr.strip()[-200:]})"}
    return done.returncode, report, seconds


def describe(status: int, report: dict[str, Any]) -> str:
    failure = report.get("failure") or {}
    if status == 1:
        return f"{report.get('rule')}  ({failure.get('source')}, {len(failure.get('steps', []))} steps)"
    return str(report.get("verdict"))


def main(argv: list[str]) -> int:
    options = list(argv)
    if "--generated-only" in options:
        options.remove("--generated-only")
        options += ["--scenario", SCENARIO_EVERY_FAULT_PASSES]
    names = subprocess.run(
        [sys.executable, str(HERE / "faulty.py"), "--list"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    faults = [line.split()[0] for line in names if line.strip()]
    status, report, model_seconds = conform(options, [sys.executable, "-m", "sessionspec", "serve"])
    model = "sessionspec serve (the model)"
    print(f"{model:40} exit {status}  {model_seconds:5.1f} s  {describe(status, report)}")
    model_conforms = status == 0
    caught, slowest = 0, model_seconds
    for name in faults:
        status, report, seconds = conform(options, [sys.executable, str(HERE / "faulty.py"), name])
        caught += status == 1
        slowest = max(slowest, seconds)
        print(f"{name:40} exit {status}  {seconds:5.1f} s  {describe(status, report)}", flush=True)
    print(
        f"caught {caught} of {len(faults)} faulty implementations; the model "
        + ("conforms" if model_conforms else "DOES NOT CONFORM")
        + f" in {model_seconds:.1f} s; slowest run {slowest:.1f} s (target: at most {TARGET_SECONDS:g} s)"
    )
    return 0 if model_conforms and caught == len(faults) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
