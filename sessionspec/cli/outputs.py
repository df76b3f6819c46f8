"""What the commands write besides their reports: directories, timelines, and how they end.

Every problem with an output path is a message and exit status 2, never a traceback; with
``--json`` the report (or error object) on standard output says it too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionspec.cli.arguments import fail

TraceSource = str | bytes | Iterable[Mapping[str, Any]]


def counted(number: int, noun: str) -> str:
    """``1 example``, ``1,200 examples``: a number with thousands separators and its noun.

    >>> counted(1, "run"), counted(1200, "run")
    ('1 run', '1,200 runs')
    """
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def reason(problem: OSError) -> str:
    """What the system said, without Python's error number and repr."""
    return problem.strerror or str(problem)


def make_directory(path: str) -> str | None:
    """Create ``path`` and its parents if need be; why that cannot be done, or None."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        return f"cannot make the directory {path}: {reason(problem)}; give a directory you can write to"
    return None


@dataclass(frozen=True)
class Timeline:
    """What became of ``--timeline FILE``: drawn, nothing to draw (and why), or a problem."""

    file: str
    drawn: bool = False
    note: str = ""
    problem: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "drawn": self.drawn, "note": self.note or None}

    def line(self) -> str:
        return f"Timeline   {self.file}" if self.drawn else f"Timeline   nothing drawn: {self.note}"


def draw_timeline(path: str, trace: TraceSource | None, name: str, *, nothing: str) -> Timeline:
    """Draw ``trace`` (a trace file's path, its bytes, or its records) into ``path``.

    With no trace, nothing is drawn and ``nothing`` says why.
    """
    if trace is None:
        return Timeline(path, note=nothing)
    from sessionspec.pictures.timeline import draw_records, draw_trace

    try:
        if isinstance(trace, str | bytes):
            draw_trace(trace, path, name)
        else:
            draw_records(trace, path, name)
    except OSError as problem:
        note = f"cannot draw {path}: {reason(problem)}; give a file in a directory you can write to"
        return Timeline(path, note=note, problem=True)
    except ValueError as problem:  # the trace to draw cannot be read
        return Timeline(path, note=f"cannot draw {path}: {problem}", problem=True)
    return Timeline(path, drawn=True)


def finish(
    command: str,
    status: int,
    *,
    report: dict[str, Any],
    text: str,
    timeline: Timeline | None,
    as_json: bool,
) -> int:
    """Print the report (as JSON, or ``text``) with what became of the timeline; the exit status."""
    if timeline is not None and timeline.problem:
        status = 2
    if as_json:
        out = dict(report)
        if timeline is not None:
            out["timeline"] = timeline.as_dict()
            if timeline.problem:
                out.update(status=2, error=timeline.note)
        print(json.dumps(out, indent=2))
        if timeline is not None and timeline.problem:
            print(f"{command}: {timeline.note}", file=sys.stderr)
        return status
    print(text)
    if timeline is not None:
        if timeline.problem:
            return fail(command, timeline.note, as_json=False)
        print(timeline.line())
    return status
