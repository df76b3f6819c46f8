"""The ``sessionspec`` command line.

Commands: ``rules`` (the rule catalogue), ``check`` (exhaustively model-check a
bounded preset and print the report: the main job), ``explore`` (randomized
exploration with Hypothesis), ``bench`` (throughput of the checkers),
``check-trace`` (judge a trace file), ``serve`` (the model as an implementation
speaking the protocol), ``conform`` (run the
conformance suite against an implementation), ``scenarios`` (list its scenario
library), ``diagrams`` (regenerate the state diagrams), ``timeline`` (draw a
trace). Every command takes
``--json``. Exit status: 0 success; 1 a rule was violated (or a trace or an
implementation does not conform); 2 bad usage or an unreadable input; 3 (conform
only) the implementation broke the protocol; 4 (check only) the search stopped at
``--max-states`` before it was complete.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sessionspec.bench import throughput as bench
from sessionspec.cli.arguments import Parser, integer, whole_number
from sessionspec.exploration.runner import ExplorationReport, explore
from sessionspec.explorer.presets import DEFAULT_PRESET, PRESETS
from sessionspec.invariants import RULES


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sessionspec",
        description="The executable, model-checked specification of Qiskit Runtime sessions.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    rules = commands.add_parser("rules", help="list the rule catalogue: ID, kind, statement, source")
    rules.add_argument("--json", action="store_true", help="machine-readable output")
    rules.add_argument("--markdown", action="store_true", help="a Markdown table (as in the README)")

    check = commands.add_parser(
        "check", help="model-check a bounded configuration exhaustively and print the report (main job)"
    )
    which = check.add_mutually_exclusive_group()
    which.add_argument(
        "--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET, help=f"a named preset ({DEFAULT_PRESET})"
    )
    which.add_argument("--config", metavar="FILE", help='a JSON file {"config": {...}, "bounds": {...}}')
    which.add_argument("--list-presets", action="store_true", help="list the presets and their bounds")
    check.add_argument("--no-symmetry", action="store_true", help="explore every renaming separately")
    check.add_argument(
        "--compare-symmetry", action="store_true", help="search with and without symmetry reduction"
    )
    check.add_argument("--max-states", type=whole_number(1), default=None, help="stop after N states")
    check.add_argument("--workers", type=whole_number(1), default=1, help="processes to search with (1)")
    check.add_argument(
        "--out", metavar="DIR", default=".", help="where a counterexample's trace and ITF files go (.)"
    )
    check.add_argument("--json", action="store_true", help="machine-readable report")
    check.add_argument(
        "--timeline", metavar="FILE", help="on a violation, draw the counterexample (.svg/.png)"
    )

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
        "--timeline", metavar="FILE", help="on a violation, draw the failing run (.svg/.png)"
    )

    speed = commands.add_parser("bench", help="Hypothesis throughput on the model, in steps per second")
    speed.add_argument("--examples", type=whole_number(1), default=300, help="examples per worker (300)")
    speed.add_argument("--steps", type=whole_number(1), default=50, help="steps per example (50)")
    speed.add_argument("--workers", type=whole_number(1), default=None, help="processes (default: all cores)")
    speed.add_argument("--seed", type=integer, default=0, help="seed of the first worker (0)")
    speed.add_argument(
        "--trace",
        type=whole_number(1),
        metavar="LINES",
        default=None,
        help="instead, time check-trace on generated traces of LINES (and LINES/4) lines",
    )
    speed.add_argument(
        "--stream",
        type=bench.streamed_lines,
        dest="trace",
        metavar="LINES",
        help="instead, judge a trace of LINES lines piped from a generator: time and memory",
    )
    speed.add_argument(
        "--explorer",
        action="store_true",
        help="instead, time sessionspec check on the default and large presets: states/s, bytes/state",
    )
    speed.add_argument("--json", action="store_true", help="machine-readable report")
    for name, summary in DELEGATED.items():
        delegated = commands.add_parser(name, help=summary, add_help=False)
        delegated.add_argument("arguments", nargs=argparse.REMAINDER, help="see --help of the command")
    return parser


DELEGATED = {
    "check-trace": "judge a trace file (JSON Lines) against the model",
    "serve": "the model itself as an implementation speaking the protocol on stdin/stdout",
    "conform": "run the conformance suite against an implementation: conform [options] -- COMMAND...",
    "scenarios": "list the conformance scenario library (one or more per rule)",
    "diagrams": "regenerate the state diagrams from the declarations",
    "timeline": "draw a trace as a timeline (SVG or PNG): jobs, session states, deadlines, violations",
}


def _delegate(command: str, arguments: list[str]) -> int:
    """Commands with their own parsers, in modules of their own."""
    if command == "check-trace":
        from sessionspec.cli import check_trace

        return check_trace.main(arguments)
    if command == "serve":
        from sessionspec.cli import serve

        return serve.main(arguments)
    if command == "conform":
        from sessionspec.cli import conform

        return conform.main(arguments)
    if command == "scenarios":
        from sessionspec.cli import scenarios

        return scenarios.main(arguments)
    if command == "timeline":
        from sessionspec.cli import timeline

        return timeline.main(arguments)
    from sessionspec.cli import diagrams

    return diagrams.main(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _dispatch(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in DELEGATED:
        return _delegate(arguments[0], arguments[1:])
    args = build_parser().parse_args(arguments)
    if args.command is None:
        build_parser().print_help()
        return 2
    if args.command == "rules":
        return _rules(args)
    if args.command == "check":
        return _model_check(args)
    if args.command == "explore":
        return _check(args)
    return _bench(args)


def _rules(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([rule.as_dict() for rule in RULES.values()], indent=2))
    elif args.markdown:
        print(rules_markdown())
    else:
        for rule in RULES.values():
            decisions = f" [decisions {', '.join(rule.decisions)}]" if rule.decisions else ""
            print(
                f"{rule.id}  ({rule.kind.value})\n    {rule.statement}\n    source: {rule.source}{decisions}"
            )
    return 0


def rules_markdown() -> str:
    """The catalogue as the Markdown table the README carries."""
    lines = ["| ID | Kind | Rule | Source | Decisions |", "|---|---|---|---|---|"]
    for rule in RULES.values():
        decisions = ", ".join(rule.decisions)
        lines.append(f"| `{rule.id}` | {rule.kind.value} | {rule.statement} | {rule.source} | {decisions} |")
    return "\n".join(lines)


def _model_check(args: argparse.Namespace) -> int:
    from sessionspec.explorer import model_check
    from sessionspec.explorer.presets import load_preset_file
    from sessionspec.model.errors import InvalidInput

    if args.list_presets:
        for preset in PRESETS.values():
            print(f"{preset.name:8} {preset.summary}")
            print(f"         bounds: {json.dumps(preset.bounds.to_dict())}")
        return 0
    try:
        preset = load_preset_file(args.config) if args.config else PRESETS[args.preset]
    except InvalidInput as problem:
        print(f"sessionspec check: {args.config}: {problem}", file=sys.stderr)
        return 2
    except OSError as problem:
        print(f"sessionspec check: cannot read {args.config}: {problem.strerror or problem}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"sessionspec check: preset {preset.name}, {len(RULES)} rules", flush=True)
    report, counterexample = model_check.run_check(
        preset,
        symmetry=not args.no_symmetry,
        compare=args.compare_symmetry,
        max_states=args.max_states,
        workers=args.workers,
        out=Path(args.out),
        progress=None if args.json else model_check.progress_line,
    )
    print(json.dumps(report, indent=2) if args.json else model_check.format_report(report))
    if args.timeline and counterexample is not None:
        from sessionspec.explorer.counterexample import trace_lines
        from sessionspec.pictures.timeline import draw_records

        try:
            draw_records(trace_lines(counterexample), args.timeline, "counterexample")
        except (OSError, ValueError) as problem:
            print(f"sessionspec check: cannot draw {args.timeline}: {problem}", file=sys.stderr)
            return 2
        if not args.json:
            print(f"Timeline   {args.timeline}")
    return model_check.exit_status(report)


def _check(args: argparse.Namespace) -> int:
    def progress(report: ExplorationReport) -> None:
        print(
            f"  ... {report.examples} examples, {report.steps} steps, {report.steps_per_second:.0f} steps/s",
            file=sys.stderr,
            flush=True,
        )

    if not args.json:
        print(
            f"sessionspec check: {len(RULES)} rules, {args.examples} examples of up to "
            f"{args.steps} steps, seed {args.seed}",
            flush=True,
        )
    report = explore(args.examples, args.steps, args.seed, progress=None if args.json else progress)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(format_report(report, args.seed))
    if args.timeline and report.verdict != "verified" and report.failing_config is not None:
        status = _draw_failing_run(report, args.timeline)
        if status:
            return status
    return 0 if report.verdict == "verified" else 1


def _draw_failing_run(report: ExplorationReport, path: str) -> int:
    """Write the shrunk failing run as a trace and draw it; 2 if it cannot be drawn."""
    from sessionspec.model.world import World
    from sessionspec.pictures.timeline import draw_records
    from sessionspec.traces.records import header, record_to_dict, trace_of

    assert report.failing_config is not None
    start = World.empty(report.failing_config)
    try:
        records = [header(start), *(record_to_dict(r) for r in trace_of(start, report.failing_inputs))]
    except Exception as crash:  # the failing run may crash the model: draw what it reached
        print(f"sessionspec check: the failing run cannot be replayed to draw it: {crash}", file=sys.stderr)
        return 2
    try:
        draw_records(records, path, "failing run")
    except (OSError, ValueError) as problem:
        print(f"sessionspec check: cannot draw {path}: {problem}", file=sys.stderr)
        return 2
    print(f"Timeline   {path}")
    return 0


def format_report(report: ExplorationReport, seed: int) -> str:
    """The human-readable report of an exploration."""
    lines = [
        "",
        "Method     randomized exploration of interleavings (Hypothesis stateful testing);",
        "           every rule is checked on every transition, eventual properties at the end",
        f"Explored   {report.examples} examples, {report.steps} steps, {report.transitions} transitions "
        f"in {report.seconds:.1f}s ({report.steps_per_second:.0f} steps/s)",
        f"Configs    {', '.join(f'#{k}: {v} examples' for k, v in sorted(report.configs.items()))}",
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


def _bench(args: argparse.Namespace) -> int:
    if args.explorer:
        from sessionspec.bench.explorer import explorer_benchmark, format_explorer_result

        speed = explorer_benchmark(args.workers or os.cpu_count() or 1)
        print(json.dumps(speed, indent=2) if args.json else format_explorer_result(speed))
        return 0
    if args.trace is not None:
        timing = bench.trace_benchmark(args.trace, args.seed)
        print(json.dumps(timing, indent=2) if args.json else bench.format_trace_result(timing))
        return 0
    result: dict[str, Any] = bench.run(args.examples, args.steps, args.workers, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(bench.format_result(result))
    return 0 if result["verdict"] == "verified" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
