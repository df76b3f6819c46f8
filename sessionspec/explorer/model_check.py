"""``sessionspec check``: exhaustive model checking of a preset, and its report.

The report says what was explored (distinct states, transitions, depth, speed,
memory), what was covered (every declared state and transition of the Session and
Job machines, and for each rule how often its situation arose), and the verdict. On
a violation it shows the shortest counterexample step by step and writes it twice:
as a protocol v1 trace for ``sessionspec check-trace`` and as an ITF trace.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sessionspec.explorer.bfs import Search, SearchResult
from sessionspec.explorer.counterexample import (
    Counterexample,
    ReplayMismatch,
    format_steps,
    reconstruct,
    trace_lines,
)
from sessionspec.explorer.itf import to_itf
from sessionspec.explorer.parallel import run_parallel
from sessionspec.explorer.presets import Bounds, Preset
from sessionspec.invariants import RULES
from sessionspec.model.compiled import JOB, SESSION, declared_edges
from sessionspec.model.config import Config

EXIT_VERIFIED, EXIT_VIOLATED, EXIT_INCOMPLETE = 0, 1, 4


def collision_probability(states: int) -> float:
    """The chance that two of ``states`` distinct states share a 64-bit fingerprint."""
    return states * (states - 1) / 2**65


def run_check(
    preset: Preset,
    *,
    symmetry: bool = True,
    compare: bool = False,
    max_states: int | None = None,
    workers: int = 1,
    out: Path | None = None,
    progress: Callable[[SearchResult, int], None] | None = None,
) -> tuple[dict[str, Any], Counterexample | None]:
    """Search ``preset`` and build the report; write a counterexample's files into ``out``."""
    search = Search(preset, symmetry=symmetry, max_states=max_states, progress=progress)
    result = search.run() if workers == 1 else run_parallel(search, workers)
    report = result_dict(result)
    report["workers"] = workers
    if compare:
        other = Search(preset, symmetry=not symmetry, max_states=max_states, count_exercised=False).run()
        report["symmetry_comparison"] = {
            "with_symmetry": (result if symmetry else other).states,
            "without_symmetry": (other if symmetry else result).states,
            "same_verdict": other.verdict == result.verdict,
            "other_seconds": round(other.seconds, 2),
        }
    counterexample = None
    if result.finding is not None:
        try:
            counterexample = reconstruct(search, result)
        except ReplayMismatch as mismatch:
            report["counterexample"] = {"error": f"the counterexample could not be replayed: {mismatch}"}
            return report, None
        report["counterexample"] = counterexample_dict(counterexample, preset, out)
    return report, counterexample


def result_dict(result: SearchResult) -> dict[str, Any]:
    preset = result.preset
    declared_states = {"Session": SESSION.states, "Job": JOB.states}
    reached = {"Session": result.session_states, "Job": result.job_states}
    unreached_states = [
        {"machine": m, "state": s}
        for m, states in declared_states.items()
        for s in states
        if not reached[m][s]
    ]
    edges = declared_edges()
    return {
        "preset": preset.name,
        "summary": preset.summary,
        "config": preset.config.to_dict(),
        "bounds": preset.bounds.to_dict(),
        "symmetry": result.symmetry,
        "verdict": result.verdict,
        "distinct_states": result.states,
        "expected_states": preset.expected_states if result.symmetry else preset.expected_states_unreduced,
        "transitions": result.transitions,
        "depth": result.depth,
        "seconds": round(result.seconds, 3),
        "states_per_second": round(result.states_per_second, 1),
        "visited_set_bytes": result.visited_bytes,
        "bytes_per_state": round(result.bytes_per_state, 1),
        "peak_memory_kib": result.peak_memory_kib,
        "fingerprint_collision_probability": collision_probability(result.states),
        "coverage": {
            "states": {m: dict(reached[m]) for m in declared_states},
            "unreached_states": unreached_states,
            "edges": [
                {"machine": m, "source": s, "event": e, "target": t, "taken": result.edges[(m, s, e, t)]}
                for m, s, e, t in edges
            ],
            "unreached_edges": [
                {"machine": m, "source": s, "event": e, "target": t}
                for m, s, e, t in edges
                if not result.edges[(m, s, e, t)]
            ],
        },
        "rules": [
            {
                "id": rule_id,
                "kind": RULES[rule_id].kind.value,
                "exercised": result.exercised[rule_id],
                "vacuous": result.complete and result.exercised[rule_id] == 0,
            }
            for rule_id in result.checked_rules
        ],
        "vacuous_rules": [r for r in result.checked_rules if result.complete and result.exercised[r] == 0],
        "counterexample": None,
    }


def counterexample_dict(counterexample: Counterexample, preset: Preset, out: Path | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rules": list(counterexample.rules),
        "violations": [str(v) for v in counterexample.violations],
        "error": counterexample.error,
        "eventual": counterexample.eventual,
        "length": len(counterexample.steps),
        # what check-trace names for the trace file, at which step; steps run on past the finding
        "trace_rule": counterexample.trace_rule,
        "shown_at_step": counterexample.shown_at,
        "extended_by": counterexample.extended,
        "steps": format_steps(counterexample).splitlines(),
        "trace_file": None,
        "itf_file": None,
    }
    if out is not None:
        try:
            data["trace_file"], data["itf_file"] = _write_files(counterexample, preset, out)
        except OSError as problem:  # the report still shows the run; the caller says what failed
            data["save_error"] = f"cannot write the counterexample into {out}: {problem.strerror or problem}"
    return data


def _write_files(counterexample: Counterexample, preset: Preset, out: Path) -> tuple[str, str]:
    """Write the counterexample as a protocol v1 trace and as an ITF trace; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    trace_file = out / f"counterexample-{preset.name}.jsonl"
    trace_file.write_text("".join(json.dumps(r) + "\n" for r in trace_lines(counterexample)))
    itf_file = out / f"counterexample-{preset.name}.itf.json"
    what = ", ".join(counterexample.rules) or "a crash of the model"
    description = f"shortest counterexample of preset {preset.name}: {what}"
    itf_file.write_text(json.dumps(to_itf(counterexample, description), indent=1) + "\n")
    return str(trace_file), str(itf_file)


def format_report(report: dict[str, Any]) -> str:
    """The human-readable report."""
    bounds = report["bounds"]
    lines = [
        f"Preset     {report['preset']}: {report['summary']}",
        f"Bounds     at most: {Bounds.from_dict(bounds).describe_workloads()}; "
        f"instances {', '.join(bounds['instances'])}; "
        f"user endings {', '.join(bounds.get('endings', [])) or 'none'}",
        f"Config     {Config.from_dict(report['config']).describe()}",
        "Method     breadth-first search of every reachable state: every input the bounds allow, every",
        "           scheduler pick, every way a job ends; time unbounded (relative clocks, decision D20)",
        f"Symmetry   {'on: names of jobs, sessions and instances reduced' if report['symmetry'] else 'off'}",
        f"States     {report['distinct_states']:,} distinct, {report['transitions']:,} transitions, "
        f"depth {report['depth']}",
        f"Speed      {report['seconds']:.1f}s, {report['states_per_second']:,.0f} distinct states/s"
        f" ({report.get('workers', 1)} process{'es' if report.get('workers', 1) > 1 else ''})",
        f"Memory     {report['bytes_per_state']:.0f} bytes per state in the visited set "
        f"({report['visited_set_bytes'] / 2**20:.1f} MiB); peak {report['peak_memory_kib'] / 1024:.0f} MiB; "
        f"fingerprint collision probability {report['fingerprint_collision_probability']:.1e}",
    ]
    expected = report["expected_states"]
    if expected is not None and report["verdict"] == "verified":
        same = "matches" if expected == report["distinct_states"] else "DIFFERS FROM"
        lines.append(f"Anchor     {same} the recorded count {expected:,} (sessionspec/explorer/presets.py)")
    comparison = report.get("symmetry_comparison")
    if comparison:
        lines.append(
            f"Reduction  {comparison['with_symmetry']:,} states with symmetry, "
            f"{comparison['without_symmetry']:,} without; same verdict: {comparison['same_verdict']}"
        )
    coverage = report["coverage"]
    taken = len(coverage["edges"]) - len(coverage["unreached_edges"])
    lines.append(f"Coverage   {taken} of {len(coverage['edges'])} declared transitions taken")
    for edge in coverage["unreached_edges"]:
        arrow = f"{edge['source']} --{edge['event']}--> {edge['target']}"
        lines.append(f"  warning: never taken: {edge['machine']} {arrow}")
    for state in coverage["unreached_states"]:
        lines.append(f"  warning: never entered: {state['machine']} state {state['state']}")
    lines += [
        "Rules      times each rule's situation arose: step properties per model step (one input",
        "           tried can take several), state invariants per world checked, eventual ones per",
        "           state with no deadline left:",
    ]
    for rule in report["rules"]:
        flag = "  VACUOUS: its situation never arose" if rule["vacuous"] else ""
        lines.append(f"  {rule['id']:<28} {rule['exercised']:>10,}{flag}")
    lines.append(f"Verdict    {_verdict_line(report)}")
    example = report["counterexample"]
    if example:
        if "error" in example and "steps" not in example:
            lines.append(f"  {example['error']}")
        else:
            lines += ["", f"Shortest counterexample ({example['length']} steps):", *example["steps"]]
            if example["trace_file"]:
                lines.append(f"Trace      {example['trace_file']}  (sessionspec check-trace judges it)")
                lines.append(f"ITF        {example['itf_file']}  (Apalache / Quint trace format)")
            if example.get("save_error"):
                lines.append(f"Trace      not written: {example['save_error']}")
    return "\n".join(lines)


def _verdict_line(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    if verdict == "verified":
        held = f"all {len(report['rules'])} rules hold in every reachable state"
        vacuous = [rule["id"] for rule in report["rules"] if rule["vacuous"]]
        if not vacuous:
            return held
        qualified = f"{held}; {len(vacuous)} of them vacuously (their situation never arose on this preset):"
        indent = " " * len("Verdict    ")
        names = textwrap.wrap(", ".join(vacuous), 98, initial_indent=indent, subsequent_indent=indent)
        return "\n".join([qualified, *names])
    if verdict == "incomplete":
        return f"no violation in the first {report['distinct_states']:,} states (stopped early: not a proof)"
    example = report["counterexample"] or {}
    if verdict == "error":
        return f"the model crashed: {example.get('error', '')}"
    return "violated " + ", ".join(example.get("rules", []))


def exit_status(report: dict[str, Any]) -> int:
    return {"verified": EXIT_VERIFIED, "incomplete": EXIT_INCOMPLETE}.get(report["verdict"], EXIT_VIOLATED)


def progress_line(result: SearchResult, frontier: int) -> None:
    print(
        f"  ... {result.states:,} states, {result.transitions:,} transitions, depth {result.depth}, "
        f"frontier {frontier:,}, {result.states_per_second:,.0f} states/s",
        file=sys.stderr,
        flush=True,
    )
