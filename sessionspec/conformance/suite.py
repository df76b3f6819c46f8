"""``sessionspec conform [options] -- COMMAND [ARG...]``: the conformance suite for implementations.

The command is an implementation speaking protocol v1, section 2 (one JSON request per
line on its standard input, one JSON reply per line on its standard output). The suite
drives it in two phases, and the trace oracle (:mod:`sessionspec.oracle.reference`) judges every
run against the model:

1. the fixed scenario library (:mod:`sessionspec.conformance.scenarios`), at least one scenario per
   rule of the catalogue;
2. Hypothesis-generated input sequences: every input of protocol v1 (sessions created,
   with and without ``max_time``, and started by a job; plain, session and reservation
   jobs on two QPUs and a simulator, with and without an instance and a time limit;
   closes, cancels, job ends; time advanced around deadlines and reservation windows),
   under configurations that between them set and leave out every key of the trace
   header (:data:`sessionspec.exploration.stateful.CONFIGS`). A failing sequence is shrunk
   by Hypothesis to a minimal one, keeping the rule it breaks.

Every run starts with ``init``; before an input at a new instant the harness advances
the clock (``advance``); after the last input it advances past every deadline the model
still has pending, and then some, so a missing or a spurious deadline shows. The trace
of a run is the header, then for each advance its events followed by an ``advance``
record (the trace is complete up to there), and for each input the input followed by
its events: a trace file that ``sessionspec check-trace`` judges the same way.

Exit status (protocol v1, section 3): 0 the implementation conforms; 1 it does not (the
rule, the shortest failing trace found, one line a step, and the path of that trace
saved as a file); 2 bad usage; 3 the implementation broke the protocol: it exited, hung
past ``--timeout``, wrote a line that is not a reply, or answered ``{"error": ...}``. The
harness never hangs: replies are awaited with a timeout, and the implementation's whole
process group is killed at the end.

The same driver runs against Python objects in-process: see :mod:`sessionspec.conformance.adapter`.

>>> from sessionspec.conformance.adapter import InProcess, ModelImplementation
>>> run = Driver(InProcess(ModelImplementation())).run({}, [
...     {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"}])
>>> run.divergence is None, [step.summary() for step in run.steps]
(True, ['create_session s1 on qpu1 -> s1 pending', 'advance to 0 -> nothing', 'advance to 28801 -> nothing'])
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from sessionspec.conformance.scenarios import SCENARIOS, Scenario
from sessionspec.exploration.stateful import ACTIONS, CONFIGS, STORY, Context, resolve_program
from sessionspec.invariants import RULES
from sessionspec.model.config import Config
from sessionspec.model.errors import InvalidInput
from sessionspec.model.inputs import CloseSession, Input, input_from_dict, input_to_dict
from sessionspec.model.step import next_deadline, step
from sessionspec.oracle.judge import Verdict, format_verdict
from sessionspec.oracle.reference import FALLBACK_RULE, Divergence, Oracle, TraceDiverged
from sessionspec.traces.reader import observation_from_dict

JSON = dict[str, Any]

DEFAULT_EXAMPLES = 1000
DEFAULT_STEPS = 25
DEFAULT_TIMEOUT = 5.0
MAX_REPLY_BYTES = 1 << 20
# After the last input, time is advanced deadline by deadline, at most this many times.
MAX_SETTLE_ADVANCES = 200
REPLY_KEYS = ("ok", "events", "error")


# --- talking to an implementation ------------------------------------------------------------------


class ProtocolFault(Exception):
    """The implementation broke the protocol: what happened, and the last exchange."""

    def __init__(self, problem: str, request: JSON | None = None, reply: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.request = request
        self.reply = reply
        self.stderr = ""
        self.during = ""
        self.step = 0  # the step of the run at which it happened (0: init)

    def as_dict(self) -> JSON:
        return {
            "problem": self.problem,
            "during": self.during,
            "step": self.step,
            "request": self.request,
            "reply": self.reply,
            "stderr": self.stderr,
        }


class Transport(Protocol):
    """A connection to an implementation: one request, one reply."""

    def exchange(self, request: JSON) -> JSON:
        """Send ``request``; return the reply object, or raise :class:`ProtocolFault`."""
        ...

    def close(self) -> None:
        """Stop the implementation (politely if it still answers); never raises."""
        ...

    def stderr_tail(self) -> str:
        """The end of what the implementation logged, for fault reports ("" if none)."""
        ...


def decode_reply(request: JSON, text: str) -> JSON:
    """One reply line as a reply object, or a :class:`ProtocolFault` saying what is wrong with it."""
    try:
        reply = json.loads(text)
    except ValueError as exc:
        raise ProtocolFault(f"the reply is not JSON ({exc})", request, text) from None
    if not isinstance(reply, dict):
        raise ProtocolFault("the reply is not a JSON object", request, text)
    kinds = [key for key in REPLY_KEYS if key in reply]
    if len(kinds) != 1:
        raise ProtocolFault(
            "a reply has exactly one of the fields ok, events or error; this one has "
            + (" and ".join(kinds) if kinds else "none of them"),
            request,
            text,
        )
    if "error" in reply:
        raise ProtocolFault(f"the implementation answered with an error: {reply['error']}", request, text)
    if request.get("op") in ("init", "shutdown"):
        if reply.get("ok") is not True:
            raise ProtocolFault(f'{request["op"]} is answered with {{"ok": true}}', request, text)
    elif not isinstance(reply.get("events"), list):
        raise ProtocolFault(f'{request["op"]} is answered with {{"events": [...]}}, a list', request, text)
    return reply


def _encode(message: JSON) -> str:
    return json.dumps(message, separators=(", ", ": "))


class Subprocess:
    """An implementation run as a command, spoken to over pipes with a timeout per reply.

    The command runs in a process group of its own; :meth:`close` asks it to shut down,
    then kills the whole group, so nothing it started is left running. Standard error
    goes to a temporary file whose end is shown in fault reports.
    """

    def __init__(
        self,
        command: Sequence[str],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.timeout = timeout
        self.broken = False
        self.shut_down = False
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._buffer = b""
        try:
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
                cwd=cwd,
                env=env,
            )
        except BaseException:
            self._stderr.close()
            raise
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)

    def exchange(self, request: JSON, timeout: float | None = None) -> JSON:
        if self.broken:
            raise ProtocolFault("the implementation stopped answering earlier", request)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            self._write((_encode(request) + "\n").encode(), deadline, request)
            return decode_reply(request, self._read_line(deadline, request))
        except ProtocolFault:
            self.broken = True
            raise

    def _write(self, data: bytes, deadline: float, request: JSON) -> None:
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self._in], [], remaining)[1]:
                raise ProtocolFault(
                    f"the implementation did not read its input within {self.timeout:g}s", request
                )
            try:
                written = os.write(self._in, data)
            except (BrokenPipeError, ConnectionResetError):
                raise ProtocolFault(self._gone("closed its standard input"), request) from None
            data = data[written:]

    def _read_line(self, deadline: float, request: JSON) -> str:
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise ProtocolFault(
                    f"the reply is longer than {MAX_REPLY_BYTES} bytes without a newline",
                    request,
                    self._buffer[:200].decode("utf-8", "replace") + "...",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._out], [], [], remaining)[0]:
                partial = self._buffer.decode("utf-8", "replace") or None
                raise ProtocolFault(f"no reply within {self.timeout:g}s (it hangs)", request, partial)
            chunk = os.read(self._out, 65536)
            if not chunk:
                partial = self._buffer.decode("utf-8", "replace") or None
                raise ProtocolFault(
                    self._gone("closed its standard output before replying"), request, partial
                )
            self._buffer += chunk
        raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolFault(
                "the reply is not UTF-8 text", request, raw.decode("utf-8", "replace")
            ) from None

    def _gone(self, what: str) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=0.5)
        status = self.proc.returncode
        if status is None:
            return f"the implementation {what}"
        return (
            f"the implementation exited (status {status})"
            if status >= 0
            else (f"the implementation was killed by signal {-status}")
        )

    def stderr_tail(self, lines: int = 12) -> str:
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - 4000))
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def shutdown(self) -> None:
        """Send ``shutdown`` and expect ``{"ok": true}``; raise :class:`ProtocolFault` if not."""
        self.shut_down = True
        self.exchange({"op": "shutdown"}, timeout=min(self.timeout, 2.0))

    def close(self) -> None:
        """End the implementation and everything it started; never raises, never hangs."""
        if self.proc.poll() is None and not (self.broken or self.shut_down):
            with contextlib.suppress(ProtocolFault):
                self.shutdown()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        if not self.broken:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1.0)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the whole group: children included
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5.0)
        with contextlib.suppress(OSError):
            self._stderr.close()

    def __enter__(self) -> Subprocess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- one run: a configuration and a program, judged as it goes ----------------------------------


@dataclass
class Step:
    """One request of a run (an advance or an input) and what the implementation said."""

    number: int
    request: JSON
    events: list[JSON]
    first_line: int  # the trace lines this step wrote: [first_line, last_line]
    last_line: int

    @property
    def t(self) -> Any:
        return self.request["t"]

    def summary(self) -> str:
        return f"{describe_request(self.request)} -> {describe_events(self.events, self.t)}"


@dataclass
class Run:
    """A run: its configuration and program, the steps taken, the trace, and the verdict."""

    config: JSON
    program: list[JSON]
    steps: list[Step]
    records: list[JSON]
    divergence: Divergence | None

    def trace_lines(self) -> list[str]:
        """The trace file of the run: header, then one record per line."""
        head = {"trace": "sessionspec", "version": 1, "config": Config.from_dict(self.config).to_dict()}
        return [json.dumps(head), *(json.dumps(record) for record in self.records)]

    def failing_step(self) -> Step | None:
        d = self.divergence
        if d is None or not self.steps:
            return None
        for s in self.steps:
            if s.first_line <= d.line <= s.last_line:
                return s
        return self.steps[-1]


class Driver:
    """Plays programs against an implementation over a :class:`Transport`, judging each as it goes."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.exchanges = 0

    def run(self, config: JSON, program: Sequence[JSON]) -> Run:
        """Init, play ``program`` (inputs in trace form), run past the deadlines, judge; stop at a divergence.

        Raises :class:`ProtocolFault` when the implementation breaks the protocol, and
        :class:`ValueError` when the program itself is malformed (a bug of the caller).
        """
        cfg = _config(config)
        inputs = [_program_input(raw, i) for i, raw in enumerate(program, start=1)]
        state = _RunState(Oracle(cfg), cfg)
        run = Run(config, list(program), state.steps, state.records, None)
        try:
            self._request({"op": "init", "config": config})
            for raw, inp in inputs:
                if inp.t < state.now:
                    raise ValueError(f"program input {raw} is stamped before the clock (t={state.now})")
                if inp.op == "advance":
                    self._advance(state, inp.t)
                    continue
                if inp.t > state.now:
                    self._advance(state, inp.t)
                self._input(state, raw, inp)
            self._settle(state)
            run.divergence = state.oracle.finish(len(state.records) + 1)
        except TraceDiverged as diverged:
            run.divergence = diverged.divergence
        except ProtocolFault as fault:
            fault.step = len(state.steps) + 1 if fault.request and fault.request["op"] != "init" else 0
            raise
        return run

    def _request(self, request: JSON) -> JSON:
        self.exchanges += 1
        return self.transport.exchange(request)

    def _advance(self, state: _RunState, t: Any) -> None:
        request = {"op": "advance", "t": t}
        reply = self._request(request)
        events = _observations(request, reply, lambda e: state.now < e <= t, f"in ({state.now}, {t}]")
        step_ = state.begin(request)
        for raw, obs in events:
            state.feed(raw, obs)
        state.feed({"t": t, "op": "advance"}, input_from_dict({"t": t, "op": "advance"}))
        state.now = t
        state.end(step_)

    def _input(self, state: _RunState, raw: JSON, inp: Input) -> None:
        reply = self._request(raw)
        events = _observations(raw, reply, lambda e: e == state.now, f"t={state.now}")
        step_ = state.begin(raw)
        state.feed(raw, inp)
        for event, obs in events:
            state.feed(event, obs)
        state.end(step_)

    def _settle(self, state: _RunState) -> None:
        """Advance past every deadline the model still has, then far beyond, to see what time does."""
        if not state.steps or state.steps[-1].request["op"] != "advance":
            self._advance(state, state.now)
        for _ in range(MAX_SETTLE_ADVANCES):
            due = next_deadline(state.oracle.world)
            if due is None:
                break
            self._advance(state, due)
        cfg = state.config
        slack = max(cfg.system_max_ttl, cfg.interactive_ttl, cfg.job_time_cap, cfg.pending_timeout or 0)
        self._advance(state, state.now + slack + 1)


@dataclass
class _RunState:
    """A run in progress: the oracle, the clock, the trace so far and its steps."""

    oracle: Oracle
    config: Config
    now: Any = 0
    records: list[JSON] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def begin(self, request: JSON) -> Step:
        line = len(self.records) + 2  # line 1 is the header
        step_ = Step(len(self.steps) + 1, request, [], line, line)
        self.steps.append(step_)
        return step_

    def feed(self, raw: JSON, record: Any) -> None:
        self.records.append(raw)
        line = len(self.records) + 1
        step_ = self.steps[-1]
        step_.last_line = line
        if "event" in raw:
            step_.events.append(raw)
        self.oracle.feed(line, record)

    def end(self, step_: Step) -> None:
        step_.last_line = max(step_.first_line, len(self.records) + 1)


def _config(config: JSON) -> Config:
    try:
        return Config.from_dict(config)
    except InvalidInput as exc:
        raise ValueError(f"bad configuration: {exc}") from None


def _program_input(raw: JSON, number: int) -> tuple[JSON, Input]:
    try:
        return raw, input_from_dict(raw)
    except InvalidInput as exc:
        raise ValueError(f"program input {number} ({raw}) is not an input record: {exc}") from None


def _observations(
    request: JSON, reply: JSON, in_window: Callable[[Any], bool], window: str
) -> list[tuple[JSON, Any]]:
    """The events of a reply as trace records, checked for form and time; a fault otherwise."""
    out: list[tuple[JSON, Any]] = []
    previous = None
    text = _encode(reply)
    for i, event in enumerate(reply["events"], start=1):
        if not isinstance(event, dict) or "event" not in event:
            raise ProtocolFault(f"event {i} of the reply is not an observation record", request, text)
        try:
            obs = observation_from_dict(event)
        except InvalidInput as exc:
            raise ProtocolFault(
                f"event {i} of the reply is not a valid observation: {exc}", request, text
            ) from None
        if not in_window(obs.t):
            raise ProtocolFault(
                f"event {i} of the reply is stamped t={obs.t}; this reply's events belong {window}",
                request,
                text,
            )
        if previous is not None and obs.t < previous:
            raise ProtocolFault(
                f"event {i} of the reply goes back in time (events come in time order)", request, text
            )
        previous = obs.t
        out.append((obs.to_dict(), obs))
    return out


# --- readable forms ------------------------------------------------------------------------------


def describe_request(request: JSON) -> str:
    """A request in a few words: ``submit j1 to qpu1 in s1``, ``advance to 71``."""
    op = request["op"]
    if op == "advance":
        return f"advance to {request['t']}"
    if op == "create_session":
        extra = f" (max_time {request['max_time']})" if request.get("max_time") is not None else ""
        return f"create_session {request['session']} on {request['backend']}{extra}"
    if op == "submit":
        where = "plain"
        if request.get("session") is not None:
            where = ("starting " if request.get("start_session") else "in ") + str(request["session"])
        notes = [f"instance {request['instance']}"] if request.get("instance", "default") != "default" else []
        if request.get("max_execution_time") is not None:
            notes.append(f"max_execution_time {request['max_execution_time']}")
        details = f" ({', '.join(notes)})" if notes else ""
        return f"submit {request['job']} to {request['backend']} {where}{details}"
    if op == "finish_job":
        return f"finish_job {request['job']} {request['outcome']}"
    if op in ("close_session", "cancel_session"):
        return f"{op} {request['session']}"
    if op == "cancel_job":
        return f"cancel_job {request['job']}"
    return _encode(request)


def describe_event(event: JSON, t: Any = None) -> str:
    at = "" if t is not None and event["t"] == t else f"@{event['t']} "
    if event["event"] == "job":
        return f"{at}{event['job']} {event['state']}"
    if event["event"] == "session":
        closed = "" if event["accepting"] else " (not accepting)"
        return f"{at}{event['session']} {event['state']}{closed}"
    who = event.get("job") or event.get("session") or ""
    return f"{at}rejected {event['op']} {who}".rstrip()


def describe_events(events: Iterable[JSON], t: Any = None) -> str:
    return ", ".join(describe_event(e, t) for e in events) or "nothing"


def format_steps(run: Run) -> list[str]:
    """One line a step: number, time, request, what the implementation said, what the model allowed."""
    bad = run.failing_step()
    rows = [("step", "t", "request", "implementation said", "model")]
    for s in run.steps:
        verdict = "agrees"
        if bad is not None and s.number > bad.number:
            verdict = "(not judged: after the divergence)"
        elif s is bad and run.divergence is not None:
            verdict = "DIVERGES, allows: " + "; ".join(run.divergence.expected)
        rows.append(
            (str(s.number), str(s.t), describe_request(s.request), describe_events(s.events, s.t), verdict)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        f"{n:>{widths[0]}}  {t:>{widths[1]}}  {request:<{widths[2]}}  {said:<{widths[3]}}  {model}"
        for n, t, request, said, model in rows
    ]


# --- the suite -----------------------------------------------------------------------------------


@dataclass
class Failure:
    """A run that does not conform, with where it came from and its saved trace."""

    source: str  # "scenario NAME", or "generated-seedN" for the generated phase
    run: Run
    trace_file: str | None = None

    @property
    def divergence(self) -> Divergence:
        assert self.run.divergence is not None
        return self.run.divergence

    @property
    def rule(self) -> str:
        return self.divergence.rule

    def as_dict(self) -> JSON:
        return {
            "source": self.source,
            "rule": self.rule,
            "statement": RULES[self.rule].statement if self.rule in RULES else "",
            "config": self.run.config,
            "program": self.run.program,
            "steps": [
                {
                    "step": s.number,
                    "t": s.t,
                    "request": s.request,
                    "events": s.events,
                    "lines": [s.first_line, s.last_line],
                }
                for s in self.run.steps
            ],
            "divergence": self.divergence.as_dict(),
            "trace_file": self.trace_file,
        }


@dataclass
class Report:
    """The outcome of a conformance run: ``status`` 0 conforms, 1 does not, 3 protocol fault."""

    target: str
    scenarios_total: int = 0
    scenarios_run: int = 0
    scenario_failures: list[Failure] = field(default_factory=list)
    examples: int = 0
    generated_runs: int = 0
    seed: int = 0
    generated_skipped: str = ""
    generated_failure: Failure | None = None
    fault: ProtocolFault | None = None

    @property
    def failure(self) -> Failure | None:
        """The failure to show: the shortest failing trace found.

        One naming a specific rule goes before one that only names the fallback
        ``OBS-MATCH`` (a report at an instant where the model has nothing due).
        """
        found = [*self.scenario_failures, *([self.generated_failure] if self.generated_failure else [])]
        return min(found, key=_rank) if found else None

    @property
    def status(self) -> int:
        if self.fault is not None:
            return 3
        return 1 if self.failure is not None else 0

    @property
    def verdict(self) -> str:
        return ("conforms", "does not conform", "", "protocol fault")[self.status]

    def as_dict(self) -> JSON:
        failure = self.failure
        return {
            "verdict": self.verdict,
            "status": self.status,
            "target": self.target,
            "rule": failure.rule if failure is not None and self.fault is None else None,
            "scenarios": {
                "total": self.scenarios_total,
                "run": self.scenarios_run,
                "failed": [
                    {"name": f.source.removeprefix("scenario "), "rule": f.rule, "trace_file": f.trace_file}
                    for f in self.scenario_failures
                ],
            },
            "generated": {
                "examples": self.examples,
                "runs": self.generated_runs,
                "seed": self.seed,
                "skipped": self.generated_skipped or None,
            },
            "failure": failure.as_dict() if failure is not None else None,
            "fault": self.fault.as_dict() if self.fault is not None else None,
        }

    def format(self) -> str:
        """The human-readable report."""
        lines = [f"sessionspec conform: {self.target}"]
        failed = ", ".join(f"{f.source.removeprefix('scenario ')} ({f.rule})" for f in self.scenario_failures)
        if failed:
            outcome = f"{len(self.scenario_failures)} do not conform: {failed}"
        elif self.fault is not None and self.scenarios_run < self.scenarios_total:
            # the scenarios not run were never judged: claim nothing for them
            ran = f" (the {self.scenarios_run} run conform)" if self.scenarios_run else ""
            outcome = f"stopped by the protocol fault{ran}"
        else:
            outcome = "all conform"
        lines.append(f"Scenarios  {self.scenarios_run} of {self.scenarios_total} run: {outcome}")
        if self.generated_skipped:
            lines.append(f"Generated  skipped: {self.generated_skipped}")
        else:
            outcome = "all conform"
            if self.generated_failure is not None:
                outcome = f"a failure, shrunk to {len(self.generated_failure.run.steps)} steps"
            elif self.fault is not None:
                outcome = "stopped by the protocol fault"
            lines.append(
                f"Generated  {self.examples} examples requested, {self.generated_runs} runs "
                f"(seed {self.seed}): {outcome}"
            )
        if self.fault is not None:
            return "\n".join([*lines, *_format_fault(self.fault)])
        failure = self.failure
        if failure is None:
            lines.append("Verdict    conforms")
            return "\n".join(lines)
        rule = RULES.get(failure.rule)
        lines.append(f"Verdict    does not conform: {failure.rule}" + (f": {rule.statement}" if rule else ""))
        lines += ["", f"Shortest failing trace ({failure.source}), config {json.dumps(failure.run.config)}:"]
        lines += [f"  {line}" for line in format_steps(failure.run)]
        lines += [
            "",
            format_verdict(
                Verdict(failure.trace_file or "<trace>", failure.divergence.line, failure.divergence)
            ),
        ]
        if failure.trace_file:
            lines += [
                "",
                f"Saved      {failure.trace_file}",
                f"           (re-judge: sessionspec check-trace {failure.trace_file})",
            ]
        return "\n".join(lines)


def _rank(failure: Failure) -> tuple[bool, int, int]:
    return (failure.rule == FALLBACK_RULE, len(failure.run.steps), len(failure.run.records))


def _format_fault(fault: ProtocolFault) -> list[str]:
    lines = [f"Verdict    the implementation broke the protocol: {fault.problem}"]
    if fault.during:
        op = (fault.request or {}).get("op")
        at = ", at init" if op == "init" else f", step {fault.step}" if fault.step else ""
        lines.append(f"  during   {fault.during}{at}")
    if fault.request is not None:
        lines.append(f"  sent     {_encode(fault.request)}")
    lines.append(f"  got      {fault.reply if fault.reply is not None else '(no reply)'}")
    if fault.stderr:
        lines.append("  stderr   (last lines)")
        lines += [f"           {line}" for line in fault.stderr.splitlines()]
    return lines


_DEFAULT_CONFIG = Config().to_dict()


def init_config(config: Config) -> JSON:
    """The configuration as ``init`` sends it: every key is optional, so those at their default are left out.

    >>> init_config(Config(interactive_ttl=15))
    {'interactive_ttl': 15}
    """
    return {key: value for key, value in config.to_dict().items() if value != _DEFAULT_CONFIG[key]}


def program_of(config: Config, actions: Sequence[Any]) -> list[JSON]:
    """Resolve action templates (``exploration.stateful.TEMPLATES``) into a program of input records.

    Templates pick ids and instants from the model's world, kept in step as it goes;
    ``with`` blocks still open at the end are closed, as leaving them would.
    """
    ctx = Context()
    inputs, world = resolve_program(config, actions, ctx)
    program = [input_to_dict(inp) for inp in inputs]
    while ctx.open_blocks:
        inp = CloseSession(world.now, ctx.open_blocks.pop())
        program.append(input_to_dict(inp))
        world = step(world, inp, trusted=True).world
    return program


def action_lists(steps: int) -> st.SearchStrategy[list[Any]]:
    """Programs of at most ``steps`` action templates, in short bursts of related actions."""
    bursts = st.lists(st.one_of(st.lists(ACTIONS, min_size=1, max_size=4), STORY), max_size=steps)
    return bursts.map(lambda chunks: [action for chunk in chunks for action in chunk][:steps])


class _Found(Exception):
    def __init__(self, run: Run) -> None:
        super().__init__(f"{run.divergence.rule if run.divergence else '?'} after {len(run.steps)} steps")
        self.run = run


def run_generated(
    driver: Driver, examples: int, seed: int, steps: int = DEFAULT_STEPS
) -> tuple[Run | None, int]:
    """Hypothesis-generated programs against the implementation; the shrunk failing run, if any.

    Once a run fails, only runs breaking the same rule count as failures while
    Hypothesis shrinks, so the minimal run shows the rule first found. Raises
    :class:`ProtocolFault` as soon as the implementation breaks the protocol.
    """
    rule: list[str] = []
    best: list[Run] = []
    fault: list[ProtocolFault] = []
    runs = [0]

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(config=st.sampled_from(CONFIGS), actions=action_lists(steps))
    def example(config: Config, actions: list[Any]) -> None:
        if fault:
            return
        program = program_of(config, actions)
        try:
            run = driver.run(init_config(config), program)
        except ProtocolFault as problem:
            problem.during = f"a generated example ({len(program)} inputs): {json.dumps(program)}"
            fault.append(problem)
            return
        runs[0] += 1
        if run.divergence is None or (rule and run.divergence.rule != rule[0]):
            return
        rule[:] = [run.divergence.rule]
        if not best or len(run.steps) <= len(best[0].steps):
            best[:] = [run]
        raise _Found(run)

    found: Run | None = None
    try:
        example()
    except _Found as exc:
        found = exc.run
    except Exception:  # e.g. a flaky implementation: keep the shortest failure seen
        if not best:
            raise
        found = best[0]
    if fault:
        raise fault[0]
    return found, runs[0]


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "trace"


def save_trace(failure: Failure, out: pathlib.Path) -> str:
    """Write the failure's trace under ``out`` (created if need be); return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{_safe_name(failure.source)}.jsonl"
    path.write_text("\n".join(failure.run.trace_lines()) + "\n", encoding="utf-8")
    failure.trace_file = str(path)
    return str(path)


def run_suite(
    transport: Transport,
    *,
    target: str = "",
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    steps: int = DEFAULT_STEPS,
    scenarios: Sequence[Scenario] | None = None,
    out: str | os.PathLike[str] | None = None,
    save: bool = True,
) -> Report:
    """The whole suite against one implementation: scenarios, then generated programs.

    Failing traces are saved under ``out`` (default: a new temporary directory) unless
    ``save`` is false. The transport is left open: the caller closes it.
    """
    report = Report(target, examples=examples, seed=seed)
    driver = Driver(transport)
    directory: list[pathlib.Path] = [pathlib.Path(out)] if out is not None else []

    def keep(failure: Failure) -> None:
        if not save:
            return
        if not directory:
            directory.append(pathlib.Path(tempfile.mkdtemp(prefix="sessionspec-conform-")))
        save_trace(failure, directory[0])

    chosen = list(SCENARIOS.values()) if scenarios is None else list(scenarios)
    report.scenarios_total = len(chosen)
    try:
        for scenario in chosen:
            try:
                run = driver.run(scenario.config, scenario.inputs)
            except ProtocolFault as fault:
                fault.during = f"scenario {scenario.name}"
                raise
            report.scenarios_run += 1
            if run.divergence is not None:
                failure = Failure(f"scenario {scenario.name}", run)
                keep(failure)
                report.scenario_failures.append(failure)
        if report.scenario_failures:
            report.generated_skipped = "a scenario does not conform"
        elif examples <= 0:
            report.generated_skipped = "--examples 0"
        else:
            found, report.generated_runs = run_generated(driver, examples, seed, steps)
            if found is not None:
                report.generated_failure = Failure(f"generated-seed{seed}", found)
                keep(report.generated_failure)
        shutdown = getattr(transport, "shutdown", None)
        if callable(shutdown):
            try:
                shutdown()
            except ProtocolFault as fault:
                fault.during = "shutdown at the end of the suite"
                raise
    except ProtocolFault as fault:
        if fault.during.startswith("scenario"):
            report.generated_skipped = "the implementation broke the protocol"
        fault.stderr = transport.stderr_tail()
        report.fault = fault
    return report


__all__ = [
    "Driver",
    "Failure",
    "ProtocolFault",
    "Report",
    "Run",
    "Step",
    "Subprocess",
    "Transport",
    "decode_reply",
    "program_of",
    "run_generated",
    "run_suite",
    "save_trace",
]
