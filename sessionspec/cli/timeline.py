"""``sessionspec timeline TRACE -o FILE``: draw a trace as a timeline (SVG or PNG)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sessionspec.cli.arguments import Parser, fail, output_file, picture_file
from sessionspec.cli.outputs import reason
from sessionspec.pictures.timeline import (
    EXAMPLE_NAME,
    as_jsonl,
    draw,
    example_iterative_session,
    read_timeline,
)
from sessionspec.traces.reader import TraceError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sessionspec timeline",
        description=(
            "Draw a trace as a timeline: a lane per backend, jobs as bars coloured by session, "
            "session states as bands with their ITTL and max-TTL deadlines, refusals, and the "
            "first violation the oracle finds."
        ),
    )
    parser.add_argument("trace", nargs="?", help="the trace file (JSON Lines), or - for standard input")
    parser.add_argument(
        "-o", "--output", required=True, type=picture_file, help="the picture to write: FILE.svg or FILE.png"
    )
    parser.add_argument(
        "--example", action="store_true", help="draw the README's example (an iterative session) instead"
    )
    parser.add_argument(
        "--save-trace", metavar="FILE", type=output_file, help="with --example: also write its trace here"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the picture is drawn (conforming or not), 2 on bad usage or an unreadable trace."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as stop:
        return int(stop.code or 0)
    prog = parser.prog
    if args.example == (args.trace is not None):
        parser.print_usage(sys.stderr)
        return fail(prog, "give a trace file or --example (one of them)", as_json=args.json)
    if args.save_trace is not None and not args.example:
        return fail(prog, "--save-trace goes with --example", as_json=args.json)
    output = Path(args.output)
    if args.example:
        data = as_jsonl(example_iterative_session())
        if args.save_trace is not None:
            try:
                Path(args.save_trace).write_bytes(data)
            except OSError as problem:
                return fail(prog, f"cannot write {args.save_trace}: {reason(problem)}", as_json=args.json)
        stream: BinaryIO = io.BytesIO(data)
        name = EXAMPLE_NAME
    else:
        name = "<stdin>" if args.trace == "-" else args.trace
        if args.trace == "-" and sys.stdin is None:
            return fail(prog, "standard input is closed: give the trace on it, or a file", as_json=args.json)
        try:
            stream = sys.stdin.buffer if args.trace == "-" else open(args.trace, "rb")  # noqa: SIM115
        except OSError as problem:
            return fail(prog, f"cannot open {args.trace}: {reason(problem)}", as_json=args.json)
    try:
        with stream:
            timeline, verdict = read_timeline(stream, name)
    except TraceError as error:
        if args.json:
            unreadable = {"line": error.line, "reason": error.reason}
            print(json.dumps({"trace": name, "verdict": "unreadable", "error": unreadable}, indent=2))
        print(f"{name}:{error.line}: cannot be read as a trace: {error.reason}", file=sys.stderr)
        return 2
    try:
        draw(timeline, output, verdict.divergence)
    except OSError as problem:
        return fail(prog, f"cannot write {args.output}: {reason(problem)}", as_json=args.json)
    if args.json:
        report: dict[str, Any] = {**verdict.as_dict(), "output": str(output), **timeline.counts()}
        print(json.dumps(report, indent=2))
    else:
        print(output)
    return 0
