"""The ``sessionspec`` command line.

Commands: ``rules`` (the rule catalogue), ``check`` (exhaustively model-check a
bounded preset and print the report: the main job), ``explore`` (randomized
exploration with Hypothesis), ``bench`` (throughput of the checkers),
``check-trace`` (judge a trace file), ``serve`` (the model as an implementation
speaking the protocol), ``conform`` (run the
conformance suite against an implementation), ``scenarios`` (list its scenario
library), ``diagrams`` (regenerate the state diagrams), ``timeline`` (draw a
trace). ``sessionspec --version`` prints the version. Every command takes
``--json``: the report, or on any error a JSON object with ``error`` and ``status``,
on standard output. Exit status: 0 success; 1 a rule was violated (or a trace or an
implementation does not conform); 2 bad usage, an unreadable input or an output that
cannot be written; 3 (conform only) the implementation broke the protocol; 4 (check
only) the search stopped at ``--max-states`` before it was complete.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from sessionspec.bench import throughput as bench
from sessionspec.cli import check as check_command
from sessionspec.cli import explore as explore_command
from sessionspec.cli.arguments import Parser, integer, whole_number
from sessionspec.invariants import RULES


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sessionspec",
        description="The executable, model-checked specification of Qiskit Runtime sessions.",
    )
    # the installed distribution's version: the command line imports no package above it
    version = f"sessionspec {metadata.version('sessionspec')}"
    parser.add_argument("--version", action="version", version=version)
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    rules = commands.add_parser("rules", help="list the rule catalogue: ID, kind, statement, source")
    rules.add_argument("--json", action="store_true", help="machine-readable output")
    rules.add_argument("--markdown", action="store_true", help="a Markdown table (as in the README)")

    check_command.add_parser(commands)
    explore_command.add_parser(commands)

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
        return check_command.run(args)
    if args.command == "explore":
        return explore_command.run(args)
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
