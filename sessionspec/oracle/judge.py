"""``sessionspec check-trace FILE``: judge a trace file against the model.

Exit status (protocol v1, section 3): 0 the trace conforms; 1 it does not (the first
offending line, the rule it breaks, what the model expected and what the trace says);
2 the file cannot be read as a trace, or bad usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from sessionspec.invariants import RULES
from sessionspec.oracle.fast import FastOracle
from sessionspec.oracle.reference import Divergence, TraceDiverged
from sessionspec.traces.reader import TraceError, TraceReader


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
        return f"{verdict.name}: conforms ({verdict.lines} line{'' if verdict.lines == 1 else 's'})"
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
