"""``sessionspec serve``: the model itself, speaking the implementation protocol.

This is the reference implementation for conformance runs (protocol v1, section 2):
the model's transition function behind a line-oriented JSON interface, with the
reference scheduling policy. Its clock is virtual and moves only when told to.

Requests and replies, one JSON object per line each way:

- ``{"op": "init", "config": {...}}`` -> ``{"ok": true}``. A fresh, empty world at time 0;
  ``config`` has the keys of a trace header (left out: all defaults). May be sent again.
- ``{"op": "advance", "t": T}`` -> ``{"events": [...]}``. Everything time made happen after
  the current time and up to T, deadlines at T included, in time order, each event stamped
  with its own instant; the clock is then at T. The section-1 record form
  ``{"t": T, "op": "advance"}`` is the same object.
- an input record of section 1 (``create_session``, ``submit``, ``close_session``,
  ``cancel_session``, ``cancel_job``, ``finish_job``) with ``t`` equal to the current time
  -> ``{"events": [...]}``: the observations it caused. A refusal is an event
  (``rejected``), not an error. To act at a later time, advance first.
- ``{"op": "shutdown"}`` -> ``{"ok": true}``; the server then stops.
- anything else -> ``{"error": "..."}`` saying what is wrong and what to send instead.

Protocol problems (not JSON, not an object, an unknown ``op``, bad or missing fields, a
request before ``init``, an input stamped with another time than the current one, an
advance into the past) are errors, never crashes, and leave the world as it was.

An example exchange (the trace of protocol v1, section 1):

>>> server = ModelServer()
>>> server.handle({"op": "init", "config": {"interactive_ttl": 60}})
{'ok': True}
>>> server.handle({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"})
{'events': [{'t': 0, 'event': 'session', 'session': 's1', 'state': 'pending', 'accepting': True}]}
>>> submit = {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"}
>>> print(server.handle(submit)["error"])
submit is stamped t=1 but the clock is at t=0: advance first with {"op": "advance", "t": 1}, then resend it
>>> server.handle({"op": "advance", "t": 1})
{'events': []}
>>> for event in server.handle(submit)["events"]:
...     print(event)
{'t': 1, 'event': 'job', 'job': 'j1', 'state': 'queued'}
{'t': 1, 'event': 'job', 'job': 'j1', 'state': 'running'}
{'t': 1, 'event': 'session', 'session': 's1', 'state': 'active', 'accepting': True}
>>> server.handle({"op": "advance", "t": 11})
{'events': []}
>>> server.handle({"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"})
{'events': [{'t': 11, 'event': 'job', 'job': 'j1', 'state': 'completed'}]}
>>> server.handle({"op": "advance", "t": 80})
{'events': [{'t': 71, 'event': 'session', 'session': 's1', 'state': 'inactive', 'accepting': True}]}
>>> server.handle({"op": "shutdown"})
{'ok': True}

:func:`serve` runs that exchange over text streams; :func:`main` is the command.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, TextIO

from sessionspec.model.config import Config
from sessionspec.model.errors import InvalidInput
from sessionspec.model.inputs import Advance, input_from_dict
from sessionspec.model.policy import REFERENCE_POLICY, Policy
from sessionspec.model.step import step
from sessionspec.model.variant import REFERENCE, Variant
from sessionspec.model.world import World
from sessionspec.traces.reader import json_problem

INPUT_OPS = ("create_session", "submit", "close_session", "cancel_session", "cancel_job", "finish_job")
REQUEST_OPS = ("init", "advance", *INPUT_OPS, "shutdown")
_INIT_EXAMPLE = '{"op": "init", "config": {"interactive_ttl": 60}}'

Reply = dict[str, Any]


def _error(message: str) -> Reply:
    return {"error": message}


def _num(value: Any) -> str:
    """A time as JSON writes it (``5``, ``2.5``)."""
    return json.dumps(value)


class ModelServer:
    """The request/reply logic of ``sessionspec serve``, without any I/O.

    ``world`` is ``None`` until the first ``init``; ``finished`` turns true on
    ``shutdown``. A request that fails leaves both as they were.
    """

    def __init__(self, policy: Policy = REFERENCE_POLICY, variant: Variant = REFERENCE) -> None:
        self.policy = policy
        # the reading of the rules served (a deliberately faulty one, in tests)
        self.variant = variant
        self.world: World | None = None
        self.finished = False

    def handle(self, request: object) -> Reply:
        """Answer one request (a decoded JSON value) with exactly one of ok / events / error."""
        if not isinstance(request, dict):
            return _error(
                f"a request is a JSON object, not {_json_kind(request)}; "
                f'send for example {{"op": "advance", "t": 5}}'
            )
        if not all(isinstance(key, str) for key in request):
            return _error("a request's field names are strings; send a JSON object")
        op = request.get("op")
        if not isinstance(op, str) or op not in REQUEST_OPS:
            shown = "no 'op' field" if "op" not in request else f"op={_show(op)}"
            return _error(f"unknown request ({shown}): 'op' must be one of {', '.join(REQUEST_OPS)}")
        if op == "init":
            return self._init(request)
        if op == "shutdown":
            extra = sorted(set(request) - {"op"})
            if extra:
                return _error(
                    f'shutdown takes no other fields (got {", ".join(extra)}); send {{"op": "shutdown"}}'
                )
            self.finished = True
            return {"ok": True}
        return self._input(op, request)

    def handle_line(self, line: str) -> Reply:
        """Answer one line of the protocol: decode it as JSON, then :meth:`handle` it.

        A blank line gets an error reply too, so that every line gets exactly one reply.
        """
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes, kept as lone surrogates by main()
            return _error("the line is not valid UTF-8; send one UTF-8 JSON object per line")
        if not line.strip():
            return _error('empty line: send one JSON object per line, e.g. {"op": "advance", "t": 5}')
        try:
            request = json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            return _error(f"the line is not valid JSON ({json_problem(exc)}); send one JSON object per line")
        return self.handle(request)

    def _init(self, request: dict[str, Any]) -> Reply:
        extra = sorted(set(request) - {"op", "config"})
        if extra:
            return _error(f"init takes only 'config' (got {', '.join(extra)}); send {_INIT_EXAMPLE}")
        raw = request.get("config", {})
        try:
            config = Config.from_dict(raw)
        except InvalidInput as exc:
            return _error(f"bad init config: {exc}; the world is unchanged")
        self.world = World.empty(config._replace(variant=self.variant))
        return {"ok": True}

    def _input(self, op: str, request: dict[str, Any]) -> Reply:
        if self.world is None:
            return _error(f"no world yet: send {_INIT_EXAMPLE} before {op}")
        try:
            inp = input_from_dict(request)
        except InvalidInput as exc:
            return _error(f"bad {op} request: {exc}")
        now = self.world.now
        if isinstance(inp, Advance):
            if inp.t < now:
                return _error(
                    f"advance to t={_num(inp.t)} goes back in time: the clock is already at t={_num(now)}; "
                    f"send a time >= {_num(now)}"
                )
        elif inp.t > now:
            return _error(
                f"{op} is stamped t={_num(inp.t)} but the clock is at t={_num(now)}: advance first with "
                f'{{"op": "advance", "t": {_num(inp.t)}}}, then resend it'
            )
        elif inp.t < now:
            return _error(
                f"{op} is stamped t={_num(inp.t)} but the clock is already at t={_num(now)} and never goes "
                f"back: stamp it with the current time, t={_num(now)}"
            )
        try:
            result = step(self.world, inp, self.policy, trusted=True)
        except InvalidInput as exc:  # already validated above; kept as a safety net
            return _error(f"bad {op} request: {exc}")
        self.world = result.world
        return {"events": [o.to_dict() for o in result.observations]}


def _show(value: object) -> str:
    """A value as JSON when it is one, else its Python repr (for messages)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def encode(reply: Reply) -> str:
    """One reply as one compact JSON line (no newline), ASCII only."""
    try:
        return json.dumps(reply, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:  # pragma: no cover - replies hold JSON values only
        return json.dumps({"error": f"internal error: the reply could not be encoded ({exc})"})


def serve(stdin: TextIO, stdout: TextIO, server: ModelServer | None = None) -> int:
    """Answer requests from ``stdin`` on ``stdout``, one JSON object per line each way.

    Every input line gets exactly one reply line, flushed at once: a blank line, a line
    that is not JSON, or one that is not valid UTF-8 gets an ``{"error": ...}`` reply
    (never skipped, so a client can pair requests and replies by counting lines). The
    loop ends after the ``shutdown`` reply or at the end of input, and returns 0. A bug
    in the model also becomes an error reply; its traceback goes to standard error.
    """
    server = server if server is not None else ModelServer()
    while not server.finished:
        line = stdin.readline()
        if not line:
            break
        try:
            reply = server.handle_line(line)
        except Exception as exc:  # a model bug: answer, log, and keep serving
            traceback.print_exc(file=sys.stderr)
            reply = _error(f"internal error in the model ({type(exc).__name__}: {exc}); nothing changed")
        stdout.write(encode(reply) + "\n")
        stdout.flush()
    return 0


__all__ = ["ModelServer", "encode", "serve"]
