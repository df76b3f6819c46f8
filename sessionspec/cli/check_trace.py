"""``sessionspec check-trace FILE``: judge a trace file against the model.

Exit status (protocol v1, section 3): 0 the trace conforms; 1 it does not; 2 the file cannot be
read as a trace, bad usage, or a timeline that cannot be drawn.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import BinaryIO

from sessionspec.cli.arguments import Parser, fail, picture_file
from sessionspec.cli.outputs import draw_timeline, finish, reason
from sessionspec.oracle.judge import format_verdict, judge_stream

COMMAND = "sessionspec check-trace"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=COMMAND, description="Judge a trace file against the model.")
    parser.add_argument("file", help="the trace file (JSON Lines), or - for standard input")
    parser.add_argument("--json", action="store_true", help="machine-readable verdict")
    parser.add_argument(
        "--timeline", metavar="FILE", type=picture_file, help="also draw the trace (.svg or .png)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    name = "<stdin>" if args.file == "-" else args.file
    if args.file == "-" and sys.stdin is None:
        return fail(COMMAND, "standard input is closed: give the trace on it, or a file", as_json=args.json)
    data = b""
    try:
        if args.file == "-" and args.timeline:
            data = sys.stdin.buffer.read()  # read once: judged here, drawn below
            stream: BinaryIO = io.BytesIO(data)
        else:
            stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as problem:
        return fail(COMMAND, f"cannot open {args.file}: {reason(problem)}", as_json=args.json)
    with stream:
        verdict = judge_stream(stream, name)
    timeline = None
    if args.timeline:
        trace = None if verdict.status == 2 else data if args.file == "-" else args.file
        timeline = draw_timeline(args.timeline, trace, name, nothing="the trace cannot be read")
    if not args.json and verdict.status == 2:  # why the file cannot be read goes to standard error
        print(format_verdict(verdict), file=sys.stderr)
        if timeline is not None:
            print(f"{COMMAND}: no timeline drawn: the trace cannot be read", file=sys.stderr)
        return 2
    text = format_verdict(verdict)
    return finish(
        COMMAND, verdict.status, report=verdict.as_dict(), text=text, timeline=timeline, as_json=args.json
    )
