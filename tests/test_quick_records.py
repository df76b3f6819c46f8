"""The reader's fast paths give exactly what the full checks give, or leave the line to them."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.model.errors import InvalidInput
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Submit,
    input_from_dict,
)
from sessionspec.model.observations import JobChanged, Rejected, SessionChanged
from sessionspec.traces.quick_inputs import input_record
from sessionspec.traces.quick_lines import quick_record
from sessionspec.traces.reader import INPUT_OPS, JOB_STATES, SESSION_STATES, TraceError, TraceReader
from sessionspec.traces.records import Record, record_to_dict

HEADER = b'{"trace": "sessionspec", "version": 1}\n'

ids = st.sampled_from(["j1", "j20", "s1", "qpu1", "lab-a", "a b", "x:y", "é", 'q"q', "b\\s", ""])
numbers = st.one_of(
    st.integers(-2, 10**6),
    st.sampled_from([0, 0.0, 1.5, 1e-7, 10**15, 10**16, 2**1024, 1e300]),
    st.floats(-1, 1e6, allow_nan=False, allow_infinity=False),
)
texts = st.sampled_from(["", "because", "a\\b", "tab\there", "é", "x\x7fy"])

records = st.one_of(
    st.builds(CreateSession, numbers, ids, ids, st.none() | numbers),
    st.builds(Submit, numbers, ids, ids, st.none() | ids, st.booleans(), ids, st.none() | numbers),
    st.builds(CloseSession, numbers, ids),
    st.builds(CancelSession, numbers, ids),
    st.builds(CancelJob, numbers, ids),
    st.builds(FinishJob, numbers, ids, st.sampled_from(["completed", "failed", "done"])),
    st.builds(Advance, numbers),
    st.builds(JobChanged, numbers, ids, st.sampled_from([*JOB_STATES, "gone"]), st.none() | texts),
    st.builds(SessionChanged, numbers, ids, st.sampled_from(SESSION_STATES), st.booleans()),
    st.builds(Rejected, numbers, st.sampled_from(INPUT_OPS), texts, st.none() | ids, st.none() | ids),
)


def full_reading(line: bytes) -> object:
    """What the reader makes of one record line without the fast path: the record, or the error."""
    reader = TraceReader(io.BytesIO(HEADER + line))
    reader.read_header()
    try:
        return reader._record(json.loads(line), 2, line)
    except (TraceError, ValueError) as error:
        return ("error", type(error).__name__)


def written(record: Record, data: st.DataObject) -> bytes:
    """The record as a line, as some JSON library might write it."""
    raw: dict[str, Any] = record_to_dict(record)
    if data.draw(st.booleans()):
        raw.update(data.draw(st.dictionaries(st.sampled_from(["session", "start_session", "x"]), st.none())))
    separators = data.draw(st.sampled_from([(", ", ": "), (",", ":"), (", ", ":")]))
    ending = data.draw(st.sampled_from([b"\n", b"\r\n", b"", b" \n"]))
    return json.dumps(raw, separators=separators, ensure_ascii=data.draw(st.booleans())).encode() + ending


@settings(max_examples=600)
@given(records, st.data())
def test_quick_lines_read_as_the_full_reader_reads_them(record: Record, data: st.DataObject) -> None:
    """A line the fast path recognizes gives the very record (field types too) the full reader gives."""
    line = written(record, data)
    quick = quick_record(line)
    if quick is not None:
        full = full_reading(line)
        assert quick == full and isinstance(full, tuple)
        assert [type(value) for value in quick] == [type(value) for value in full]


@settings(max_examples=300)
@given(records, st.data())
def test_damaged_quick_lines_are_never_misread(record: Record, data: st.DataObject) -> None:
    """A plainly written line with one byte changed is either left to the full reader or read alike."""
    line = bytearray(json.dumps(record_to_dict(record)).encode() + b"\n")
    index = data.draw(st.integers(0, len(line) - 1))
    line[index] = data.draw(st.sampled_from(b' "\\:,{}0.5-etnx\n\x00\xc3'))
    quick = quick_record(bytes(line))
    if quick is not None:
        assert quick == full_reading(bytes(line))


def test_plain_lines_of_every_kind_take_the_fast_path() -> None:
    """Lines as json.dumps writes the model's records are all recognized."""
    lines = [
        b'{"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": 45}',
        b'{"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "start_session": true}',
        b'{"t": 1.5, "op": "close_session", "session": "s1"}',
        b'{"t": 2, "op": "cancel_session", "session": "s1"}',
        b'{"t": 2, "op": "cancel_job", "job": "j1"}',
        b'{"t": 2, "op": "finish_job", "job": "j1", "outcome": "failed"}',
        b'{"t": 3, "op": "advance"}',
        b'{"t": 3, "event": "job", "job": "j1", "state": "failed", "reason": "limit: 10 s"}',
        b'{"t": 3, "event": "session", "session": "s1", "state": "closed", "accepting": false}',
        b'{"t": 3, "event": "rejected", "op": "submit", "job": "j2", "session": "s1", "reason": "closed"}',
    ]
    for line in lines:
        quick = quick_record(line + b"\n")
        assert quick is not None and quick == full_reading(line + b"\n"), line


input_keys = st.sampled_from(
    ["t", "op", "job", "session", "backend", "outcome", "instance", "max_time", "start_session", "x"]
)
input_values = st.one_of(
    st.sampled_from([*INPUT_OPS, "j1", "", "completed", "failed", True, False, None, 0, -1, 1.5, 2**1024]),
    st.integers(0, 100),
)


@settings(max_examples=800)
@given(st.dictionaries(input_keys, input_values, max_size=7), st.sampled_from([*INPUT_OPS, "x"]))
def test_input_fast_path_agrees_with_the_full_checks(raw: dict[str, Any], op: str) -> None:
    """input_record gives what input_from_dict gives: the same record, or the same refused field."""
    raw["op"] = op

    def outcome(validate: Any) -> object:
        """The record with its field types, or the name of the field refused."""
        try:
            record = validate(raw)
        except InvalidInput as error:
            return error.field
        return record, [type(value) for value in record]

    assert outcome(input_record) == outcome(input_from_dict)
