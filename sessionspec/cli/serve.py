"""``sessionspec serve``: the model on standard input and output, speaking protocol v1 section 2."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from sessionspec.cli.arguments import Parser
from sessionspec.conformance.serve import serve


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sessionspec serve",
        description=(
            "Run the model as an implementation speaking protocol v1 section 2: one JSON request "
            "per line on standard input, one JSON reply per line on standard output, until "
            '{"op": "shutdown"} or end of input. Logs go to standard error.'
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="accepted for uniformity: replies are JSON anyway"
    )
    return parser


def _text_stream(stream: TextIO) -> TextIO:
    """UTF-8, lines split on ``\\n`` only, undecodable bytes kept (as surrogates) to be refused."""
    if isinstance(stream, io.TextIOWrapper):
        with contextlib.suppress(ValueError, io.UnsupportedOperation):  # already read from: keep as is
            stream.reconfigure(encoding="utf-8", errors="surrogateescape", newline="\n")
    return stream


def main(argv: Sequence[str] | None = None) -> int:
    """``sessionspec serve [--json]``: serve on standard input/output; 0 when done, 2 on bad usage."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2)
        return exc.code if isinstance(exc.code, int) else 2
    if sys.stdin is None or sys.stdout is None:
        print(
            "sessionspec serve: standard input and output must be open (requests in, replies out)",
            file=sys.stderr,
        )
        return 2
    try:
        return serve(_text_stream(sys.stdin), sys.stdout)
    except BrokenPipeError:  # the client went away: nothing left to answer, and nothing to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
