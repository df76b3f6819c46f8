"""``sessionspec conform [options] -- COMMAND [ARG...]``: the conformance suite as a command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sessionspec.cli.arguments import Parser, integer, seconds, whole_number
from sessionspec.conformance.scenarios import SCENARIOS, Scenario
from sessionspec.conformance.suite import (
    DEFAULT_EXAMPLES,
    DEFAULT_STEPS,
    DEFAULT_TIMEOUT,
    Subprocess,
    run_suite,
)

USAGE = "sessionspec conform [options] -- COMMAND [ARG...]"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sessionspec conform",
        usage=USAGE,
        description=(
            "Run the conformance suite against an implementation speaking protocol v1 section 2: "
            "the scenario library (see `sessionspec scenarios`), then Hypothesis-generated input "
            "sequences, every run judged by the trace oracle. Exit status: 0 conforms; 1 does not "
            "(the rule, the shortest failing trace, the path of that trace saved as a file); 2 bad "
            "usage; 3 the implementation broke the protocol."
        ),
    )
    parser.add_argument("--seed", type=integer, default=0, help="seed of the generated phase, for replay (0)")
    parser.add_argument(
        "--examples",
        type=whole_number(0),
        default=DEFAULT_EXAMPLES,
        help=f"generated input sequences to try ({DEFAULT_EXAMPLES}; 0 runs the scenarios only)",
    )
    parser.add_argument(
        "--steps",
        type=whole_number(0),
        default=DEFAULT_STEPS,
        help=f"at most this many inputs each ({DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for each reply ({DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="run only this scenario of the library (repeatable)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="where to save failing traces (default: a new temporary directory)"
    )
    parser.add_argument(
        "--timeline", metavar="FILE", help="draw the failing trace (.svg or .png), its violation marked"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable report on standard output")
    parser.add_argument("command", nargs="*", help="the implementation's command, after --")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``sessionspec conform [options] -- COMMAND [ARG...]``; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if "--" in arguments:
        cut = arguments.index("--")
        options, command = arguments[:cut], arguments[cut + 1 :]
    else:
        options, command = arguments, []
    try:
        args = parser.parse_args(options)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    command = [*args.command, *command]
    if not command:
        parser.print_usage(sys.stderr)
        print("sessionspec conform: give the implementation's command after --", file=sys.stderr)
        return 2
    chosen: list[Scenario] | None = None
    if args.scenario:
        unknown = [name for name in args.scenario if name not in SCENARIOS]
        if unknown:
            print(
                f"sessionspec conform: no scenario named {', '.join(unknown)} "
                "(run 'sessionspec scenarios' for the list)",
                file=sys.stderr,
            )
            return 2
        chosen = [SCENARIOS[name] for name in args.scenario]
    try:
        transport = Subprocess(command, args.timeout)
    except OSError as problem:
        print(
            f"sessionspec conform: cannot start {command[0]}: {problem.strerror or problem}", file=sys.stderr
        )
        return 2
    try:
        report = run_suite(
            transport,
            target=" ".join(command),
            examples=args.examples,
            seed=args.seed,
            steps=args.steps,
            scenarios=chosen,
            out=args.out,
        )
    finally:
        transport.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.format())
    failure = report.failure
    if args.timeline and failure is not None and failure.trace_file is not None:
        from sessionspec.pictures.timeline import draw_trace

        try:
            draw_trace(failure.trace_file, args.timeline)
        except (OSError, ValueError) as problem:
            print(f"sessionspec conform: cannot draw {args.timeline}: {problem}", file=sys.stderr)
            return 2
    return report.status
