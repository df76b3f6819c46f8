"""Speed and memory of the exhaustive explorer: distinct states per second, bytes per state.

``sessionspec bench --explorer`` searches the default and the large preset
completely, with every rule checked, and reports both figures for each; then the
default preset again with several processes (``--workers``, default: every core),
and the speed-up. Last, it times the model's own transition code alone on states
spread over the whole default search: every move from each, nothing else (no renaming,
no fingerprints, no rules). That is the cost of the moves in today's representation of
a world; a more compact representation moves faster.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from sessionspec.explorer.bfs import Search, successors
from sessionspec.explorer.parallel import run_parallel
from sessionspec.explorer.presets import PRESETS, Preset
from sessionspec.model.world import World

TARGET_STATES_PER_SECOND = 50_000


def core_kind() -> str:
    """Which core runs: compiled with mypyc (``scripts/setup`` builds it) or pure Python."""
    import sessionspec.model

    return "compiled" if sessionspec.model.NATIVE else "pure Python"


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
        "model_code_alone": model_code_alone(PRESETS["default"]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "core": core_kind(),
        "target_states_per_second": TARGET_STATES_PER_SECOND,
        "runs": runs,
    }


def model_code_alone(preset: Preset, states: int = 5000) -> dict[str, Any]:
    """Time every move from ``states`` states spread evenly over the whole search of ``preset``.

    The sample is taken across every breadth-first level, not just the first ones (whose
    small worlds move faster), and the moves are timed doing nothing else.

    >>> alone = model_code_alone(PRESETS["tiny"], states=50)
    >>> alone["states"] == 50 and alone["moves"] >= alone["states"] and alone["of"] > 50
    True
    """
    reached: list[World] = []

    class Sampling(Search):
        def expand(self, world: World, fp: int, frontier: list[tuple[World, int]]) -> Any:
            reached.append(world)
            return super().expand(world, fp, frontier)

    Sampling(preset, rules=[], count_exercised=False).run()
    stride = max(1, len(reached) // states)
    sample = reached[::stride][:states]
    moves = 0
    started = time.perf_counter()
    for world in sample:
        for _ in successors(world, preset):
            moves += 1
    seconds = time.perf_counter() - started
    return {
        "preset": preset.name,
        "states": len(sample),
        "of": len(reached),
        "moves": moves,
        "microseconds_per_move": round(1e6 * seconds / moves, 1) if moves else None,
        "microseconds_per_state": round(1e6 * seconds / len(sample), 1) if sample else None,
        "states_per_second_moves_alone": round(len(sample) / seconds) if seconds else None,
    }


def format_explorer_result(result: dict[str, Any]) -> str:
    lines = [
        f"sessionspec check speed on {result['machine']}, Python {result['python']}, {result['core']} core, "
        "one process "
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
    alone = result["model_code_alone"]
    lines.append(
        f"  the transition code alone ({alone['preset']}, {alone['states']:,} states spread over all "
        f"{alone['of']:,}): {alone['microseconds_per_move']} us per move, "
        f"{alone['microseconds_per_state']} us per state ({alone['states_per_second_moves_alone']:,} "
        "states/s for the moves alone, in today's representation of a world)"
    )
    return "\n".join(lines)
