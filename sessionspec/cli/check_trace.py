"""``sessionspec check-trace FILE``: judge a trace file against the model.

Exit status (protocol v1, section 3): 0 the trace conforms; 1 it does not; 2 the file cannot be
read as a trace, or bad usage.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import BinaryIO

from sessionspec.oracle.judge import format_verdict, judge_stream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sessionspec check-trace", description="Judge a trace file against the model."
    )
    parser.add_argument("file", help="the trace file (JSON Lines), or - for standard input")
    parser.add_argument("--json", action="store_true", help="machine-readable verdict")
    parser.add_argument(
        "--timeline", metavar="FILE", help="also draw the trace (.svg or .png), violation marked"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    name = "<stdin>" if args.file == "-" else args.file
    try:
        if args.file == "-" and args.timeline:
            data = sys.stdin.buffer.read()  # read once: judged here, drawn below
            stream: BinaryIO = io.BytesIO(data)
        else:
            stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as problem:
        print(f"sessionspec check-trace: cannot open {args.file}: {problem.strerror}", file=sys.stderr)
        return 2
    with stream:
        verdict = judge_stream(stream, name)
    if args.timeline and verdict.status != 2:
        from sessionspec.pictures.timeline import draw_trace

        try:
            draw_trace(data if args.file == "-" else args.file, args.timeline, name)
        except (OSError, ValueError) as problem:
            print(f"sessionspec check-trace: cannot draw {args.timeline}: {problem}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(verdict.as_dict(), indent=2))
    else:
        print(format_verdict(verdict), file=sys.stdout if verdict.status != 2 else sys.stderr)
    return verdict.status
