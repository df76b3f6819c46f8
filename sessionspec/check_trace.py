"""``sessionspec check-trace FILE``: judge a trace file against the model.

Exit status (protocol v1, section 3): 0 the trace conforms; 1 it does not (the first
offending line, the rule it breaks, what the model expected and what the trace says);
2 the file cannot be read as a trace, or bad usage.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

from invariants import RULES
from sessionspec.fast_oracle import FastOracle
from sessionspec.oracle import Divergence, TraceDiverged
from sessionspec.tracefile import TraceError, TraceReader


@dataclass(frozen=True)
class Verdict:
    """The outcome of judging one trace."""

    name: str
    lines: int
    divergence: Divergence | None = None
    error: TraceError | None = None

    @property
    def status(self) -> int:
        if self.error is not None:
            return 2
        return 0 if self.divergence is None else 1

    def as_dict(self) -> dict[str, Any]:
        verdict = ("conforms", "does not conform", "unreadable")[self.status]
        out: dict[str, Any] = {"trace": self.name, "verdict": verdict, "lines": self.lines}
        if self.divergence is not None:
            out["divergence"] = self.divergence.as_dict()
        if self.error is not None:
            out["error"] = {"line": self.error.line, "reason": self.error.reason}
        return out


def judge_stream(stream: BinaryIO, name: str) -> Verdict:
    """Read and judge a whole trace, streaming; never raises on bad input."""
    reader = TraceReader(stream, name)
    oracle: FastOracle | None = None
    try:
        oracle = FastOracle(reader.read_header().config)
        take = oracle.take
        for item in reader:
            take(item)
        divergence = oracle.finish(oracle.lines or None)
    except TraceError as error:
        return Verdict(name, error.line, error=error)
    except TraceDiverged as diverged:
        assert oracle is not None, "only the oracle raises TraceDiverged"
        return Verdict(name, oracle.lines, diverged.divergence)
    finally:
        if oracle is not None:
            oracle.close()
    return Verdict(name, oracle.lines, divergence)


def format_verdict(verdict: Verdict) -> str:
    if verdict.error is not None:
        return f"{verdict.name}:{verdict.error.line}: cannot be read as a trace: {verdict.error.reason}"
    if verdict.divergence is None:
        return f"{verdict.name}: conforms ({verdict.lines} lines)"
    d = verdict.divergence
    rule = RULES.get(d.rule)
    lines = [
        f"{verdict.name}:{d.line}: does not conform at t={d.t}: {d.message}",
        f"  rule      {d.rule}" + (f": {rule.statement}" if rule else ""),
        f"  expected  {d.expected[0]}",
        *(f"            {text}" for text in d.expected[1:]),
        f"  trace     {d.actual[0]}",
        *(f"            {text}" for text in d.actual[1:]),
    ]
    if d.context:
        lines.append("  context")
        lines += [f"  {'>' if n == d.line else ' '}{n:6d}  {text}" for n, text in d.context]
    return "\n".join(lines)


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
        from sessionspec.timeline import draw_trace

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


_ = TraceDiverged  # re-exported for callers that judge records themselves
