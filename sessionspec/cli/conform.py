"""``sessionspec conform [options] -- COMMAND [ARG...]``: the conformance suite as a command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sessionspec.cli.arguments import (
    Parser,
    fail,
    integer,
    output_directory,
    picture_file,
    seconds,
    whole_number,
)
from sessionspec.cli.outputs import draw_timeline, finish, make_directory, reason
from sessionspec.conformance.scenarios import SCENARIOS, Scenario
from sessionspec.conformance.suite import (
    DEFAULT_EXAMPLES,
    DEFAULT_STEPS,
    DEFAULT_TIMEOUT,
    Subprocess,
    run_suite,
)

COMMAND = "sessionspec conform"
USAGE = f"{COMMAND} [options] -- COMMAND [ARG...]"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=COMMAND,
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
        type=whole_number(1),
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
        "--out",
        metavar="DIR",
        type=output_directory,
        help="where to save failing traces, created if need be (default: a new temporary directory)",
    )
    parser.add_argument(
        "--timeline", metavar="FILE", type=picture_file, help="draw the failing trace, its violation marked"
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
        return fail(COMMAND, "give the implementation's command after --", as_json=args.json)
    chosen: list[Scenario] | None = None
    if args.scenario:
        unknown = [name for name in args.scenario if name not in SCENARIOS]
        if unknown:
            message = f"no scenario named {', '.join(unknown)} (run 'sessionspec scenarios' for the list)"
            return fail(COMMAND, message, as_json=args.json)
        chosen = [SCENARIOS[name] for name in args.scenario]
    cannot = make_directory(args.out) if args.out is not None else None
    if cannot:  # found before the run, not after it has found a failing trace to save
        return fail(COMMAND, f"--out: {cannot}", as_json=args.json)
    try:
        transport = Subprocess(command, args.timeout)
    except OSError as problem:
        return fail(COMMAND, f"cannot start {command[0]}: {reason(problem)}", as_json=args.json)
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
    except OSError as problem:  # a failing trace could not be saved
        return fail(COMMAND, f"cannot save the failing trace: {reason(problem)}", as_json=args.json)
    finally:
        transport.close()
    timeline = None
    if args.timeline:
        failure = report.failure
        trace = failure.trace_file if failure is not None and report.fault is None else None
        nothing = "the implementation conforms" if report.status == 0 else "no failing trace was judged"
        timeline = draw_timeline(args.timeline, trace, "failing trace", nothing=nothing)
    return finish(
        COMMAND,
        report.status,
        report=report.as_dict(),
        text=report.format(),
        timeline=timeline,
        as_json=args.json,
    )
