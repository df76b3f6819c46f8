"""``sessionspec explore``: randomized exploration of larger configurations with Hypothesis.

Exit status: 0 every rule held; 1 a rule was violated (or the model crashed); 2 bad usage or
a timeline that cannot be drawn.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sessionspec.cli.arguments import integer, picture_file, whole_number
from sessionspec.cli.outputs import Timeline, counted, draw_timeline, finish
from sessionspec.exploration.runner import ExplorationReport, explore
from sessionspec.exploration.stateful import CONFIGS
from sessionspec.invariants import RULES

COMMAND = "sessionspec explore"


def add_parser(commands: Any) -> None:
    """Add ``explore`` and its options to the subcommands of ``sessionspec``."""
    explore_cmd = commands.add_parser(
        "explore", help="randomized exploration with Hypothesis of larger configurations"
    )
    explore_cmd.add_argument(
        "--examples", type=whole_number(1), default=600, help="Hypothesis examples (600)"
    )
    explore_cmd.add_argument("--steps", type=whole_number(1), default=50, help="steps per example (50)")
    explore_cmd.add_argument("--seed", type=integer, default=0, help="seed of the run, for replay (0)")
    explore_cmd.add_argument("--json", action="store_true", help="machine-readable report")
    explore_cmd.add_argument(
        "--timeline", metavar="FILE", type=picture_file, help="on a violation, draw the failing run"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``sessionspec explore`` with parsed arguments; return the exit status."""

    def progress(report: ExplorationReport) -> None:
        print(
            f"  ... {report.examples:,} examples, {report.steps:,} steps, "
            f"{report.steps_per_second:,.0f} steps/s",
            file=sys.stderr,
            flush=True,
        )

    if not args.json:
        print(
            f"{COMMAND}: {len(RULES)} rules, {counted(args.examples, 'example')} of up to "
            f"{counted(args.steps, 'step')}, seed {args.seed}",
            flush=True,
        )
    report = explore(args.examples, args.steps, args.seed, progress=None if args.json else progress)
    status = 0 if report.verdict == "verified" else 1
    timeline = _draw_failing_run(report, args.timeline) if args.timeline else None
    text = format_report(report, args.seed)
    return finish(COMMAND, status, report=report.as_dict(), text=text, timeline=timeline, as_json=args.json)


def _draw_failing_run(report: ExplorationReport, path: str) -> Timeline:
    """Write the shrunk failing run as a trace and draw it."""
    from sessionspec.model.world import World
    from sessionspec.traces.records import header, record_to_dict, trace_of

    if report.verdict == "verified" or report.failing_config is None:
        return draw_timeline(path, None, "", nothing="every rule held, so there is no failing run to draw")
    start = World.empty(report.failing_config)
    try:
        records = [header(start), *(record_to_dict(r) for r in trace_of(start, report.failing_inputs))]
    except Exception as crash:  # the failing run may crash the model: say so, draw nothing
        return Timeline(path, note=f"the failing run cannot be replayed to draw it: {crash}", problem=True)
    return draw_timeline(path, records, "failing run", nothing="")


def format_report(report: ExplorationReport, seed: int) -> str:
    """The human-readable report of an exploration."""
    lines = [
        "",
        "Method     randomized exploration of interleavings (Hypothesis stateful testing);",
        "           every rule is checked on every transition, eventual properties at the end",
        f"Explored   {examples_line(report)}",
        f"           {report.steps:,} steps, {report.transitions:,} transitions in {report.seconds:.1f}s "
        f"({report.steps_per_second:,.0f} steps/s)",
        "Configs    each example starts from one of these configurations, drawn at random:",
        *(
            f"  #{i} {report.configs[i]:>7,} examples  {config.describe()}"
            for i, config in enumerate(CONFIGS)
        ),
    ]
    edges = len(report.edges)
    unreached = report.unreached_edges()
    lines.append(f"Coverage   {edges} of {edges + len(unreached)} declared transitions taken")
    for machine, source, event, target in unreached:
        lines.append(f"  warning: never taken: {machine} {source} --{event}--> {target}")
    for machine, state in report.unreached_states():
        lines.append(f"  warning: never entered: {machine} state {state}")
    if report.verdict == "verified":
        lines.append(f"Verdict    all {len(RULES)} rules held (replay with --seed {seed})")
        return "\n".join(lines)
    what = "violated " + ", ".join(report.violated_rules) if report.violated_rules else "model crashed"
    lines += [f"Verdict    {what} (replay with --seed {seed})", "", "Shortest failing run found:"]
    lines += [f"  {line}" for line in report.counterexample]
    if report.error:
        lines.append(f"  {report.error}")
    return "\n".join(lines)


def examples_line(report: ExplorationReport) -> str:
    """How many examples ran, against how many were asked for, and why the two differ."""
    asked = f"{counted(report.asked, 'example')} asked for"
    if report.verdict != "verified":
        ran = f"{report.examples:,} of the {asked} ran up to the failure"
        ran += f"; then {counted(report.shrink_runs, 'run')} shrank it"
    elif report.examples < report.asked:
        ran = f"{report.examples:,} of the {asked}: Hypothesis found no new ones"
    else:
        ran = f"{counted(report.examples, 'example')}, as asked"
    if report.cut_short:
        were = "was" if report.cut_short == 1 else "were"
        ran += (
            f"; {counted(report.cut_short, 'more run')} outgrew Hypothesis's size limit and {were} replaced"
        )
    return ran
