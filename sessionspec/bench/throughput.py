"""Throughput of the checkers: Hypothesis steps per second, and check-trace's lines per second.

A *step* is one Hypothesis rule invocation: one input applied to the model, with
every rule of the catalogue checked on each transition it causes. Workers run the
same exploration with distinct seeds, so the parallel figure is the throughput of
the machine, not of one process; both figures are reported.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from sessionspec.bench.longtrace import LongTrace
from sessionspec.exploration.runner import explore


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


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


def format_result(result: dict[str, Any]) -> str:
    single, parallel = result["single_process"], result["parallel"]
    return "\n".join(
        [
            f"sessionspec bench on {result['machine']}, Python {result['python']}",
            f"  {result['examples_per_worker']} examples of up to {result['steps_per_example']} steps "
            "per worker; every rule checked on every transition",
            f"  {'1 process':12} {single['steps']:9,} steps in {single['seconds']:6.2f}s  "
            f"{single['steps_per_second']:7,.0f} steps/s",
            f"  {_processes(parallel['workers']):12} {parallel['steps']:9,} steps in "
            f"{parallel['seconds']:6.2f}s  {parallel['steps_per_second']:7,.0f} steps/s",
            f"  verdict: {result['verdict']}",
        ]
    )


class Streamed(int):
    """A number of trace lines to stream through a pipe, never held in memory (``bench --stream``)."""


def streamed_lines(text: str) -> Streamed:
    """The argument of ``bench --stream``: a whole number of lines, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of lines >= 1")
    return Streamed(value)


def trace_benchmark(lines: int, seed: int = 0) -> dict[str, Any]:
    """check-trace speed on a generated trace of about ``lines`` lines, and at a quarter of it.

    Reports lines per second, the ratio to merely parsing each line's JSON (``json.loads``
    on each line of the same file), and the peak memory the judge allocates (a separate
    run under tracemalloc), so a slowdown or a leak as traces grow shows. The traces
    repeat one block of model output (:mod:`sessionspec.bench.longtrace`). With a
    :class:`Streamed` number of lines, see :func:`stream_benchmark` instead.
    """
    if isinstance(lines, Streamed):
        return stream_benchmark(int(lines), seed)
    trace = LongTrace(seed, block_inputs=min(800, max(20, lines // 40)))
    sizes = [_judge_timing(trace, size) for size in (max(1, lines // 4), lines)]
    from sessionspec.bench.explorer import core_kind

    return {"block_lines": trace.block_lines, "core": core_kind(), "sizes": sizes}


def _judge_timing(trace: LongTrace, lines: int) -> dict[str, Any]:
    from sessionspec.oracle.judge import judge_stream

    data = trace.text(lines).encode()
    count = data.count(b"\n")
    each_line = data.splitlines()
    gc.collect()  # judge in a tidy process: garbage left by the generator is not the judge's cost
    parse = judge = float("inf")
    for _ in range(3 if count <= 300_000 else 1):  # the best of a few runs, interleaved
        began = time.perf_counter()
        for line in each_line:
            json.loads(line)
        parse = min(parse, time.perf_counter() - began)
        began = time.perf_counter()
        verdict = judge_stream(io.BytesIO(data), "generated")
        judge = min(judge, time.perf_counter() - began)
    del each_line
    tracemalloc.start()  # a separate, traced run: the peak the judge itself allocates
    judge_stream(io.BytesIO(data), "generated")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "lines": count,
        "verdict": ("conforms", "does not conform", "unreadable")[verdict.status],
        "json_parse_seconds": round(parse, 3),
        "check_trace_seconds": round(judge, 3),
        "lines_per_second": round(count / judge, 1),
        "ratio_to_json_parse": round(judge / parse, 2),
        "judge_peak_memory_kib": peak // 1024,
    }


def stream_benchmark(lines: int, seed: int = 0) -> dict[str, Any]:
    """check-trace on a trace of about ``lines`` lines that is never held in memory.

    A child process writes the trace (:mod:`sessionspec.bench.longtrace`) into a pipe and this
    process judges it as it arrives. Reports the time, and this process's resident
    memory after each tenth of the lines and at its peak: flat memory shows as a flat
    series. (Resident memory includes the interpreter itself, some 30 to 50 MiB.)
    """
    from sessionspec.oracle.judge import judge_stream

    writer = subprocess.Popen(
        [sys.executable, "-m", "sessionspec.bench.longtrace", str(lines), str(seed)], stdout=subprocess.PIPE
    )
    assert writer.stdout is not None
    probe = _MemoryProbe(writer.stdout.fileno(), every=max(1, lines // 10))
    with io.BufferedReader(probe, 1 << 16) as stream:
        verdict = judge_stream(stream, "<pipe>")
    seconds = time.perf_counter() - probe.first_bytes  # the generator's own start not counted
    writer.stdout.close()
    writer.wait()
    return {
        "streamed": True,
        "lines": verdict.lines,
        "verdict": ("conforms", "does not conform", "unreadable")[verdict.status],
        "check_trace_seconds": round(seconds, 1),
        "lines_per_second": round(verdict.lines / seconds, 1),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "rss_kib_by_lines": probe.samples,
    }


class _MemoryProbe(io.RawIOBase):
    """A pipe read as a raw stream, noting the resident memory every ``every`` lines."""

    def __init__(self, fd: int, every: int) -> None:
        super().__init__()
        self.fd = fd
        self.every = every
        self.lines = 0
        self.next_sample = every
        self.samples: list[tuple[int, int]] = [(0, _resident_kib())]
        self.first_bytes = 0.0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = os.read(self.fd, len(buffer))
        if not self.first_bytes:
            self.first_bytes = time.perf_counter()
        buffer[: len(chunk)] = chunk
        self.lines += chunk.count(b"\n")
        if self.lines >= self.next_sample:
            self.samples.append((self.lines, _resident_kib()))
            self.next_sample += self.every
        return len(chunk)


def _resident_kib() -> int:
    """This process's resident memory now, in KiB (Linux; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _count(lines: int) -> str:
    return f"{lines / 1e6:.1f}M" if lines >= 1_000_000 else f"{lines / 1e3:.0f}k"


def format_trace_result(result: dict[str, Any]) -> str:
    if result.get("streamed"):
        samples = ", ".join(f"{_count(lines)}: {kib / 1024:.0f}" for lines, kib in result["rss_kib_by_lines"])
        return "\n".join(
            [
                "check-trace on a streamed trace (written on the fly into a pipe, never held in memory)",
                f"  {result['lines']:,} lines in {result['check_trace_seconds']:.1f}s  "
                f"{result['lines_per_second']:,.0f} lines/s  ({result['verdict']})",
                f"  resident memory, MiB, after so many lines read: {samples}",
                f"  peak resident memory {result['peak_rss_kib'] / 1024:.0f} MiB",
            ]
        )
    lines = [
        f"check-trace on generated traces, {result['core']} core "
        "(target: 200,000 lines/s, at most 3x JSON parsing)"
    ]
    for size in result["sizes"]:
        lines.append(
            f"  {size['lines']:8d} lines  {size['check_trace_seconds']:7.2f}s  "
            f"{size['lines_per_second']:9.0f} lines/s  {size['ratio_to_json_parse']:6.2f}x JSON parsing  "
            f"peak {size['judge_peak_memory_kib']} KiB  ({size['verdict']})"
        )
    return "\n".join(lines)
