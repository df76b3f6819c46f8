"""Conformance testing of Python implementations, in-process.

An implementation written in Python need not speak JSON over pipes: give the suite an
object with the requests of protocol v1, section 2 as methods (:class:`Implementation`).
Each input method takes the fields of its section-1 record as keyword arguments (``t``
included) and returns the observations it caused, as section-1 event dicts; ``advance``
returns every observation with ``t`` in (previous time, ``t``], in time order. A refusal
is a ``rejected`` event; raising an exception is a protocol fault (like an ``{"error": ...}``
reply). ``init`` starts a fresh, empty world at time 0; it is called before every run.

:func:`run_conformance` runs the whole suite of ``sessionspec conform`` (scenario library,
then Hypothesis-generated programs) against such an object, or against a command, and
returns a :class:`~sessionspec.conformance.suite.Report`; :func:`assert_conforms` raises
``AssertionError`` with the readable report, for a user's pytest suite::

    from sessionspec.conformance.adapter import assert_conforms

    def test_my_scheduler_conforms():
        assert_conforms(MyScheduler(), examples=200)        # an object, in-process
        assert_conforms(["./my-scheduler", "--protocol"])   # or a command

(:mod:`sessionspec.conformance.pytest_plugin` offers the same as a fixture.) The model itself,
as an :class:`Implementation`, conforms:

>>> report = run_conformance(ModelImplementation(), examples=5, seed=1)
>>> report.status, report.verdict, report.scenarios_run > 30
(0, 'conforms', True)

An object that breaks a rule does not; the report names the rule:

>>> class NoHold(ModelImplementation):
...     '''Lets a plain job start while a session holds the backend.'''
...     def submit(self, t, job, backend, **fields):
...         events = super().submit(t, job, backend, **fields)
...         if fields.get("session") is None and events == [{"t": t, "event": "job", "job": job,
...                                                          "state": "queued"}]:
...             events.append({"t": t, "event": "job", "job": job, "state": "running"})
...         return events
>>> report = run_conformance(NoHold(), examples=0, save=False)
>>> report.status, "SES-ITTL-HOLD" in {f.rule for f in report.scenario_failures}
(1, True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from sessionspec.conformance.scenarios import Scenario
from sessionspec.conformance.serve import ModelServer
from sessionspec.conformance.suite import (
    DEFAULT_EXAMPLES,
    DEFAULT_STEPS,
    DEFAULT_TIMEOUT,
    ProtocolFault,
    Report,
    Subprocess,
    Transport,
    decode_reply,
    run_suite,
)
from sessionspec.model.config import Number
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.variant import REFERENCE, Variant

Event = dict[str, Any]


@runtime_checkable
class Implementation(Protocol):
    """The requests of protocol v1, section 2, as methods; inputs return the events they caused."""

    def init(self, config: dict[str, Any]) -> None:
        """A fresh, empty world at time 0 with this configuration (trace-header keys)."""

    def advance(self, t: Number) -> list[Event]:
        """Move the clock to ``t``: every observation in (previous time, ``t``], in time order."""
        ...

    def create_session(
        self, t: Number, session: str, backend: str, max_time: Number | None = None
    ) -> list[Event]: ...

    def submit(
        self,
        t: Number,
        job: str,
        backend: str,
        session: str | None = None,
        start_session: bool = False,
        instance: str = "default",
        max_execution_time: Number | None = None,
    ) -> list[Event]: ...

    def close_session(self, t: Number, session: str) -> list[Event]: ...

    def cancel_session(self, t: Number, session: str) -> list[Event]: ...

    def cancel_job(self, t: Number, job: str) -> list[Event]: ...

    def finish_job(self, t: Number, job: str, outcome: str) -> list[Event]: ...


INPUT_METHODS = ("create_session", "submit", "close_session", "cancel_session", "cancel_job", "finish_job")


class InProcess:
    """A :class:`~sessionspec.conformance.suite.Transport` that calls an :class:`Implementation`'s methods.

    Replies are checked exactly as replies read from a pipe are (they must be JSON
    values). There is no timeout in-process: a method that never returns hangs the run.
    """

    def __init__(self, implementation: Implementation) -> None:
        self.implementation = implementation

    def exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        fields = {key: value for key, value in request.items() if key != "op"}
        try:
            reply: dict[str, Any]
            if op == "init":
                self.implementation.init(request.get("config", {}))
                reply = {"ok": True}
            elif op == "shutdown":
                stop = getattr(self.implementation, "shutdown", None)
                if callable(stop):
                    stop()
                reply = {"ok": True}
            elif op == "advance":
                reply = {"events": self.implementation.advance(request["t"])}
            elif op in INPUT_METHODS:
                reply = {"events": getattr(self.implementation, op)(**fields)}
            else:
                raise ProtocolFault(f"no such request: {op!r}", request)
        except ProtocolFault:
            raise
        except Exception as exc:
            raise ProtocolFault(f"the implementation raised {type(exc).__name__}: {exc}", request) from exc
        try:
            text = json.dumps(reply)
        except (TypeError, ValueError) as exc:
            raise ProtocolFault(
                f"the reply is not made of JSON values ({exc})", request, repr(reply)
            ) from None
        return decode_reply(request, text)

    def shutdown(self) -> None:
        """Send ``shutdown``: the implementation's ``shutdown()`` method is called if it has one."""
        self.exchange({"op": "shutdown"})

    def stderr_tail(self) -> str:
        return ""

    def close(self) -> None:
        """Nothing to stop in-process."""


class ModelImplementation:
    """The model itself as an :class:`Implementation` (a ``serve.ModelServer`` inside)."""

    def __init__(self, policy: Policy = REFERENCE_POLICY, variant: Variant = REFERENCE) -> None:
        self.server = ModelServer(policy, variant)

    def _handle(self, request: dict[str, Any]) -> list[Event]:
        reply = self.server.handle(request)
        if "error" in reply:
            raise ValueError(reply["error"])
        events: list[Event] = reply["events"]
        return events

    def _input(self, op: str, t: Number, **fields: Any) -> list[Event]:
        given = {key: value for key, value in fields.items() if value is not None}
        return self._handle({"t": t, "op": op, **given})

    def init(self, config: dict[str, Any]) -> None:
        reply = self.server.handle({"op": "init", "config": config})
        if "error" in reply:
            raise ValueError(reply["error"])

    def advance(self, t: Number) -> list[Event]:
        return self._handle({"op": "advance", "t": t})

    def create_session(
        self, t: Number, session: str, backend: str, max_time: Number | None = None
    ) -> list[Event]:
        return self._input("create_session", t, session=session, backend=backend, max_time=max_time)

    def submit(
        self,
        t: Number,
        job: str,
        backend: str,
        session: str | None = None,
        start_session: bool = False,
        instance: str = "default",
        max_execution_time: Number | None = None,
    ) -> list[Event]:
        return self._input(
            "submit",
            t,
            job=job,
            backend=backend,
            session=session,
            start_session=start_session or None,
            instance=instance,
            max_execution_time=max_execution_time,
        )

    def close_session(self, t: Number, session: str) -> list[Event]:
        return self._input("close_session", t, session=session)

    def cancel_session(self, t: Number, session: str) -> list[Event]:
        return self._input("cancel_session", t, session=session)

    def cancel_job(self, t: Number, job: str) -> list[Event]:
        return self._input("cancel_job", t, job=job)

    def finish_job(self, t: Number, job: str, outcome: str) -> list[Event]:
        return self._input("finish_job", t, job=job, outcome=outcome)


def transport_for(target: Implementation | Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> Transport:
    """A transport to ``target``: an object in-process, or a command (a list of strings) over pipes."""
    if isinstance(target, str):
        raise TypeError(
            f"give a command as a list of strings, e.g. [{target!r}], or an Implementation object"
        )
    if isinstance(target, Sequence):
        return Subprocess([str(part) for part in target], timeout)
    return InProcess(target)


def run_conformance(
    target: Implementation | Sequence[str],
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    steps: int = DEFAULT_STEPS,
    timeout: float = DEFAULT_TIMEOUT,
    scenarios: Sequence[Scenario] | None = None,
    out: str | os.PathLike[str] | None = None,
    save: bool = True,
) -> Report:
    """Run the conformance suite against an :class:`Implementation` object or a command.

    ``report.status`` is 0 (conforms), 1 (does not: ``report.failure``) or 3 (protocol
    fault: ``report.fault``); ``report.format()`` is the text ``sessionspec conform`` prints.
    Failing traces are saved under ``out`` (default: a temporary directory) unless ``save``
    is false. A command is always stopped at the end, with everything it started.
    """
    transport = transport_for(target, timeout)
    try:
        name = " ".join(target) if isinstance(target, Sequence) else type(target).__name__
        return run_suite(
            transport,
            target=name,
            examples=examples,
            seed=seed,
            steps=steps,
            scenarios=scenarios,
            out=out,
            save=save,
        )
    finally:
        transport.close()


def assert_conforms(target: Implementation | Sequence[str], **options: Any) -> Report:
    """:func:`run_conformance`, raising ``AssertionError`` with the readable report unless it conforms."""
    report = run_conformance(target, **options)
    if report.status != 0:
        raise AssertionError("\n" + report.format())
    return report


__all__ = [
    "Implementation",
    "InProcess",
    "ModelImplementation",
    "assert_conforms",
    "run_conformance",
    "transport_for",
]
