"""Long conforming traces made on the fly, for measuring check-trace on millions of lines.

Writing a long trace with the model itself takes time that grows with the square of
its length (the model's world keeps every record). A :class:`LongTrace` writes one
*block* with the model instead: a random workload of the exploration's actions on
a configuration without reservations, wound down at its end (every live session
canceled, every unfinished job canceled, time run out of deadlines). Then it repeats
the block, each copy shifted in time past the one before and with its job and session
numbers shifted past the ones before (``j7`` becomes ``j1207``), so every copy starts
from a world in which everything has ended: the whole trace conforms, however long.

Run as a program it writes a trace of about N lines to standard output::

    python -m sessionspec.bench.longtrace 10000000 | sessionspec check-trace -

>>> trace = LongTrace(seed=0, block_inputs=30)
>>> text = trace.text(200)
>>> lines = text.splitlines()
>>> lines[0].startswith('{"trace": "sessionspec"') and len(lines) >= 200
True
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterator
from typing import BinaryIO

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.model.config import Number
from sessionspec.model.inputs import CancelJob, CancelSession, Input
from sessionspec.model.step import next_deadline, step
from sessionspec.model.world import World
from sessionspec.traces.records import header, record_to_dict, trace_of

_MARK = re.compile(r'"@t(\d+)@"|@([js])(\d+)@')


class LongTrace:
    """One block of model output, repeatable without end with times and ids shifted."""

    def __init__(self, seed: int = 0, block_inputs: int = 800) -> None:
        config = CONFIGS[0]
        rng = random.Random(seed)
        world, ctx, inputs = World.empty(config), Context(), []
        for _ in range(block_inputs):
            inputs.append(rng.choice(TEMPLATES).resolve(world, ctx))
            world = step(world, inputs[-1], trusted=True).world
        world = _wind_down(world, inputs)
        self.header = json.dumps(header(World.empty(config)))
        self.period: Number = world.now + 1000  # the next copy starts well after this one ends
        self.job_ids = int(next(ctx.job_ids)[1:]) - 1
        self.session_ids = int(next(ctx.session_ids)[1:]) - 1
        lines = [_marked(record_to_dict(r)) for r in trace_of(World.empty(config), inputs)]
        self.block_lines = len(lines)
        self._format, self._values, self._kinds = _template("\n".join(lines) + "\n")

    def block(self, copy: int) -> str:
        """The text of the block's ``copy``-th repetition (0 is the block as the model wrote it)."""
        shift = {"t": copy * self.period, "j": copy * self.job_ids, "s": copy * self.session_ids}
        return self._format % tuple(
            value + shift[kind] for value, kind in zip(self._values, self._kinds, strict=True)
        )

    def blocks(self, lines: int) -> Iterator[str]:
        """The header, then as many blocks as it takes to reach at least ``lines`` lines."""
        yield self.header + "\n"
        copies = max(1, -(-(lines - 1) // self.block_lines))
        for copy in range(copies):
            yield self.block(copy)

    def text(self, lines: int) -> str:
        return "".join(self.blocks(lines))

    def write(self, out: BinaryIO, lines: int) -> int:
        """Write the trace to ``out``, one block at a time; return the number of lines written."""
        written = 0
        for chunk in self.blocks(lines):
            out.write(chunk.encode())
            written += chunk.count("\n")
        return written


def _wind_down(world: World, inputs: list[Input]) -> World:
    """End everything: cancel live sessions and unfinished jobs, then run out the deadlines."""
    ending: list[Input] = [CancelSession(world.now, s.id) for s in world.sessions if s.live]
    for inp in ending:
        world = step(world, inp, trusted=True).world
    canceling: list[Input] = [CancelJob(world.now, j.id) for j in world.jobs if j.unfinished]
    for inp in canceling:
        world = step(world, inp, trusted=True).world
    inputs += ending + canceling
    assert next_deadline(world) is None, "nothing is left to fall due once everything has ended"
    return world


def _marked(record: dict[str, object]) -> str:
    """A record's JSON line with its time and numbered ids replaced by markers."""
    marked = dict(record)
    assert isinstance(record["t"], int), "the exploration's actions keep time in whole seconds"
    marked["t"] = f"@t{record['t']}@"
    for field in ("job", "session"):
        value = record.get(field)
        if isinstance(value, str) and re.fullmatch(r"[js]\d+", value):
            marked[field] = f"@{value[0]}{value[1:]}@"
    return json.dumps(marked)


def _template(text: str) -> tuple[str, list[int], list[str]]:
    """A %-format string of ``text`` with a ``%d`` for each marker, and each marker's value and kind."""
    values: list[int] = []
    kinds: list[str] = []
    parts: list[str] = []
    position = 0
    for found in _MARK.finditer(text):
        parts.append(text[position : found.start()].replace("%", "%%"))
        if found.group(1) is not None:
            parts.append("%d")
            values.append(int(found.group(1)))
            kinds.append("t")
        else:
            parts.append(found.group(2) + "%d")
            values.append(int(found.group(3)))
            kinds.append(found.group(2))
        position = found.end()
    parts.append(text[position:].replace("%", "%%"))
    return "".join(parts), values, kinds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sessionspec.bench.longtrace",
        description="Write a conforming trace of about LINES lines to standard output, made on the fly.",
    )
    parser.add_argument(
        "lines",
        nargs="?",
        metavar="LINES",
        type=_count(1),
        default=1_000_000,
        help="lines to write, at least (1000000)",
    )
    parser.add_argument(
        "seed", nargs="?", metavar="SEED", type=_count(0), default=0, help="seed of the workload (0)"
    )
    return parser


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small: give {minimum} or more")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the trace is written (or its reader stopped early), 2 on bad usage."""
    args = build_parser().parse_args(argv)
    try:
        LongTrace(args.seed).write(sys.stdout.buffer, args.lines)
    except BrokenPipeError:  # the reader stopped early (it found a divergence): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
