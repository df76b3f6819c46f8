"""Hypothesis throughput on the model: steps per second, one process and all cores.

A *step* is one Hypothesis rule invocation: one input applied to the model, with
every rule of the catalogue checked on each transition it causes. Workers run the
same exploration with distinct seeds, so the parallel figure is the throughput of
the machine, not of one process; both figures are reported.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import time
from typing import Any

from sessionspec.runner import explore


def _worker(job: tuple[int, int, int]) -> dict[str, Any]:
    examples, steps, seed = job
    report = explore(examples, steps, seed)
    return {
        "seed": seed,
        "steps": report.steps,
        "transitions": report.transitions,
        "seconds": report.seconds,
        "verdict": report.verdict,
    }


def run(examples: int, steps: int, workers: int | None, seed: int) -> dict[str, Any]:
    """Measure one process, then ``workers`` processes (default: every core)."""
    workers = workers or os.cpu_count() or 1
    single = _worker((examples, steps, seed))
    jobs = [(examples, steps, seed + i) for i in range(workers)]
    started = time.perf_counter()
    if workers == 1:
        parallel = [_worker(jobs[0])]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parallel = pool.map(_worker, jobs)
    wall = time.perf_counter() - started
    total_steps = sum(r["steps"] for r in parallel)
    verdicts = {single["verdict"], *(r["verdict"] for r in parallel)}
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "examples_per_worker": examples,
        "steps_per_example": steps,
        "single_process": {
            "steps": single["steps"],
            "transitions": single["transitions"],
            "seconds": round(single["seconds"], 3),
            "steps_per_second": round(single["steps"] / single["seconds"], 1),
        },
        "parallel": {
            "workers": workers,
            "steps": total_steps,
            "transitions": sum(r["transitions"] for r in parallel),
            "seconds": round(wall, 3),
            "steps_per_second": round(total_steps / wall, 1),
        },
        "verdict": "verified" if verdicts == {"verified"} else "violated",
    }


def format_result(result: dict[str, Any]) -> str:
    single, parallel = result["single_process"], result["parallel"]
    return "\n".join(
        [
            f"sessionspec bench on {result['machine']}, Python {result['python']}",
            f"  {result['examples_per_worker']} examples of up to {result['steps_per_example']} steps "
            "per worker; every rule checked on every transition",
            f"  1 process    {single['steps']:7d} steps in {single['seconds']:6.2f}s  "
            f"{single['steps_per_second']:7.0f} steps/s",
            f"  {parallel['workers']} processes  {parallel['steps']:7d} steps in "
            f"{parallel['seconds']:6.2f}s  {parallel['steps_per_second']:7.0f} steps/s",
            f"  verdict: {result['verdict']}",
        ]
    )
