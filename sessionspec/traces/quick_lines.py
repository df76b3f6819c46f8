r"""Recognizing plainly written record lines without the general JSON reader.

Most traces are written by a JSON library in the protocol's own key order, as
``json.dumps`` writes :meth:`~sessionspec.model.observations.JobChanged.to_dict` or
:func:`~sessionspec.model.inputs.input_to_dict`: ``{"t": 12, "event": "job", "job": "j1",
"state": "running"}``. :func:`quick_record` matches such a line with one regular
expression per record kind and builds its record directly, which is about twice as
fast as parsing the JSON and checking each field. It accepts only lines whose value is
plain: identifiers and reasons of printable ASCII without quotes or escapes, times
and durations of at most 15 digits (with an optional fraction), the keys in that order,
no other key, at most one space after a comma or colon. Anything else returns ``None``
and goes through the general reader, which decides and names any problem; a test
checks on generated lines that both give the same record.

>>> quick_record(b'{"t": 1, "event": "job", "job": "j1", "state": "running"}\n')
JobChanged(t=1, job='j1', state='running', reason=None)
>>> quick_record(b'{"t": 1, "op": "submit", "job": "j1", "backend": "q", "start_session": true}\n') is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Submit,
)
from sessionspec.model.observations import JobChanged, Rejected, SessionChanged
from sessionspec.traces.records import Record

_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__

_NUMBER = rb"(0|[1-9][0-9]{0,14}|(?:0|[1-9][0-9]{0,14})\.[0-9]{1,17})"
_ID = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]+)"'  # printable ASCII, no quote, no backslash
_TEXT = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]*)"'
_END = rb"\}[ \t\r]*\n?"
_OPS = rb"(create_session|submit|close_session|cancel_session|cancel_job|finish_job|advance)"
_JOB_STATES = rb'"(' + "|".join(JOB.states).encode() + rb')"'
_SESSION_STATES = rb'"(' + "|".join(SESSION.states).encode() + rb')"'


def _field(name: bytes, value: bytes) -> bytes:
    return rb', ?"' + name + rb'": ?' + value


def _optional(name: bytes, value: bytes) -> bytes:
    return rb"(?:" + _field(name, value) + rb")?"


# The time, then the record's kind: an event's name or an input's op.
_HEAD = re.compile(
    rb'\{"t": ?(0|[1-9][0-9]{0,14})(\.[0-9]{1,17})?, ?"'
    rb'(?:event": ?"(job|session|rejected)|op": ?"' + _OPS + rb')"'
)

_EVENT_PATTERNS = {
    b"job": _field(b"job", _ID) + _field(b"state", _JOB_STATES) + _optional(b"reason", _TEXT),
    b"session": _field(b"session", _ID)
    + _field(b"state", _SESSION_STATES)
    + _field(b"accepting", rb"(true|false)"),
    b"rejected": _field(b"op", rb'"' + _OPS + rb'"')
    + _optional(b"job", _ID)
    + _optional(b"session", _ID)
    + _field(b"reason", _TEXT),
}
_INPUT_PATTERNS = {
    b"submit": _field(b"job", _ID)
    + _field(b"backend", _ID)
    + _optional(b"session", _ID)
    + _optional(b"start_session", rb"(true|false)")
    + _optional(b"instance", _ID)
    + _optional(b"max_execution_time", _NUMBER),
    b"create_session": _field(b"session", _ID) + _field(b"backend", _ID) + _optional(b"max_time", _NUMBER),
    b"close_session": _field(b"session", _ID),
    b"cancel_session": _field(b"session", _ID),
    b"cancel_job": _field(b"job", _ID),
    b"finish_job": _field(b"job", _ID) + _field(b"outcome", rb'"(completed|failed)"'),
    b"advance": b"",
}

# The fixed words (states, ops), as the strings the general reader makes of them.
_WORDS = {word.encode(): word for word in (*JOB.states, *SESSION.states)}
_WORDS.update((op, op.decode()) for op in _INPUT_PATTERNS)


def _duration(text: bytes | None) -> int | float | None:
    """A duration given, or None when absent; raises ValueError for one that is not > 0."""
    if text is None:
        return None
    value = float(text) if b"." in text else int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _job(t: Any, g: tuple[Any, ...]) -> Record:
    return _new(JobChanged, (t, g[0].decode(), _WORDS[g[1]], None if g[2] is None else g[2].decode()))


def _session(t: Any, g: tuple[Any, ...]) -> Record:
    return _new(SessionChanged, (t, g[0].decode(), _WORDS[g[1]], g[2] == b"true"))


def _rejected(t: Any, g: tuple[Any, ...]) -> Record:
    return _new(Rejected, (t, _WORDS[g[0]], g[3].decode(), _text(g[1]), _text(g[2])))


def _submit(t: Any, g: tuple[Any, ...]) -> Record:
    job, backend, session, start, instance, limit = g
    start_session = start == b"true"
    if start_session and session is None:
        raise ValueError("start_session without a session")
    return _new(
        Submit,
        (
            t,
            job.decode(),
            backend.decode(),
            _text(session),
            start_session,
            "default" if instance is None else instance.decode(),
            _duration(limit),
        ),
    )


_Build = Callable[[Any, tuple[Any, ...]], Record]
_EVENT_BUILDS: dict[bytes, _Build] = {b"job": _job, b"session": _session, b"rejected": _rejected}
_INPUT_BUILDS: dict[bytes, _Build] = {
    b"submit": _submit,
    b"create_session": lambda t, g: _new(CreateSession, (t, g[0].decode(), g[1].decode(), _duration(g[2]))),
    b"close_session": lambda t, g: _new(CloseSession, (t, g[0].decode())),
    b"cancel_session": lambda t, g: _new(CancelSession, (t, g[0].decode())),
    b"cancel_job": lambda t, g: _new(CancelJob, (t, g[0].decode())),
    b"finish_job": lambda t, g: _new(FinishJob, (t, g[0].decode(), _WORDS[g[1]])),
    b"advance": lambda t, g: _new(Advance, (t,)),
}


def _compiled(patterns: dict[bytes, bytes], builds: dict[bytes, _Build]) -> dict[bytes, tuple[Any, _Build]]:
    return {name: (re.compile(pattern + _END).fullmatch, builds[name]) for name, pattern in patterns.items()}


_EVENTS = _compiled(_EVENT_PATTERNS, _EVENT_BUILDS)
_INPUTS = _compiled(_INPUT_PATTERNS, _INPUT_BUILDS)
_match_head = _HEAD.match


def quick_record(raw: bytes) -> Record | None:
    """The record of a plainly written line; ``None`` when the general reader must decide."""
    head = _match_head(raw)
    if head is None:
        return None
    whole, fraction, event, op = head.groups()
    match, build = _EVENTS[event] if event is not None else _INPUTS[op]
    found = match(raw, head.end())
    if found is None:
        return None
    try:
        return build(int(whole) if fraction is None else float(whole + fraction), found.groups())
    except ValueError:  # a duration not > 0, start_session without a session: let the checks say
        return None
