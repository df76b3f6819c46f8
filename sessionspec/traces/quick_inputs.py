"""A fast path for reading input records: well-formed ones accepted outright.

:func:`sessionspec.model.inputs.input_from_dict` checks a record field by field, through helpers
that name what is wrong. Most lines of a trace are well formed, so :func:`input_record`
first tries the checks that accept a record in one go; a record they do not accept
outright (an unknown key, a wrong type, an odd number) goes to ``input_from_dict``,
which decides and names the problem. The result is the same record either way, which
a test checks on arbitrary records.

>>> input_record({"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "instance": "lab"})
Submit(t=1, job='j1', backend='qpu1', session=None, start_session=False, instance='lab', ...)
>>> input_record({"t": 1, "op": "submit", "job": "", "backend": "qpu1"})
Traceback (most recent call last):
...
sessionspec.model.errors.InvalidInput: job='' is not valid: a non-empty string
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
    input_from_dict,
)

_FLOAT_MAX = sys.float_info.max
_new = tuple.__new__  # builds a NamedTuple from all its fields without its Python-level __new__

_SUBMIT_KEYS = frozenset(
    {"t", "op", "job", "backend", "session", "start_session", "instance", "max_execution_time"}
)
_CREATE_KEYS = frozenset({"t", "op", "session", "backend", "max_time"})
_SESSION_KEYS = frozenset({"t", "op", "session"})
_CANCEL_JOB_KEYS = frozenset({"t", "op", "job"})
_FINISH_KEYS = frozenset({"t", "op", "job", "outcome"})
_ADVANCE_KEYS = frozenset({"t", "op"})


def input_record(raw: Mapping[str, Any]) -> Input:
    """Validate one input record; raise :class:`~sessionspec.model.errors.InvalidInput` on a bad field."""
    return _quick(raw) or input_from_dict(raw)


def _quick(raw: Mapping[str, Any]) -> Input | None:
    """The record, if it is plainly well formed; ``None`` leaves the decision to the full checks.

    Times pass as int or float in [0, max float]: NaN and infinities fail the
    comparisons, and rarer cases (a huge integer) go to the full checks.
    """
    get = raw.get
    t = get("t")
    if not ((type(t) is int or type(t) is float) and 0 <= t <= _FLOAT_MAX):
        return None
    op = get("op")
    keys = raw.keys()
    if op == "submit":
        if not keys <= _SUBMIT_KEYS:
            return None
        job, backend, session = get("job"), get("backend"), get("session")
        start_session, instance, limit = (
            get("start_session", False),
            get("instance", "default"),
            get("max_execution_time"),
        )
        if (
            type(job) is str
            and job
            and type(backend) is str
            and backend
            and (session is None or (type(session) is str and session))
            and (start_session is False or (start_session is True and session is not None))
            and type(instance) is str
            and instance
            and (limit is None or ((type(limit) is int or type(limit) is float) and 0 < limit <= _FLOAT_MAX))
        ):
            return _new(Submit, (t, job, backend, session, start_session, instance, limit))
    elif op == "finish_job":
        job, outcome = get("job"), get("outcome")
        if (
            keys <= _FINISH_KEYS
            and type(job) is str
            and job
            and (outcome == "completed" or outcome == "failed")
            and type(outcome) is str
        ):
            return _new(FinishJob, (t, job, outcome))
    elif op == "advance":
        if keys <= _ADVANCE_KEYS:
            return _new(Advance, (t,))
    elif op == "create_session":
        session, backend, max_time = get("session"), get("backend"), get("max_time")
        if (
            keys <= _CREATE_KEYS
            and type(session) is str
            and session
            and type(backend) is str
            and backend
            and (
                max_time is None
                or ((type(max_time) is int or type(max_time) is float) and 0 < max_time <= _FLOAT_MAX)
            )
        ):
            return _new(CreateSession, (t, session, backend, max_time))
    elif op == "close_session" or op == "cancel_session":
        session = get("session")
        if keys <= _SESSION_KEYS and type(session) is str and session:
            if op == "close_session":
                return _new(CloseSession, (t, session))
            return _new(CancelSession, (t, session))
    elif op == "cancel_job":
        job = get("job")
        if keys <= _CANCEL_JOB_KEYS and type(job) is str and job:
            return _new(CancelJob, (t, job))
    return None
