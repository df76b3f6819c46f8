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


def trace_benchmark(lines: int, seed: int = 0) -> dict[str, Any]:
    """check-trace speed on a generated trace of about ``lines`` lines, and at a quarter of it.

    Reports lines per second, the ratio to merely parsing each line's JSON, and the
    growth of the process's peak memory, so a slowdown or a leak as traces grow shows.
    """
    return {"sizes": [_judge_timing(size, seed) for size in (max(1, lines // 4), lines)]}


def _judge_timing(lines: int, seed: int) -> dict[str, Any]:
    import io
    import json
    import random
    import tracemalloc

    from model.inputs import Input
    from model.step import step
    from model.world import World
    from sessionspec.check_trace import judge_stream
    from sessionspec.explore import CONFIGS, TEMPLATES, Context
    from sessionspec.traces import header, record_to_dict, trace_of

    rng, config = random.Random(seed), CONFIGS[0]
    inputs: list[Input] = []
    world, ctx = World.empty(config), Context()
    start = World.empty(config)
    while 2 * len(inputs) < lines:  # an input brings about two lines with its observations
        inp = rng.choice(TEMPLATES).resolve(world, ctx)
        inputs.append(inp)
        world = step(world, inp, trusted=True).world
    chunks = [json.dumps(header(start))]
    chunks += [json.dumps(record_to_dict(r)) for r in trace_of(start, inputs)]
    data = ("\n".join(chunks) + "\n").encode()
    count = len(chunks)
    began = time.perf_counter()
    for line in data.splitlines():
        json.loads(line)
    parse = time.perf_counter() - began
    began = time.perf_counter()
    verdict = judge_stream(io.BytesIO(data), "generated")
    judge = time.perf_counter() - began
    tracemalloc.start()  # a second, traced run: the peak the judge itself allocates
    judge_stream(io.BytesIO(data), "generated")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "lines": count,
        "verdict": ("conforms", "does not conform", "unreadable")[verdict.status],
        "json_parse_seconds": round(parse, 3),
        "check_trace_seconds": round(judge, 3),
        "lines_per_second": round(count / judge, 1),
        "ratio_to_json_parse": round(judge / parse, 1),
        "judge_peak_memory_kib": peak // 1024,
    }


def format_trace_result(result: dict[str, Any]) -> str:
    lines = ["check-trace on generated traces (target: 200,000 lines/s, at most 3x JSON parsing)"]
    for size in result["sizes"]:
        lines.append(
            f"  {size['lines']:8d} lines  {size['check_trace_seconds']:7.2f}s  "
            f"{size['lines_per_second']:9.0f} lines/s  {size['ratio_to_json_parse']:6.1f}x JSON parsing  "
            f"peak {size['judge_peak_memory_kib']} KiB  ({size['verdict']})"
        )
    return "\n".join(lines)
