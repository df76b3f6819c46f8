"""The fast trace oracle: the reference oracle's verdicts, in time and memory that stay flat.

:class:`FastOracle` reads a trace exactly as :class:`~sessionspec.oracle.reference.Oracle` does
(the same groups, the same order of steps: an input's group, quiet deadlines, a
group of what time made happen) but replays the inputs through one long-running
:class:`~sessionspec.model.core.Core`, which forgets records that can change nothing any
more. A step is confirmed by comparing the keys of the observations, never their reason
texts, as multisets. At the first step it cannot confirm, it hands over to the
reference oracle (:func:`sessionspec.oracle.handover.hand_over`), which redoes that step on
the rebuilt reference world and writes the report: the verdict and the report are the
reference's, which tests check on generated and damaged traces.

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.inputs import Advance, CreateSession
>>> from sessionspec.model.observations import SessionChanged
>>> oracle = FastOracle(Config(pending_timeout=30))
>>> oracle.feed(1, CreateSession(0, "s1", "qpu1"))
>>> oracle.feed(2, SessionChanged(0, "s1", "pending", True))
>>> try:  # the pending timeout closed s1 at t=30, and the trace does not say so
...     oracle.feed(3, Advance(40))
... except TraceDiverged as diverged:
...     print(diverged.divergence.line, diverged.divergence.rule)
3 SES-PENDING-TIMEOUT
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any, NoReturn

from sessionspec.model.config import Config, Number
from sessionspec.model.core import Core
from sessionspec.model.inputs import Input
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.policy import Candidate, Choice
from sessionspec.oracle.handover import hand_over
from sessionspec.oracle.reference import Divergence, Oracle, TraceDiverged, _Group
from sessionspec.oracle.retired import RetiredStore
from sessionspec.traces.records import Record

Observed = list[tuple[int, Observation]]


class FastOracle:
    """Judges a trace record by record; memory follows the live records, not the trace."""

    def __init__(self, config: Config, context_lines: int = 4) -> None:
        self.config = config
        self.store = RetiredStore()
        self.core = Core(config, retire=self.store.add)
        self.core.records_edges = False  # coverage is the explorer's business
        # The open group (observations at one instant), kept as fields, not as an object:
        # its observations (None: no group is open), instant, first line, and cause.
        self.observed: Observed | None = None
        self.group_t: Number = 0
        self.group_line = 0
        self.group_cause: tuple[int, Input] | None = None
        # The last input, while the group of its effects has not been judged yet.
        self.pending_input: tuple[int, Input] | None = None
        self.end: Number = 0
        self.context_lines = context_lines
        self.recent: deque[tuple[int, Record]] = deque(maxlen=context_lines)
        self.lines = 0

    def feed(self, line: int, record: Record) -> None:
        """Take the next record of the trace; raise :class:`TraceDiverged` at a divergence."""
        self.take((line, record))

    def take(self, item: tuple[int, Record]) -> None:
        """:meth:`feed` for a ``(line, record)`` pair as a reader yields it (kept, not copied)."""
        line, record = item
        self.lines = line
        t = record.t
        if t > self.end:
            self.end = t
        if type(record) in _OBSERVATIONS:
            observed = self.observed
            if observed is not None and t == self.group_t:
                observed.append(item)  # type: ignore[arg-type]
            else:
                self._open_group(item, t)
        else:  # an input: judge what came before it, and the deadlines up to it
            if self.observed is not None:
                self._close_group()
            pending = self.pending_input
            if pending is not None:  # followed by no observation: it must have changed nothing
                self.pending_input = None
                self._apply_input(pending[1], [], pending[0])
            due = self.core.next_deadline()
            if due is not None and due <= t:
                self._quiet_ticks(t, inclusive=True, line=line)
            self.pending_input = item  # type: ignore[assignment]
        self.recent.append(item)

    def finish(self, last_line: int | None = None) -> Divergence | None:
        """The trace ended at its last line's instant: judge what is still open."""
        try:
            self._close_group()
            self._settle_input()
            self._quiet_ticks(self.end, inclusive=True, line=last_line or self.lines)
        except TraceDiverged as diverged:
            return diverged.divergence
        finally:
            self.close()
        return None

    def close(self) -> None:
        """Delete the store of retired records (judging is over)."""
        self.store.close()

    # --- grouping, as Oracle does it ------------------------------------------------------

    def _open_group(self, item: tuple[int, Record], t: Number) -> None:
        """An observation at ``t`` starts a group: of the pending input's effects, or of time's."""
        if self.observed is not None:
            self._close_group()
        cause = self.pending_input
        if cause is not None:
            self.pending_input = None
            if cause[1].t != t:  # the input was followed by no observation: it changed nothing
                self._apply_input(cause[1], [], cause[0])
                cause = None
        self.group_t, self.group_line, self.group_cause = t, item[0], cause
        self.observed = [item]  # type: ignore[list-item]

    def _settle_input(self) -> None:
        """The pending input is followed by no observation: it must have changed nothing."""
        if self.pending_input is not None:
            line, inp = self.pending_input
            self.pending_input = None
            self._apply_input(inp, [], line)

    def _close_group(self) -> None:
        observed = self.observed
        if observed is None:
            return
        self.observed = None
        t, line, cause = self.group_t, self.group_line, self.group_cause
        if cause is not None:
            self._apply_input(cause[1], observed, line)
            return
        self._quiet_ticks(t, inclusive=False, line=line)
        step = ("group", t, line, observed)
        if self.core.next_deadline() != t:
            self._hand_over(step, observed)  # nothing is due then
        actual, reported = _keys(observed)
        try:
            expected = _keys_of(self.core.tick(t, reported))
        except UnreportedStart:
            self._hand_over(step, observed)
        self._confirm(expected, actual, step, observed)

    # --- steps, each confirmed or handed over -----------------------------------------------

    def _apply_input(self, inp: Input, observed: Observed, line: int) -> None:
        actual, reported = _keys(observed) if observed else _NOTHING_OBSERVED
        try:
            expected = _keys_of(self.core.apply(inp, reported))
        except UnreportedStart:
            self._hand_over(("input", inp, observed, line), observed, inp)
        if expected != actual and not _same(expected, actual):
            self._hand_over(("input", inp, observed, line), observed, inp)
        self.core.commit()

    def _quiet_ticks(self, until: Number, *, inclusive: bool, line: int) -> None:
        """Deadlines the trace reports nothing for must change nothing observable."""
        core = self.core
        while (due := core.next_deadline()) is not None and (due < until or (inclusive and due == until)):
            try:
                expected = _keys_of(core.tick(due, _NO_START))
            except UnreportedStart:
                self._hand_over(("quiet", until, inclusive, line), [])
            if expected:
                self._hand_over(("quiet", until, inclusive, line), [])
            core.commit()

    def _confirm(
        self,
        expected: list[Key],
        actual: list[Key],
        step: Step,
        observed: Observed,
        cause: Input | None = None,
    ) -> None:
        """Keep the step if the trace reports exactly its changes (as multisets); else hand over."""
        if expected != actual and not _same(expected, actual):
            self._hand_over(step, observed, cause)
        self.core.commit()

    def _hand_over(self, step: Step, observed: Observed, cause: Input | None = None) -> NoReturn:
        hand_over(
            self.core,
            self.store,
            lambda oracle: _redo(oracle, step),
            observed=observed,
            cause=cause,
            recent=self.recent,
            context_lines=self.context_lines,
        )


Key = tuple[Any, ...]
Step = tuple[Any, ...]
"""What the reference oracle must redo: ``("input", inp, observed, line)``,
``("quiet", until, inclusive, line)`` or ``("group", t, first line, observed)``."""

_OBSERVATIONS = frozenset({JobChanged, SessionChanged, Rejected})
_NONE_STARTED: frozenset[str] = frozenset()


class UnreportedStart(Exception):
    """The rules leave a choice, and the trace reports none of the candidates started."""


class _Reported:
    """The scheduler's free choices, as the trace reports them: of the candidates, the oldest
    the group reports started. When it reports none, only the reference oracle can say which
    job the model starts (and that the trace does not conform)."""

    __slots__ = ("started",)

    def __init__(self, started: Collection[str]) -> None:
        self.started = started

    def choose(self, choice: Choice) -> Candidate:
        pick: Any = None
        for job_id in self.started:
            job: Any = choice.offer(job_id)
            if job is not None and (pick is None or job.seq < pick.seq):
                pick = job  # the oldest (a core's candidates carry their creation number)
        if pick is None:
            raise UnreportedStart
        return pick  # type: ignore[no-any-return]


_NO_START = _Reported(_NONE_STARTED)
_NOTHING_OBSERVED: tuple[list[Key], _Reported] = ([], _NO_START)


def _keys_of(observations: list[Observation]) -> list[Key]:
    """The compared part of the observations the core made (never the reason; the instant is
    the step's)."""
    keys: list[Key] = []
    for obs in observations:
        kind = type(obs)
        if kind is JobChanged:
            keys.append((obs[1], obs[2]))
        elif kind is SessionChanged:
            keys.append((obs[1], obs[2], obs[3]))
        else:
            keys.append((obs[1],))
    return keys


def _redo(oracle: Oracle, step: Step) -> None:
    """The reference oracle's own code for the step the fast oracle could not confirm."""
    kind = step[0]
    if kind == "input":
        oracle._apply_input(step[1], step[2], step[3])
    elif kind == "quiet":
        oracle._quiet_ticks(step[1], inclusive=step[2], line=step[3])
    else:
        oracle.group = _Group(step[1], step[2], None, list(step[3]))
        oracle._close_group()


def _same(expected: list[Key], actual: list[Key]) -> bool:
    """Equal as multisets (lists already found unequal in order)."""
    return len(expected) == len(actual) > 1 and sorted(expected) == sorted(actual)


def _keys(observed: Observed) -> tuple[list[Key], _Reported]:
    """The keys of a group's observations (as :func:`_keys_of` gives the core's), and the
    scheduler's choices as the group reports them (the jobs it started)."""
    keys = _keys_of([obs for _, obs in observed])
    started = {key[0] for key in keys if len(key) == 2 and key[1] == "running"}
    return keys, (_Reported(started) if started else _NO_START)
