"""Speed and memory of the exhaustive explorer: distinct states per second, bytes per state.

``sessionspec bench --explorer`` searches the default and the large preset
completely, with every rule checked, and reports both figures for each; then the
default preset again with several processes (``--workers``, default: every core),
and the speed-up.
"""

from __future__ import annotations

import os
import platform
from typing import Any

from sessionspec.bfs import Search
from sessionspec.parallel import run_parallel
from sessionspec.presets import PRESETS

TARGET_STATES_PER_SECOND = 50_000


def explorer_benchmark(workers: int, large_states: int | None = None) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for name, limit in (("default", None), ("large", large_states)):
        result = Search(PRESETS[name], max_states=limit).run()
        runs.append(
            {
                "preset": name,
                "complete": result.complete,
                "verdict": result.verdict,
                "distinct_states": result.states,
                "transitions": result.transitions,
                "seconds": round(result.seconds, 2),
                "states_per_second": round(result.states_per_second, 1),
                "transitions_per_second": round(result.transitions / result.seconds, 1),
                "bytes_per_state": round(result.bytes_per_state, 1),
                "peak_memory_kib": result.peak_memory_kib,
            }
        )
    parallel = run_parallel(Search(PRESETS["default"]), workers)
    single = runs[0]["seconds"]
    return {
        "parallel": {
            "preset": "default",
            "workers": workers,
            "distinct_states": parallel.states,
            "seconds": round(parallel.seconds, 2),
            "states_per_second": round(parallel.states_per_second, 1),
            "speed_up": round(single / parallel.seconds, 2) if parallel.seconds else None,
        },
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "target_states_per_second": TARGET_STATES_PER_SECOND,
        "runs": runs,
    }


def format_explorer_result(result: dict[str, Any]) -> str:
    lines = [
        f"sessionspec check speed on {result['machine']}, Python {result['python']}, one process "
        f"(target: {result['target_states_per_second']:,} distinct states/s)"
    ]
    for run in result["runs"]:
        scope = "complete" if run["complete"] else "first states only"
        lines.append(
            f"  {run['preset']:8} {run['distinct_states']:9,} states ({scope}) {run['seconds']:7.1f}s  "
            f"{run['states_per_second']:8,.0f} states/s  "
            f"{run['transitions_per_second']:8,.0f} transitions/s  "
            f"{run['bytes_per_state']:5.0f} bytes/state  peak {run['peak_memory_kib'] // 1024} MiB"
        )
    par = result["parallel"]
    lines.append(
        f"  default with {par['workers']} processes: {par['seconds']:.1f}s, "
        f"{par['states_per_second']:,.0f} states/s, speed-up {par['speed_up']}x"
    )
    return "\n".join(lines)
