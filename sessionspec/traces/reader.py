"""Reading trace files (protocol v1, section 1): a streaming, never-crashing reader.

A trace is UTF-8 JSON Lines: an optional header line, then one record per line. The
reader holds one line at a time, so a trace of any length reads in constant memory,
and every way a file can be wrong ends in one :class:`TraceError` that names the line
and says what is wrong and what would be accepted; it never raises anything else on
bad content (a failing read of the stream itself still raises :class:`OSError`).

>>> import io
>>> data = io.BytesIO(
...     b'{"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}}\\n'
...     b'{"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"}\\n'
...     b'{"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": true}\\n'
... )
>>> reader = TraceReader(data, "example.jsonl")
>>> reader.header.config.interactive_ttl, reader.header.line
(60, 1)
>>> for line, record in reader:
...     print(line, record)
2 CreateSession(t=0, session='s1', backend='qpu1', max_time=None)
3 SessionChanged(t=0, session='s1', state='pending', accepting=True)
>>> backwards = io.BytesIO(b'{"t": 5, "op": "advance"}\\n{"t": 3, "op": "advance"}\\n')
>>> try:
...     list(TraceReader(backwards, "bad.jsonl"))
... except TraceError as error:
...     print(f"{error.name}, line {error.line}: {error.reason}")
bad.jsonl, line 2: t=3 is smaller than t=5 on the line before; times in a trace never decrease

The rules, beyond the protocol's own:

- Line 1 is the header if its object has the key ``"trace"``. The header takes exactly
  the keys ``trace`` (``"sessionspec"``), ``version`` (``1``) and, optionally, ``config``
  (an object as in :meth:`sessionspec.model.config.Config.from_dict`; without it, the defaults).
  Without a header line, :attr:`TraceReader.header` is ``Header(Config(), None)``.
- A record with ``"event"`` is an observation (the ``"op"`` of a ``rejected`` event
  names the refused input); otherwise one with ``"op"`` is an input.
- A blank line (empty, or only spaces, tabs and carriage returns) is an error
  wherever it is, the end of the file included: the format is one object on every
  line. A last line without its newline is fine, and so is ``\\r\\n`` at line ends.
- A line longer than ``max_line_bytes`` (1 MiB by default, its newline not counted)
  is an error; the reader never holds more than that many bytes of it.
- The JSON must be strict: ``NaN``/``Infinity`` and an object with the same key twice
  are errors; a byte order mark at the start of the file is an error.
- A file with no line at all is an error ("the trace is empty"); a file with only a
  header is a valid trace with no records.
- The first error ends the reading: a :class:`TraceReader` does not skip lines.
"""

from __future__ import annotations

import functools
import io
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import IO, Any, NamedTuple

from sessionspec.model.config import Config, identifier, instant
from sessionspec.model.errors import InvalidInput, SessionSpecError
from sessionspec.model.inputs import Input
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.traces.quick_inputs import input_record
from sessionspec.traces.quick_lines import quick_record

__all__ = [
    "EVENTS",
    "INPUT_OPS",
    "JOB_STATES",
    "MAX_LINE_BYTES",
    "SESSION_STATES",
    "Header",
    "Record",
    "TraceError",
    "TraceReader",
    "json_problem",
    "observation_from_dict",
    "read_trace",
]

MAX_LINE_BYTES = 1 << 20
"""The default limit on the length of one line, its newline not counted."""

INPUT_OPS = (
    "create_session",
    "submit",
    "close_session",
    "cancel_session",
    "cancel_job",
    "finish_job",
    "advance",
)
"""The ``op`` names of protocol v1 inputs (also what a ``rejected`` event may name)."""

EVENTS = ("job", "session", "rejected")
JOB_STATES = ("queued", "running", "completed", "failed", "canceled")
SESSION_STATES = ("pending", "active", "inactive", "closed", "canceled", "expired")

Record = Input | Observation
"""One line after the header: an input (``op``) or an observation (``event``)."""

_TEXT_CHARS = 200
_HEADER_KEYS = ("trace", "version", "config")
_JSON_SPACE = " \t\r\n"


class TraceError(SessionSpecError, ValueError):
    """A trace cannot be read: ``line`` (1-based) and ``reason`` say where and why.

    ``reason`` says what is wrong and what would be accepted; ``text`` is the offending
    line (cut to about 200 characters) when there is one; ``name`` is the file's name.
    """

    def __init__(self, line: int, reason: str, text: str | None = None, *, name: str | None = None) -> None:
        self.line = line
        self.reason = reason
        self.text = text
        self.name = name
        where = f"{name}:{line}" if name else f"line {line}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the fields (the default would pass only the message).
        return (functools.partial(TraceError, name=self.name), (self.line, self.reason, self.text))


class Header(NamedTuple):
    """The trace's configuration and the line it came from (``None``: no header line)."""

    config: Config
    line: int | None


# --- observations ------------------------------------------------------------------

_JOB_KEYS = frozenset({"t", "event", "job", "state", "reason"})
_SESSION_KEYS = frozenset({"t", "event", "session", "state", "accepting"})
_REJECTED_KEYS = frozenset({"t", "event", "op", "reason", "job", "session"})
_JOB_STATE_SET = frozenset(JOB_STATES)
_SESSION_STATE_SET = frozenset(SESSION_STATES)
_INPUT_OP_SET = frozenset(INPUT_OPS)
_FLOAT_MAX = sys.float_info.max
_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__


def _check_keys(
    raw: Mapping[str, Any], event: str, allowed: frozenset[str], required: tuple[str, ...]
) -> None:
    if not raw.keys() <= allowed:
        extra = sorted(set(raw) - allowed)[0]
        raise InvalidInput(extra, raw[extra], f"a {event} event takes only {', '.join(sorted(allowed))}")
    for key in required:
        if key not in raw:
            raise InvalidInput(key, None, f"a {event} event needs the field {key!r}")


def _one_of(value: object, where: str, allowed: frozenset[str], names: tuple[str, ...]) -> str:
    if type(value) is not str or value not in allowed:
        raise InvalidInput(where, value, f"one of {', '.join(names)}")
    return value


def _optional_id(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None else identifier(value, key)


def observation_from_dict(raw: Mapping[str, Any]) -> Observation:
    """Validate one observation record; raise :class:`InvalidInput` naming the bad field.

    >>> observation_from_dict({"t": 1, "event": "job", "job": "j1", "state": "queued"})
    JobChanged(t=1, job='j1', state='queued', reason=None)
    >>> try:
    ...     observation_from_dict({"t": 1, "event": "session", "session": "s1", "state": "active"})
    ... except InvalidInput as problem:
    ...     print(problem)
    accepting=None is not valid: a session event needs the field 'accepting'
    """
    # A fast path for well-formed records; anything it does not accept outright goes
    # through _observation_checked, which decides (and names what is wrong).
    # The time check lets through int and float in [0, max float]: NaN and infinities
    # fail the comparisons, and the rarer cases are left to the full checks.
    get = raw.get
    event = get("event")
    if event == "job" and raw.keys() <= _JOB_KEYS:
        t, job, state, reason = get("t"), get("job"), get("state"), get("reason")
        if (
            (type(t) is int or type(t) is float)
            and 0 <= t <= _FLOAT_MAX
            and type(job) is str
            and job
            and type(state) is str
            and state in _JOB_STATE_SET
            and (reason is None or type(reason) is str)
        ):
            return _new(JobChanged, (t, job, state, reason))
    elif event == "session" and raw.keys() <= _SESSION_KEYS:
        t, session, state, accepting = get("t"), get("session"), get("state"), get("accepting")
        if (
            (type(t) is int or type(t) is float)
            and 0 <= t <= _FLOAT_MAX
            and type(session) is str
            and session
            and type(state) is str
            and state in _SESSION_STATE_SET
            and type(accepting) is bool
        ):
            return _new(SessionChanged, (t, session, state, accepting))
    elif event == "rejected" and raw.keys() <= _REJECTED_KEYS:
        t, op, reason, job, session = get("t"), get("op"), get("reason"), get("job"), get("session")
        if (
            (type(t) is int or type(t) is float)
            and 0 <= t <= _FLOAT_MAX
            and type(op) is str
            and op in _INPUT_OP_SET
            and type(reason) is str
            and (job is None or (type(job) is str and job))
            and (session is None or (type(session) is str and session))
        ):
            return _new(Rejected, (t, op, reason, job, session))
    return _observation_checked(raw)


def _observation_checked(raw: Mapping[str, Any]) -> Observation:
    """The reference validation: every check spelled out, each failure named."""
    event = raw.get("event")
    if event == "job":
        _check_keys(raw, "job", _JOB_KEYS, ("t", "job", "state"))
        reason = raw.get("reason")
        if reason is not None and type(reason) is not str:
            raise InvalidInput("reason", reason, "a string (free words for people) or null")
        return JobChanged(
            instant(raw["t"], "t"),
            identifier(raw["job"], "job"),
            _one_of(raw["state"], "state", _JOB_STATE_SET, JOB_STATES),
            reason,
        )
    if event == "session":
        _check_keys(raw, "session", _SESSION_KEYS, ("t", "session", "state", "accepting"))
        accepting = raw["accepting"]
        if type(accepting) is not bool:
            raise InvalidInput("accepting", accepting, "true or false")
        return SessionChanged(
            instant(raw["t"], "t"),
            identifier(raw["session"], "session"),
            _one_of(raw["state"], "state", _SESSION_STATE_SET, SESSION_STATES),
            accepting,
        )
    if event == "rejected":
        _check_keys(raw, "rejected", _REJECTED_KEYS, ("t", "op", "reason"))
        reason = raw["reason"]
        if type(reason) is not str:
            raise InvalidInput("reason", reason, "a string (free words for people)")
        return Rejected(
            instant(raw["t"], "t"),
            _one_of(raw["op"], "op", _INPUT_OP_SET, INPUT_OPS),
            reason,
            _optional_id(raw, "job"),
            _optional_id(raw, "session"),
        )
    raise InvalidInput("event", event, f"one of {', '.join(EVENTS)}")


# --- strict JSON -------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


class _NotANumber(ValueError):
    def __init__(self, literal: str) -> None:
        self.literal = literal
        super().__init__(literal)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:  # pragma: no branch - a duplicate is there
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _constant(literal: str) -> Any:
    raise _NotANumber(literal)


# The strict decoder refuses duplicate keys through a hook, which doubles the cost of a
# parse. The fast one has no hook; a line it parses counts as duplicate-free when its
# object has as many keys as the line has colons: a colon is in every key-value pair
# (nested ones included), so the count is at least the number of pairs, itself at least
# the number of distinct keys. Any other line (a colon in a string, a nested object) is
# parsed again by the strict decoder, which decides.
# Python's refusal of an integer too long to convert (sys.get_int_max_str_digits)
_TOO_MANY_DIGITS = re.compile(r"value has (\d+) digits")
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(parse_constant=_constant).scan_once  # type: ignore[attr-defined]


def _show(value: object, limit: int = 80) -> str:
    """A JSON value as a user wrote it, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - parsed JSON always dumps
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(raw: bytes) -> str:
    text = raw[: _TEXT_CHARS * 4].decode("utf-8", "replace").rstrip("\r\n")
    return text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + "…"


def _parse_slow(raw: bytes, line: int) -> tuple[Any, str | None]:
    """The JSON value of a line the fast parse refused, or why it has none."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, (
            f"not UTF-8: byte {exc.start + 1} of the line (0x{raw[exc.start]:02x}) cannot start or "
            "continue a UTF-8 character; save the trace as UTF-8 text"
        )
    if line == 1 and s.startswith("\ufeff"):
        return None, "the file starts with a byte order mark; save it as UTF-8 without a BOM"
    if not s.strip(_JSON_SPACE):
        return (
            None,
            "the line is blank; a trace has exactly one JSON object on every line (remove empty lines)",
        )
    try:
        return _DECODER.decode(s), None
    except _DuplicateKey as exc:
        return None, f"the key {_show(exc.key)} appears twice in one object; give each field once"
    except _NotANumber as exc:
        return None, f"{exc.literal} is not JSON; times and durations are finite numbers"
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {json_problem(exc)}"
    except RecursionError:
        return None, "not JSON this reader accepts: values nested too deeply"
    except ValueError as exc:  # e.g. an integer with thousands of digits
        return None, f"not JSON this reader accepts: {json_problem(exc)}"


def json_problem(exc: ValueError | RecursionError) -> str:
    """What is wrong with text ``json.loads`` refused, in words for whoever wrote it.

    >>> try:
    ...     json.loads('{"job": "j1')
    ... except ValueError as exc:
    ...     json_problem(exc)
    'Unterminated string starting at column 9'
    """
    if isinstance(exc, json.JSONDecodeError):  # some messages end in "at" ("Invalid control character at")
        return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "values nested too deeply"
    digits = _TOO_MANY_DIGITS.search(str(exc))
    if digits:  # Python's own message tells a programmer how to lift its limit
        return (
            f"a number has too many digits ({int(digits.group(1)):,}); numbers have at most "
            f"{sys.get_int_max_str_digits():,} digits"
        )
    return str(exc)


def _record_reason(obj: dict[str, Any], first: bool) -> str:
    """Why an object has neither ``op`` nor ``event``."""
    if "trace" in obj:
        return "a header is allowed only on the first line"
    reason = 'a record needs "op" (an input) or "event" (an observation), and "t"'
    if first and ("version" in obj or "config" in obj):
        reason += '; a header line needs "trace": "sessionspec"'
    return reason


def _invalid_reason(exc: InvalidInput, obj: Mapping[str, Any] | None) -> str:
    if obj is not None and exc.value is None and exc.field not in obj:
        return f"the field {exc.field!r} is missing: {exc.hint}"
    return f"{exc.field}={_show(exc.value)} is not valid: {exc.hint}"


# --- the reader --------------------------------------------------------------------


class TraceReader:
    """Read a trace from a binary stream, one line at a time.

    ``stream`` is anything with ``readline(size)`` returning bytes: a file opened with
    ``"rb"``, ``sys.stdin.buffer``, :class:`io.BytesIO`. (A raw unbuffered stream works
    but reads byte by byte; wrap it in :class:`io.BufferedReader`.) ``name`` appears in
    error messages. Iterating yields ``(line_number, record)`` for every record after
    the header and can be done once; :attr:`header` (or :meth:`read_header`) reads the
    header first if need be. Every problem in the content raises :class:`TraceError`,
    and the reader stays broken after it. With ``close=True`` the reader closes the
    stream when the iteration ends or at :meth:`close`; it is also a context manager.
    """

    def __init__(
        self,
        stream: IO[bytes],
        name: str = "<trace>",
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        close: bool = False,
    ) -> None:
        if isinstance(stream, io.TextIOBase):
            raise TypeError("open the trace in binary mode ('rb'), or read sys.stdin.buffer")
        if max_line_bytes < 1:
            raise ValueError(f"max_line_bytes={max_line_bytes} must be at least 1")
        self.name = name
        self.max_line_bytes = max_line_bytes
        self._stream = stream
        self._readline = stream.readline
        self._close = close
        self._header: Header | None = None
        self._first: tuple[dict[str, Any], bytes] | None = None  # line 1, when it is a record
        self._failure: TraceError | None = None
        self._started = False

    # -- public ---------------------------------------------------------------------

    @property
    def header(self) -> Header:
        """The header (reading it now if not read yet)."""
        return self.read_header()

    def read_header(self) -> Header:
        """Read the first line if not done yet and return the header it gives."""
        if self._header is None:
            if self._failure is not None:
                raise self._failure
            try:
                self._header = self._read_header()
            except TraceError as exc:
                self._failure = exc
                raise
        return self._header

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        if self._started:
            raise RuntimeError("a TraceReader reads its stream once; make a new one to read again")
        self._started = True
        return self._records()

    def close(self) -> None:
        """Close the stream if this reader owns it (``close=True``)."""
        if self._close:
            self._stream.close()

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------

    def _error(self, line: int, reason: str, raw: bytes | None = None) -> TraceError:
        return TraceError(line, reason, None if raw is None else _text(raw), name=self.name)

    def _too_long(self, raw: bytes, line: int) -> TraceError:
        return self._error(
            line,
            f"the line is longer than {self.max_line_bytes} bytes; a record is one short JSON object "
            "(is this a trace file?)",
            raw,
        )

    def _load_slow(self, raw: bytes, line: int) -> dict[str, Any]:
        """A line the fast parse did not settle (leading spaces, colons in strings, errors)."""
        obj, reason = _parse_slow(raw, line)
        if reason is not None:
            raise self._error(line, reason, raw)
        if type(obj) is not dict:
            kind = "an array" if type(obj) is list else f"the value {_show(obj, 40)}"
            raise self._error(line, f"the line holds {kind}, not a JSON object {{...}}", raw)
        return obj

    def _load(self, raw: bytes, line: int) -> dict[str, Any]:
        """One line as a JSON object, or a TraceError (the hot loop inlines this)."""
        if len(raw) > self.max_line_bytes and raw[-1] != 10:
            raise self._too_long(raw, line)
        try:
            s = raw.decode()
            obj, end = _SCAN(s, 0)
        except (ValueError, StopIteration, RecursionError):
            return self._load_slow(raw, line)
        if (
            type(obj) is not dict
            or len(obj) != s.count(":")
            or (end != len(s) and s[end:].strip(_JSON_SPACE))
        ):
            return self._load_slow(raw, line)
        return obj

    def _read_header(self) -> Header:
        raw = self._readline(self.max_line_bytes + 1)
        if not raw:
            raise self._error(1, "the trace is empty: give at least a header or one record")
        obj = self._load(raw, 1)
        if "trace" not in obj:
            self._first = (obj, raw)
            return Header(Config(), None)
        extra = [key for key in obj if key not in _HEADER_KEYS]
        if extra:
            reason = (
                f'the header takes only the keys "trace", "version" and "config"; '
                f"{_show(extra[0])} is not one of them"
            )
            raise self._error(1, reason, raw)
        if type(obj["trace"]) is not str or obj["trace"] != "sessionspec":
            raise self._error(1, f'"trace" must be "sessionspec", not {_show(obj["trace"])}', raw)
        if "version" not in obj:
            raise self._error(1, 'the header needs "version": 1', raw)
        version = obj["version"]
        if type(version) is not int or version != 1:
            raise self._error(
                1, f"version {_show(version)} is not supported; this reader understands version 1", raw
            )
        try:
            config = Config.from_dict(obj.get("config", {}))
        except InvalidInput as exc:
            raise self._error(1, f"bad config in the header: {_invalid_reason(exc, None)}", raw) from None
        return Header(config, 1)

    def _record(self, obj: dict[str, Any], line: int, raw: bytes) -> Record:
        try:
            if "event" in obj:
                return observation_from_dict(obj)
            if "op" in obj:
                return input_record(obj)
        except InvalidInput as exc:
            raise self._error(line, _invalid_reason(exc, obj), raw) from None
        raise self._error(line, _record_reason(obj, line == 1), raw)

    def _records(self) -> Iterator[tuple[int, Record]]:
        # One generator, not two: its frame is resumed once per line.
        try:
            self.read_header()
            previous: Any = 0
            if self._first is not None:
                obj, raw = self._first
                self._first = None
                first = self._record(obj, 1, raw)
                previous = first.t
                yield 1, first
            # The per-line path: _load and _record inlined, the rare cases sent to methods.
            readline = self._readline
            limit = self.max_line_bytes
            size = limit + 1
            scan = _SCAN
            space = _JSON_SPACE
            from_input = input_record
            from_observation = observation_from_dict
            line = 1  # read_header has read line 1
            quick = quick_record
            while raw := readline(size):
                line += 1
                if len(raw) > limit and raw[-1] != 10:
                    raise self._too_long(raw, line)
                record: Record | None = quick(raw)  # a plainly written line; None: the JSON reader decides
                if record is None:
                    try:
                        s = raw.decode()
                        obj, end = scan(s, 0)
                    except (ValueError, StopIteration, RecursionError):
                        obj = self._load_slow(raw, line)
                    else:
                        if (
                            type(obj) is not dict
                            or len(obj) != s.count(":")
                            or (end != len(s) and s[end:].strip(space))
                        ):
                            obj = self._load_slow(
                                raw, line
                            )  # not an object, perhaps a duplicate key, extra data
                    try:
                        if "event" in obj:  # a rejected event has an "op" field too
                            record = from_observation(obj)
                        elif "op" in obj:
                            record = from_input(obj)
                        else:
                            record = self._record(obj, line, raw)  # raises: neither
                    except InvalidInput as exc:
                        raise self._error(line, _invalid_reason(exc, obj), raw) from None
                t = record.t
                if t < previous:
                    raise self._error(
                        line,
                        f"t={_show(t)} is smaller than t={_show(previous)} on the line before; "
                        "times in a trace never decrease",
                        raw,
                    )
                previous = t
                yield line, record
        except TraceError as exc:
            self._failure = exc
            raise
        finally:
            self.close()


def read_trace(path_or_dash: str, *, max_line_bytes: int = MAX_LINE_BYTES) -> TraceReader:
    """Open a trace file (``"-"``: standard input) for reading.

    The returned reader closes the file when its iteration ends, or at the end of a
    ``with`` block (standard input is never closed). Opening a missing file raises
    :class:`OSError`, as usual:

    >>> with read_trace("no/such/trace.jsonl") as trace:
    ...     pass
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'no/such/trace.jsonl'
    """
    if path_or_dash == "-":
        return TraceReader(sys.stdin.buffer, "<stdin>", max_line_bytes=max_line_bytes)
    stream = open(path_or_dash, "rb")  # noqa: SIM115 - the reader owns and closes it
    return TraceReader(stream, path_or_dash, max_line_bytes=max_line_bytes, close=True)
