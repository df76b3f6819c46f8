r"""Recognizing plainly written record lines without the general JSON reader.

Most traces are written by a JSON library in the protocol's own key order, as
``json.dumps`` writes :meth:`~model.observations.JobChanged.to_dict` or
:func:`~model.inputs.input_to_dict`: ``{"t": 12, "event": "job", "job": "j1",
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

from model.inputs import Advance, CancelJob, CancelSession, CloseSession, CreateSession, FinishJob, Submit
from model.observations import JobChanged, Rejected, SessionChanged
from sessionspec.traces import Record

_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__

_NUMBER = rb"(0|[1-9][0-9]{0,14}|(?:0|[1-9][0-9]{0,14})\.[0-9]{1,17})"
_ID = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]+)"'  # printable ASCII, no quote, no backslash
_TEXT = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]*)"'
_END = rb"\}[ \t\r]*\n?"
_OPS = rb"(create_session|submit|close_session|cancel_session|cancel_job|finish_job|advance)"


def _field(name: bytes, value: bytes) -> bytes:
    return rb', ?"' + name + rb'": ?' + value


def _optional(name: bytes, value: bytes) -> bytes:
    return rb"(?:" + _field(name, value) + rb")?"


_PREFIX = re.compile(rb'\{"t": ?' + _NUMBER + rb', ?"(event|op)": ?"([a-z_]+)"')

_PATTERNS: dict[tuple[bytes, bytes], bytes] = {
    (b"event", b"job"): _field(b"job", _ID)
    + _field(b"state", rb'"(queued|running|completed|failed|canceled)"')
    + _optional(b"reason", _TEXT),
    (b"event", b"session"): _field(b"session", _ID)
    + _field(b"state", rb'"(pending|active|inactive|closed|canceled|expired)"')
    + _field(b"accepting", rb"(true|false)"),
    (b"event", b"rejected"): _field(b"op", rb'"' + _OPS + rb'"')
    + _optional(b"job", _ID)
    + _optional(b"session", _ID)
    + _field(b"reason", _TEXT),
    (b"op", b"submit"): _field(b"job", _ID)
    + _field(b"backend", _ID)
    + _optional(b"session", _ID)
    + _optional(b"start_session", rb"(true|false)")
    + _optional(b"instance", _ID)
    + _optional(b"max_execution_time", _NUMBER),
    (b"op", b"create_session"): _field(b"session", _ID)
    + _field(b"backend", _ID)
    + _optional(b"max_time", _NUMBER),
    (b"op", b"close_session"): _field(b"session", _ID),
    (b"op", b"cancel_session"): _field(b"session", _ID),
    (b"op", b"cancel_job"): _field(b"job", _ID),
    (b"op", b"finish_job"): _field(b"job", _ID) + _field(b"outcome", rb'"(completed|failed)"'),
    (b"op", b"advance"): b"",
}


def _number(text: bytes) -> int | float:
    return float(text) if b"." in text else int(text)


def _duration(text: bytes | None) -> int | float | None:
    """A duration given, or None when absent; raises ValueError for one that is not > 0."""
    if text is None:
        return None
    value = _number(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


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


_BUILD: dict[tuple[bytes, bytes], Callable[[Any, tuple[Any, ...]], Record]] = {
    (b"event", b"job"): lambda t, g: _new(JobChanged, (t, g[0].decode(), g[1].decode(), _text(g[2]))),
    (b"event", b"session"): lambda t, g: _new(
        SessionChanged, (t, g[0].decode(), g[1].decode(), g[2] == b"true")
    ),
    (b"event", b"rejected"): lambda t, g: _new(
        Rejected, (t, g[0].decode(), g[3].decode(), _text(g[1]), _text(g[2]))
    ),
    (b"op", b"submit"): _submit,
    (b"op", b"create_session"): lambda t, g: _new(
        CreateSession, (t, g[0].decode(), g[1].decode(), _duration(g[2]))
    ),
    (b"op", b"close_session"): lambda t, g: _new(CloseSession, (t, g[0].decode())),
    (b"op", b"cancel_session"): lambda t, g: _new(CancelSession, (t, g[0].decode())),
    (b"op", b"cancel_job"): lambda t, g: _new(CancelJob, (t, g[0].decode())),
    (b"op", b"finish_job"): lambda t, g: _new(FinishJob, (t, g[0].decode(), g[1].decode())),
    (b"op", b"advance"): lambda t, g: _new(Advance, (t,)),
}

_REST = {kind: (re.compile(pattern + _END).fullmatch, _BUILD[kind]) for kind, pattern in _PATTERNS.items()}
_match_prefix = _PREFIX.match


def quick_record(raw: bytes) -> Record | None:
    """The record of a plainly written line; ``None`` when the general reader must decide."""
    head = _match_prefix(raw)
    if head is None:
        return None
    time, field, name = head.groups()
    rest = _REST.get((field, name))
    if rest is None:
        return None
    match, build = rest
    found = match(raw, head.end())
    if found is None:
        return None
    try:
        return build(_number(time), found.groups())
    except ValueError:  # a duration not > 0, start_session without a session: let the checks say
        return None
