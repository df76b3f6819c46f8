"""The trace oracle: replay a trace's inputs through the model and judge its observations.

A trace (protocol v1, section 1) interleaves inputs with observation *groups*: the
observations an input caused (right after it, at its instant), and the observations
that time made happen at one instant (before the next input). Within a group any
order is allowed, and reason texts are never compared.

The oracle keeps the model's world in step with the trace. Where the rules leave the
scheduler a choice (which waiting fair-share job starts), the trace resolves it: the
oracle lets the job that the group reports as started win, if the rules allow it.
At the first divergence it stops and says which line, which rule, what the model
allowed and what the trace says. Missing observations count: if the model changes
something the trace does not report, the trace does not conform.

>>> from sessionspec.model.config import Config
>>> from sessionspec.model.inputs import CreateSession
>>> from sessionspec.model.observations import SessionChanged
>>> oracle = Oracle(Config())
>>> oracle.feed(1, CreateSession(0, "s1", "qpu1"))
>>> oracle.feed(2, SessionChanged(0, "s1", "pending", True))
>>> oracle.finish(None) is None
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sessionspec.invariants import RULES, Kind, Violation
from sessionspec.invariants.checker import violations_of
from sessionspec.invariants.view import View, expected_max_ttl
from sessionspec.model.config import Config, Number
from sessionspec.model.inputs import Input, Submit, input_to_dict
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.policy import REFERENCE_POLICY, Candidate, Choice, Policy
from sessionspec.model.step import Transition, fire_instant, next_deadline, transitions
from sessionspec.model.world import JobRecord, SessionRecord, World

FALLBACK_RULE = "OBS-MATCH"


@dataclass(frozen=True)
class Divergence:
    """Where and how a trace leaves what the model allows."""

    line: int
    rule: str
    t: Number
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    message: str
    context: tuple[tuple[int, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "rule": self.rule,
            "statement": RULES[self.rule].statement if self.rule in RULES else "",
            "t": self.t,
            "expected": list(self.expected),
            "actual": list(self.actual),
            "message": self.message,
            "context": [{"line": n, "text": text} for n, text in self.context],
        }


class TraceDiverged(Exception):
    """Raised inside the oracle to stop at the first divergence."""

    def __init__(self, divergence: Divergence) -> None:
        self.divergence = divergence
        super().__init__(divergence.message)


def observation_key(obs: Observation) -> tuple[Any, ...]:
    """What of an observation is compared: never the reason text."""
    if isinstance(obs, JobChanged):
        return ("job", obs.t, obs.job, obs.state)
    if isinstance(obs, SessionChanged):
        return ("session", obs.t, obs.session, obs.state, obs.accepting)
    return ("rejected", obs.t, obs.op)


def describe(obs: Observation) -> str:
    if isinstance(obs, JobChanged):
        return f"t={obs.t} job {obs.job} -> {obs.state}"
    if isinstance(obs, SessionChanged):
        return f"t={obs.t} session {obs.session} -> {obs.state} (accepting={str(obs.accepting).lower()})"
    who = obs.job or obs.session or ""
    return f"t={obs.t} rejected {obs.op} {who}".rstrip()


class TracePolicy:
    """Resolves the scheduler's free choices from what the trace group reports.

    When the group reports none of the candidates as started, ``fallback`` picks
    (the trace then cannot conform, but the report says which job the model started).
    """

    def __init__(self, started: set[str], fallback: Policy = REFERENCE_POLICY) -> None:
        self.started = started
        self.fallback = fallback

    def choose(self, choice: Choice) -> Candidate:
        for job in choice.jobs:
            if job.id in self.started:
                return job
        return self.fallback.choose(choice)


@dataclass
class _Group:
    """Observations at one instant: an input's effects, or what time made happen."""

    t: Number
    first_line: int
    cause: tuple[int, Input] | None  # the input whose effects these are, if any
    observations: list[tuple[int, Observation]] = field(default_factory=list)


class Oracle:
    """Judges a trace record by record, keeping every record the trace ever created.

    ``policy`` picks where the trace does not say which job starts (always
    :data:`~sessionspec.model.policy.REFERENCE_POLICY`, except when :mod:`sessionspec.oracle.fast`
    hands a divergence over with a world that forgot its ended jobs).
    """

    def __init__(self, config: Config, context_lines: int = 4, policy: Policy = REFERENCE_POLICY) -> None:
        self.world = World.empty(config)
        self.policy = policy
        self.group: _Group | None = None
        # The last input, while the group of its effects has not been judged yet.
        self.pending_input: tuple[int, Input] | None = None
        self.end: Number = 0
        self.recent: list[tuple[int, str]] = []
        self.context_lines = context_lines
        self.lines = 0

    def feed(self, line: int, record: Input | Observation, text: str = "") -> None:
        """Take the next record of the trace; raise :class:`TraceDiverged` at a divergence."""
        self.lines = line
        self.end = max(self.end, record.t)
        if isinstance(record, JobChanged | SessionChanged | Rejected):
            self._observation(line, record)
        else:
            self._input(line, record)
        self.recent.append((line, text or _render(record)))
        if len(self.recent) > self.context_lines:
            del self.recent[0]

    def finish(self, last_line: int | None = None) -> Divergence | None:
        """The trace ended at its last line's instant: judge what is still open."""
        try:
            self._close_group()
            self._settle_input()
            self._quiet_ticks(self.end, inclusive=True, line=last_line or self.lines)
        except TraceDiverged as diverged:
            return diverged.divergence
        return None

    def _observation(self, line: int, obs: Observation) -> None:
        if self.group is not None and obs.t != self.group.t:
            self._close_group()
        if self.group is None:
            cause = self.pending_input
            if cause is not None and cause[1].t == obs.t:
                self.pending_input = None
                self.group = _Group(obs.t, line, cause)
            else:
                self._settle_input()
                self.group = _Group(obs.t, line, None)
        self.group.observations.append((line, obs))

    def _input(self, line: int, inp: Input) -> None:
        self._close_group()
        self._settle_input()
        self._quiet_ticks(inp.t, inclusive=True, line=line)
        self.pending_input = (line, inp)

    def _settle_input(self) -> None:
        """The pending input is followed by no observation: it must have changed nothing."""
        if self.pending_input is not None:
            line, inp = self.pending_input
            self.pending_input = None
            self._apply_input(inp, [], line)

    def _close_group(self) -> None:
        group, self.group = self.group, None
        if group is None:
            return
        if group.cause is not None:
            self._apply_input(group.cause[1], group.observations, group.first_line)
            return
        self._quiet_ticks(group.t, inclusive=False, line=group.first_line)
        # When nothing is due, the instant still passes (it changes nothing), so that the rules
        # can judge the trace's claim as a change time made: a deadline reported too early.
        due_now = next_deadline(self.world) == group.t
        transition = fire_instant(self.world, group.t, TracePolicy(_started(group.observations), self.policy))
        note = "" if due_now else self._nothing_due(group)
        self._match(transition, group.observations, group.first_line, note)

    def _nothing_due(self, group: _Group) -> str:
        """What a group reported at an instant with no deadline is, and when the model has it."""
        expected = []
        for _, obs in group.observations:
            when = when_time_brings(self.world, obs, self.policy)
            if when is not None:
                expected.append(describe(obs._replace(t=when)))
        note = f"nothing is due at t={group.t}"
        return f"{note}; the model expects {', '.join(expected)}" if expected else note

    def _apply_input(self, inp: Input, observed: list[tuple[int, Observation]], line: int) -> None:
        produced = list(
            transitions(self.world, inp, TracePolicy(_started(observed), self.policy), trusted=True)
        )
        if len(produced) != 1:  # pragma: no cover - deadlines were fired before the input
            raise AssertionError("the oracle fires deadlines before it applies an input")
        self._match(produced[0], observed, line)

    def _quiet_ticks(self, until: Number, *, inclusive: bool, line: int) -> None:
        """Deadlines the trace reports nothing for must change nothing observable."""
        while (due := next_deadline(self.world)) is not None and (
            due < until or (inclusive and due == until)
        ):
            transition = fire_instant(self.world, due, self.policy)
            self._match(transition, [], line, f"a deadline falls at t={due}; the trace reports nothing then")

    def _match(
        self, transition: Transition, observed: list[tuple[int, Observation]], line: int, note: str = ""
    ) -> None:
        expected = Counter(observation_key(o) for o in transition.observations)
        actual = Counter(observation_key(o) for _, o in observed)
        if expected == actual:
            self.world = transition.after
            return
        extra = actual - expected
        first_bad = next((n for n, o in observed if observation_key(o) in extra), line)
        if not extra and observed:
            first_bad = observed[-1][0]
        self._diverge(first_bad, transition, transition.observations, observed, note)

    def _diverge(
        self,
        line: int,
        transition: Transition | None,
        expected: Iterable[Observation],
        observed: list[tuple[int, Observation]],
        note: str,
    ) -> None:
        expected = tuple(expected)
        rule = self._rule_for(transition, observed) if transition is not None else FALLBACK_RULE
        want = tuple(describe(o) for o in expected) or ("no observation",)
        got = tuple(describe(o) for _, o in observed) or ("no observation",)
        missing = Counter(observation_key(o) for o in expected) - Counter(
            observation_key(o) for _, o in observed
        )
        when = transition.after.now if transition is not None else (observed[0][1].t if observed else 0)
        message = note or (
            "the trace omits changes the model makes"
            if missing and len(observed) <= len(expected)
            else "the trace reports changes the model does not allow"
        )
        raise TraceDiverged(Divergence(line, rule, when, want, got, message, tuple(self.recent)))

    def _rule_for(self, transition: Transition, observed: list[tuple[int, Observation]]) -> str:
        """The rule the trace's claimed changes break, judged by the catalogue."""
        found = claimed_violations(transition, [o for _, o in observed])
        return found[0].rule if found else FALLBACK_RULE


# Rules that judge the world's bookkeeping rather than what a trace can show.
_TRACE_BLIND = frozenset({"NOTHING-LOST"})
# what a claimed change is judged by (the package registers every rule on import)
_CLAIM_STATE_RULES = [r for r in RULES.values() if r.kind is Kind.STATE]
_CLAIM_STEP_RULES = [r for r in RULES.values() if r.kind is Kind.STEP and r.id not in _TRACE_BLIND]


def claimed_change(transition: Transition, observed: Iterable[Observation]) -> Transition:
    """``transition`` as a trace claims it: its start world changed only as ``observed`` reports.

    What the model keeps to itself (a timer's bookkeeping, a record it drops) plays no
    part, so the rules judge only what a trace shows.
    """
    observed = tuple(observed)
    return transition._replace(after=_apply_claims(transition, list(observed)), observations=observed)


def claimed_violations(transition: Transition, observed: Iterable[Observation]) -> list[Violation]:
    """What the rules say of the change a trace claims (:func:`claimed_change`).

    These are the violations a trace judge can name; the first one is the rule the
    oracle reports at a divergence.
    """
    claimed = claimed_change(transition, observed)
    before = View(transition.before)
    return violations_of(claimed, before, View(claimed.after, before), _CLAIM_STATE_RULES, _CLAIM_STEP_RULES)


def when_time_brings(
    world: World, observation: Observation, policy: Policy, horizon: int = 64
) -> Number | None:
    """The instant at which time alone makes the model report ``observation`` (any ``t``), or None.

    Only the world's own deadlines are followed, at most ``horizon`` of them: no input comes.
    """

    def timeless(obs: Observation) -> tuple[Any, ...]:
        key = observation_key(obs)
        return key[:1] + key[2:]

    wanted = timeless(observation)
    for _ in range(horizon):
        due = next_deadline(world)
        if due is None:
            return None
        transition = fire_instant(world, due, policy)
        if any(timeless(o) == wanted for o in transition.observations):
            return due
        world = transition.after
    return None


def _started(observed: list[tuple[int, Observation]]) -> set[str]:
    return {o.job for _, o in observed if isinstance(o, JobChanged) and o.state == "running"}


def _apply_claims(transition: Transition, observed: list[Observation]) -> World:
    """The world as the trace claims it became: the model's world with the reported changes.

    A job or session the trace reports as created although the model refused it is
    added from the input that asked for it, so the rules can say what is wrong with it.
    """
    now, cause = transition.after.now, transition.cause
    world = transition.before._replace(now=now)
    for obs in observed:
        if isinstance(obs, SessionChanged) and world.session(obs.session) is None:
            backend = getattr(cause, "backend", None)
            if backend is not None and getattr(cause, "session", None) == obs.session:
                new = SessionRecord(
                    obs.session, backend, getattr(cause, "max_time", None), "pending", True, now
                )
                world = world._replace(sessions=(*world.sessions, new))
        if (
            isinstance(obs, JobChanged)
            and isinstance(cause, Submit)
            and cause.job == obs.job
            and world.job(obs.job) is None
        ):
            new_job = JobRecord(
                cause.job,
                cause.backend,
                cause.session,
                cause.instance,
                cause.max_execution_time,
                "queued",
                now,
            )
            world = world._replace(jobs=(*world.jobs, new_job))
    for obs in observed:
        if isinstance(obs, JobChanged):
            job = world.job(obs.job)
            if job is None:
                continue  # a job no input asked for: OBS-MATCH says so
            changes: dict[str, Any] = {"state": obs.state}
            if obs.state == "running":
                changes["started_at"] = now
            elif obs.state in ("completed", "failed", "canceled"):
                changes["ended_at"] = now
            world = world.with_job(job._replace(**changes))
        elif isinstance(obs, SessionChanged):
            session = world.session(obs.session)
            if session is None:
                continue  # a session no input asked for: OBS-MATCH says so
            changes = {"state": obs.state, "accepting": obs.accepting}
            if obs.state == "active" and session.started_at is None:
                changes["started_at"] = now
            if obs.state in ("closed", "canceled", "expired"):
                changes["ended_at"] = now
            world = world.with_session(session._replace(**changes))
    return _hidden_timers_as_documented(world, now)


def _hidden_timers_as_documented(world: World, now: Number) -> World:
    """Give a session the claims activate now the max TTL the rules expect.

    No trace line reports a session's max TTL; leaving it unset would make the rules
    blame a value nobody claimed. What a trace shows of it is the expiry, judged when
    it comes (or fails to) (decision D21).
    """
    for session in world.sessions:
        if session.started_at == now and session.max_ttl is None:
            first = next((j for j in world.jobs if j.session == session.id and j.started_at == now), None)
            if first is not None:
                world = world.with_session(
                    session._replace(max_ttl=expected_max_ttl(session, first, world.config))
                )
    return world


def _render(record: Input | Observation) -> str:
    if isinstance(record, JobChanged | SessionChanged | Rejected):
        return describe(record)
    fields = ", ".join(f"{k}={v}" for k, v in input_to_dict(record).items() if k not in ("t", "op"))
    return f"t={record.t} {record.op}({fields})"
