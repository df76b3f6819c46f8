"""The trace-file reader: protocol v1 section 1 read back exactly, every bad file a TraceError, streaming."""

from __future__ import annotations

import io
import json
import pickle
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionspec.model.config import Config
from sessionspec.model.errors import InvalidInput, SessionSpecError
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Submit,
    input_from_dict,
    input_to_dict,
)
from sessionspec.model.observations import JobChanged, Rejected, SessionChanged
from sessionspec.traces.reader import (
    INPUT_OPS,
    JOB_STATES,
    SESSION_STATES,
    Header,
    Record,
    TraceError,
    TraceReader,
    _observation_checked,
    observation_from_dict,
    read_trace,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

EXAMPLE = b"""\
{"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}}
{"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"}
{"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": true}
{"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 600}
{"t": 1, "event": "job", "job": "j1", "state": "queued"}
{"t": 1, "event": "job", "job": "j1", "state": "running"}
{"t": 1, "event": "session", "session": "s1", "state": "active", "accepting": true}
{"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"}
{"t": 11, "event": "job", "job": "j1", "state": "completed"}
{"t": 71, "event": "session", "session": "s1", "state": "inactive", "accepting": true}
{"t": 80, "op": "advance"}
"""

HEADER = b'{"trace": "sessionspec", "version": 1}\n'


def read(data: bytes, max_line_bytes: int = 1 << 20) -> tuple[Header, list[tuple[int, Record]]]:
    """Read a whole trace held in memory: its header and its numbered records."""
    reader = TraceReader(io.BytesIO(data), "test.jsonl", max_line_bytes=max_line_bytes)
    records = list(reader)
    return reader.header, records


def error_of(data: bytes, max_line_bytes: int = 1 << 20) -> TraceError:
    """The TraceError that reading ``data`` must raise."""
    with pytest.raises(TraceError) as info:
        read(data, max_line_bytes)
    return info.value


# --- good traces ---------------------------------------------------------------------


def test_protocol_example_reads_back_as_its_records() -> None:
    """The example of protocol v1 section 1 gives its header and exactly its records, numbered."""
    header, records = read(EXAMPLE)
    assert header == Header(Config(interactive_ttl=60), 1)
    assert records == [
        (2, CreateSession(0, "s1", "qpu1")),
        (3, SessionChanged(0, "s1", "pending", True)),
        (4, Submit(1, "j1", "qpu1", session="s1", max_execution_time=600)),
        (5, JobChanged(1, "j1", "queued")),
        (6, JobChanged(1, "j1", "running")),
        (7, SessionChanged(1, "s1", "active", True)),
        (8, FinishJob(11, "j1", "completed")),
        (9, JobChanged(11, "j1", "completed")),
        (10, SessionChanged(71, "s1", "inactive", True)),
        (11, Advance(80)),
    ]


def test_every_record_kind_reads_back() -> None:
    """Each input and observation kind, optional fields included, reads as the model's type."""
    lines = [
        {"t": 0, "op": "create_session", "session": "s", "backend": "b", "max_time": 100},
        {"t": 0, "op": "submit", "job": "j", "backend": "b", "session": "s2", "start_session": True},
        {"t": 0.5, "op": "close_session", "session": "s"},
        {"t": 1, "op": "cancel_session", "session": "s2"},
        {"t": 1, "op": "cancel_job", "job": "j"},
        {"t": 2, "event": "job", "job": "j", "state": "failed", "reason": "too long"},
        {"t": 2, "event": "job", "job": "j", "state": "canceled", "reason": None},
        {"t": 3, "event": "rejected", "op": "cancel_job", "job": "j", "reason": "already ended"},
        {"t": 3, "event": "rejected", "op": "close_session", "session": "s", "reason": ""},
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    _, records = read(data)
    assert [record for _, record in records] == [
        CreateSession(0, "s", "b", 100),
        Submit(0, "j", "b", "s2", True),
        CloseSession(0.5, "s"),
        CancelSession(1, "s2"),
        CancelJob(1, "j"),
        JobChanged(2, "j", "failed", "too long"),
        JobChanged(2, "j", "canceled"),
        Rejected(3, "cancel_job", "already ended", job="j"),
        Rejected(3, "close_session", "", session="s"),
    ]


def test_no_header_means_default_config() -> None:
    """Without a header line the config is Config() and the header's line is None; line 1 is a record."""
    header, records = read(b'{"t": 4, "op": "advance"}\n')
    assert header == Header(Config(), None)
    assert records == [(1, Advance(4))]


def test_header_only_is_a_valid_empty_trace() -> None:
    """A file with only a header has no records, with or without a config."""
    assert read(HEADER) == (Header(Config(), 1), [])
    assert read(b'{"trace": "sessionspec", "version": 1, "config": {}}') == (Header(Config(), 1), [])


def test_line_endings_and_spaces() -> None:
    """A last line without newline, CRLF endings and spaces around the object are all fine."""
    data = HEADER + b'{"t": 1, "op": "advance"}\r\n  {"t": 2, "op": "advance"} \t\n{"t": 3, "op": "advance"}'
    _, records = read(data)
    assert records == [(2, Advance(1)), (3, Advance(2)), (4, Advance(3))]


def test_line_at_the_limit_is_accepted() -> None:
    """A line of exactly max_line_bytes (its newline not counted) is read, the last one too."""
    line = b'{"t": 1, "op": "advance"}'
    limit = len(line)
    assert read(line + b"\n" + line, max_line_bytes=limit)[1] == [(1, Advance(1)), (2, Advance(1))]


def test_header_is_read_on_demand() -> None:
    """The header is available before iterating, read once, and iteration still starts at line 2."""
    reader = TraceReader(io.BytesIO(EXAMPLE), "example")
    assert reader.read_header() is reader.read_header()
    assert reader.header.config.interactive_ttl == 60
    assert next(iter(reader)) == (2, CreateSession(0, "s1", "qpu1"))


def test_iterating_twice_is_refused() -> None:
    """A reader reads its stream once; a second iteration is a programming error."""
    reader = TraceReader(io.BytesIO(EXAMPLE))
    list(reader)
    with pytest.raises(RuntimeError, match="once"):
        iter(reader)


def test_text_stream_is_refused() -> None:
    """A text-mode stream is a TypeError that says to open the file in binary mode."""
    with pytest.raises(TypeError, match="binary"):
        TraceReader(io.StringIO("{}"))  # type: ignore[arg-type]


def test_read_trace_opens_and_closes_a_file(tmp_path: Path) -> None:
    """read_trace reads a path, names it in errors, and closes the file when done."""
    path = tmp_path / "trace.jsonl"
    path.write_bytes(EXAMPLE)
    with read_trace(str(path)) as trace:
        assert trace.header.line == 1
        assert len(list(trace)) == 10
    path.write_bytes(HEADER + b"oops\n")
    trace = read_trace(str(path))
    with pytest.raises(TraceError) as info:
        list(trace)
    assert info.value.name == str(path)
    assert str(info.value).startswith(f"{path}:2: not JSON")
    assert trace._stream.closed


def test_read_trace_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """'-' reads sys.stdin.buffer and leaves it open."""
    stdin = io.TextIOWrapper(io.BytesIO(EXAMPLE))
    monkeypatch.setattr(sys, "stdin", stdin)
    trace = read_trace("-")
    assert trace.name == "<stdin>"
    assert len(list(trace)) == 10
    assert not stdin.buffer.closed


def test_input_ops_match_the_model() -> None:
    """INPUT_OPS lists exactly the ops input_from_dict knows, in its order."""
    with pytest.raises(InvalidInput) as info:
        input_from_dict({"t": 0, "op": "?"})
    assert info.value.hint == "one of " + ", ".join(INPUT_OPS)


# --- bad traces ----------------------------------------------------------------------

ADVANCE = b'{"t": 0, "op": "advance"}\n'

BAD: list[tuple[str, bytes, int, tuple[str, ...]]] = [
    ("not JSON", HEADER + ADVANCE + b'{"t": 1, op}\n', 3, ("not JSON", "column 10")),
    ("not JSON: extra data", ADVANCE + b'{"t": 1, "op": "advance"} x\n', 2, ("not JSON", "Extra data")),
    ("not an object", HEADER + b"[1, 2]\n", 2, ("an array", "not a JSON object")),
    ("a string, not an object", b'"op"\n', 1, ('"op"', "not a JSON object")),
    ("unknown op", HEADER + b'{"t": 0, "op": "frobnicate"}\n', 2, ('op="frobnicate"', "create_session")),
    ("unknown event", HEADER + b'{"t": 0, "event": "explode"}\n', 2, ('event="explode"', "rejected")),
    ("missing field", HEADER + b'{"t": 0, "op": "submit", "backend": "q"}\n', 2, ("'job' is missing",)),
    (
        "missing field of an event",
        b'{"t": 0, "event": "session", "session": "s", "state": "active"}\n',
        1,
        ("'accepting' is missing",),
    ),
    ("missing t", HEADER + b'{"op": "advance"}\n', 2, ("'t' is missing",)),
    (
        "mistyped field",
        b'{"t": 0, "event": "session", "session": "s", "state": "active", "accepting": "yes"}\n',
        1,
        ('accepting="yes"', "true or false"),
    ),
    ("mistyped t", b'{"t": "0", "op": "advance"}\n', 1, ('t="0"', "finite number")),
    ("negative t", b'{"t": -1, "op": "advance"}\n', 1, ("t=-1", ">= 0")),
    ("infinite t", b'{"t": 1e999, "op": "advance"}\n', 1, ("t=Infinity", "finite")),
    (
        "bad job state",
        b'{"t": 0, "event": "job", "job": "j", "state": "done"}\n',
        1,
        ('state="done"', "queued"),
    ),
    (
        "bad session state",
        b'{"t": 0, "event": "session", "session": "s", "state": "open", "accepting": true}\n',
        1,
        ('state="open"', "expired"),
    ),
    ("empty job id", b'{"t": 0, "event": "job", "job": "", "state": "queued"}\n', 1, ('job=""', "non-empty")),
    (
        "mistyped reason",
        b'{"t": 0, "event": "job", "job": "j", "state": "queued", "reason": 3}\n',
        1,
        ("reason=3",),
    ),
    (
        "rejected names an unknown op",
        b'{"t": 0, "event": "rejected", "op": "fly", "reason": "no"}\n',
        1,
        ('op="fly"', "advance"),
    ),
    (
        "rejected without reason",
        b'{"t": 0, "event": "rejected", "op": "advance"}\n',
        1,
        ("'reason' is missing",),
    ),
    (
        "t going backwards",
        HEADER + b'{"t": 5, "op": "advance"}\n{"t": 3, "event": "job", "job": "j", "state": "queued"}\n',
        3,
        ("t=3 is smaller than t=5",),
    ),
    ("both op and event", b'{"t": 0, "op": "advance", "event": "job"}\n', 1, ('op="advance"', "takes only")),
    ("neither op nor event", HEADER + b'{"t": 0}\n', 2, ('needs "op"',)),
    ("a header without trace", b'{"version": 1}\n', 1, ('"trace": "sessionspec"',)),
    ("a header on line 2", HEADER + HEADER, 2, ("only on the first line",)),
    ("header with an unknown key", b'{"trace": "sessionspec", "version": 1, "extra": 1}\n', 1, ('"extra"',)),
    (
        "header of another format",
        b'{"trace": "other", "version": 1}\n',
        1,
        ('"trace" must be "sessionspec"',),
    ),
    ("header without version", b'{"trace": "sessionspec"}\n', 1, ('needs "version": 1',)),
    (
        "bad version",
        b'{"trace": "sessionspec", "version": 2}\n',
        1,
        ("version 2 is not supported; this reader understands version 1",),
    ),
    (
        "version as a string",
        b'{"trace": "sessionspec", "version": "1"}\n',
        1,
        ('version "1" is not supported',),
    ),
    (
        "bad config value",
        b'{"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": -1}}\n',
        1,
        ("config.interactive_ttl=-1", "seconds > 0"),
    ),
    (
        "unknown config key",
        b'{"trace": "sessionspec", "version": 1, "config": {"ittl": 5}}\n',
        1,
        ("config.ittl", "interactive_ttl"),
    ),
    (
        "config not an object",
        b'{"trace": "sessionspec", "version": 1, "config": null}\n',
        1,
        ("config=null",),
    ),
    ("empty file", b"", 1, ("the trace is empty",)),
    ("blank line", HEADER + b"\n" + ADVANCE, 2, ("blank",)),
    ("blank line at the end", HEADER + ADVANCE + b"\n", 3, ("blank",)),
    ("only a newline", b"\n", 1, ("blank",)),
    ("invalid UTF-8", HEADER + b'{"t": 0, "op": "advance", "x": "\xff"}\n', 2, ("not UTF-8", "byte 33")),
    ("byte order mark", b"\xef\xbb\xbf" + ADVANCE, 1, ("byte order mark",)),
    ("NaN", b'{"t": NaN, "op": "advance"}\n', 1, ("NaN is not JSON",)),
    ("Infinity", HEADER + b'{"t": Infinity, "op": "advance"}\n', 2, ("Infinity is not JSON",)),
    (
        "-Infinity in config",
        b'{"trace": "sessionspec", "version": 1, "config": {"job_time_cap": -Infinity}}',
        1,
        ("-Infinity",),
    ),
    ("duplicate key", b'{"t": 0, "t": 1, "op": "advance"}\n', 1, ('"t" appears twice',)),
    (
        "nested duplicate key",
        b'{"trace": "sessionspec", "version": 1, "config": {"a": 1, "a": 2}}\n',
        1,
        ('"a" appears twice',),
    ),
    (
        "extra field",
        b'{"t": 0, "event": "job", "job": "j", "state": "queued", "color": "red"}\n',
        1,
        ('color="red"', "takes only"),
    ),
    (
        "extra field of an input",
        b'{"t": 0, "op": "advance", "color": "red"}\n',
        1,
        ('color="red"', "takes only"),
    ),
    ("nested too deeply", HEADER + b"[" * 200_000 + b"\n", 2, ("nested too deeply",)),
    (
        "integer with too many digits",
        b'{"t": ' + b"1" * 5000 + b', "op": "advance"}\n',
        1,
        ("a number has too many digits (5,000)", "at most 4,300 digits"),
    ),
    (
        "unterminated string",
        b'{"t": 0, "op": "submit", "job": "j1}\n',
        1,
        ("not JSON: Invalid control character at column 37",),
    ),
]


@pytest.mark.parametrize(("data", "line", "words"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_trace_names_line_and_problem(data: bytes, line: int, words: tuple[str, ...]) -> None:
    """Each malformed trace raises TraceError at the right line, with a reason naming the problem."""
    error = error_of(data)
    assert error.line == line
    for word in words:
        assert word in error.reason
    assert str(error) == f"test.jsonl:{line}: {error.reason}"
    assert isinstance(error, SessionSpecError)
    assert isinstance(error, ValueError)


def test_error_carries_the_offending_line_cut_short() -> None:
    """TraceError.text is the bad line without its newline, cut to about 200 characters."""
    assert error_of(HEADER + b'{"t": 0, "op": "x"}\n').text == '{"t": 0, "op": "x"}'
    long = b'{"t": 0, "op": "x", "pad": "' + b"a" * 1000 + b'"}\n'
    text = error_of(long).text
    assert text is not None
    assert text.startswith('{"t": 0') and len(text) <= 201
    assert error_of(b"").text is None


def test_trace_error_pickles_with_its_fields() -> None:
    """A TraceError survives pickling (as across processes) with every field and its message."""
    error = TraceError(3, "not JSON", "{oops", name="a.jsonl")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.line, copy.reason, copy.text, copy.name, str(copy)) == (
        3,
        "not JSON",
        "{oops",
        "a.jsonl",
        str(error),
    )


def test_huge_line_is_refused_without_reading_it_all() -> None:
    """A line over the limit is an error at its line; the reader reads at most limit + 1 bytes of it."""

    class Counting(io.BytesIO):
        """A BytesIO that records the largest readline request."""

        largest = 0

        def readline(self, size: int | None = -1, /) -> bytes:
            """Record the size asked for, then read."""
            self.largest = max(self.largest, size or 0)
            return super().readline(size)

    data = HEADER + ADVANCE + b'{"t": 1, "op": "advance", "pad": "' + b"x" * 5000 + b'"}\n' + ADVANCE
    stream = Counting(data)
    with pytest.raises(TraceError) as info:
        list(TraceReader(stream, max_line_bytes=1000))
    assert info.value.line == 3
    assert "longer than 1000 bytes" in info.value.reason
    assert stream.largest == 1001
    assert stream.tell() < len(HEADER + ADVANCE) + 1002
    # A valid object followed by a long run of spaces is still too long, not read as the object.
    padded = b'{"t": 0, "op": "advance"}' + b" " * 2000 + b"\n"
    assert error_of(padded, max_line_bytes=1000).line == 1


def test_a_broken_reader_stays_broken() -> None:
    """After a TraceError, asking for the header again raises the same error, not a later line's."""
    reader = TraceReader(io.BytesIO(b'{"trace": "sessionspec", "version": 9}\n' + ADVANCE))
    with pytest.raises(TraceError) as first:
        reader.read_header()
    with pytest.raises(TraceError) as again:
        _ = reader.header
    assert again.value is first.value


def test_observation_from_dict_raises_invalid_input() -> None:
    """observation_from_dict is strict on its own: InvalidInput names the field."""
    with pytest.raises(InvalidInput) as info:
        observation_from_dict({"t": 0, "event": "job", "job": "j", "state": ["queued"]})
    assert info.value.field == "state"
    assert observation_from_dict(
        {"t": 1, "event": "rejected", "op": "submit", "reason": "r", "job": None}
    ) == (Rejected(1, "submit", "r"))


# --- round trip and fuzzing ----------------------------------------------------------

ids = st.sampled_from(["j1", "j2", "s1", "qpu1", "é", "a b"])
times = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False, allow_infinity=False))

records = st.one_of(
    st.builds(CreateSession, times, ids, ids, st.none() | st.integers(1, 1000)),
    st.builds(Submit, times, ids, ids, st.none(), st.just(False), ids, st.none() | st.floats(0.5, 1e4)),
    st.builds(Submit, times, ids, ids, ids, st.booleans(), ids, st.none()),
    st.builds(CloseSession, times, ids),
    st.builds(CancelSession, times, ids),
    st.builds(CancelJob, times, ids),
    st.builds(FinishJob, times, ids, st.sampled_from(["completed", "failed"])),
    st.builds(Advance, times),
    st.builds(JobChanged, times, ids, st.sampled_from(JOB_STATES), st.none() | st.text(max_size=5)),
    st.builds(SessionChanged, times, ids, st.sampled_from(SESSION_STATES), st.booleans()),
    st.builds(
        Rejected, times, st.sampled_from(INPUT_OPS), st.text(max_size=5), st.none() | ids, st.none() | ids
    ),
)


def encode(record: Record) -> bytes:
    """One record as a trace line."""
    raw = (
        record.to_dict()
        if isinstance(record, JobChanged | SessionChanged | Rejected)
        else input_to_dict(record)
    )
    return json.dumps(raw, ensure_ascii=False).encode() + b"\n"


@settings(max_examples=150)
@given(st.lists(records, max_size=12), st.booleans())
def test_written_records_read_back(written: list[Record], with_header: bool) -> None:
    """Records written in time order (with or without a header) read back equal, numbered from their line."""
    written.sort(key=lambda record: record.t)
    data = (HEADER if with_header else b"") + b"".join(encode(record) for record in written)
    if not data:
        return
    _, got = read(data)
    first = 2 if with_header else 1
    assert got == list(enumerate(written, start=first))


@settings(max_examples=150)
@given(records, st.data())
def test_a_repeated_key_is_always_refused(record: Record, data: st.DataObject) -> None:
    """A valid record with one of its keys given twice (any value, colons in strings or not) is refused."""
    line = encode(record).rstrip(b"\n")
    key = data.draw(st.sampled_from(sorted(json.loads(line))))
    value = data.draw(st.sampled_from(["a:b", 1, {"x": 1}, None]))
    twice = line[:-1] + b", " + json.dumps({key: value}).encode()[1:]
    error = error_of(twice)
    assert error.line == 1
    assert f"{json.dumps(key)} appears twice" in error.reason


def test_colons_inside_strings_are_fine() -> None:
    """Strings with colons (which make the reader check keys the slow way) read normally."""
    data = b'{"t": 0, "event": "job", "job": "j:1", "state": "failed", "reason": "limit: 10 s"}\n'
    assert read(data)[1] == [(1, JobChanged(0, "j:1", "failed", "limit: 10 s"))]


def read_or_trace_error(data: bytes) -> None:
    """Read everything; a TraceError is an acceptable outcome, any other exception fails the test."""
    try:
        read(data, max_line_bytes=300)
    except TraceError as error:
        assert error.line >= 1
        assert error.reason


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
)
record_keys = st.sampled_from(
    [
        "t",
        "op",
        "event",
        "job",
        "session",
        "backend",
        "state",
        "accepting",
        "reason",
        "outcome",
        "instance",
        "max_time",
        "start_session",
        "max_execution_time",
        "x",
    ]
)
likely_values = st.one_of(
    json_values,
    st.sampled_from([*INPUT_OPS, "job", "session", "rejected", *JOB_STATES, *SESSION_STATES]),
    st.integers(-2, 10),
)
config_keys = st.sampled_from(
    ["backends", "system_max_ttl", "interactive_ttl", "job_time_cap", "reservations", "pending_timeout", "?"]
)
config_values = st.one_of(
    json_values,
    st.lists(
        st.dictionaries(
            st.sampled_from(["name", "simulator", "backend", "instance", "start", "end"]),
            likely_values,
            max_size=4,
        ),
        max_size=2,
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.lists(st.binary(max_size=60), max_size=6).map(b"\n".join),
    )
)
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    """Any bytes at all read fully or raise TraceError."""
    read_or_trace_error(data)


@settings(max_examples=300)
@given(st.lists(st.dictionaries(record_keys, likely_values, max_size=6), min_size=1, max_size=4))
def test_arbitrary_json_records_never_crash(objects: list[dict[str, Any]]) -> None:
    """Any JSON objects with record-like keys read as records or raise TraceError."""
    read_or_trace_error(b"".join(json.dumps(obj).encode() + b"\n" for obj in objects))


event_values = st.one_of(
    likely_values,
    st.sampled_from([0, 0.0, -0.0, 1.5, 2**1023, 2**1024, 1e308, float("inf"), True, "", "j1"]),
)


@settings(max_examples=400)
@given(
    st.dictionaries(record_keys, event_values, max_size=6),
    st.sampled_from(["job", "session", "rejected", "x"]),
)
def test_observation_fast_path_agrees_with_the_full_checks(raw: dict[str, Any], event: str) -> None:
    """observation_from_dict's fast path gives what the full checks give: the same record or field."""
    raw["event"] = event

    def outcome(validate: Any) -> object:
        """The record, or the name of the field refused."""
        try:
            return validate(raw)
        except InvalidInput as error:
            return error.field

    fast, full = outcome(observation_from_dict), outcome(_observation_checked)
    assert fast == full
    assert type(fast) is type(full)
    if isinstance(full, tuple):
        assert [type(value) for value in fast] == [type(value) for value in full]  # type: ignore[attr-defined]


@settings(max_examples=200)
@given(st.dictionaries(config_keys, config_values, max_size=4), json_values)
def test_arbitrary_headers_never_crash(config: dict[str, Any], version: Any) -> None:
    """Any config (and any version) in a header reads or raises TraceError."""
    read_or_trace_error(json.dumps({"trace": "sessionspec", "version": 1, "config": config}).encode())
    read_or_trace_error(json.dumps({"trace": "sessionspec", "version": version}).encode())


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """The protocol example with lines dropped, duplicated, swapped or truncated and bytes flipped."""
    lines = EXAMPLE.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "duplicate", "swap", "truncate", "flip", "insert"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "drop":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif kind == "insert":
            lines.insert(i, draw(st.binary(max_size=20)))
        else:
            line = bytearray(lines[i])
            if line:
                k = draw(st.integers(0, len(line) - 1))
                line[k] = draw(st.integers(0, 255))
            lines[i] = bytes(line)
    return b"".join(lines)


@settings(max_examples=400)
@given(mutated_example())
def test_mutated_traces_never_crash(data: bytes) -> None:
    """A damaged copy of a valid trace reads fully or raises TraceError."""
    read_or_trace_error(data)


# --- streaming and speed -------------------------------------------------------------


def generated_lines(count: int, pad: int = 0) -> Iterator[bytes]:
    """A header and ``count`` records, made one at a time; job events carry a reason of ``pad`` letters."""
    reason = b"x" * pad
    yield b'{"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}}\n'
    for i in range(count):
        t = i // 4
        kind = i % 4
        if kind == 0:
            yield (
                b'{"t": %d, "op": "submit", "job": "j%d", "backend": "qpu1", "max_execution_time": 600}\n'
                % (t, i)
            )
        elif kind == 1:
            yield b'{"t": %d, "event": "job", "job": "j%d", "state": "queued", "reason": "%s"}\n' % (
                t,
                i - 1,
                reason,
            )
        elif kind == 2:
            yield (
                b'{"t": %d, "event": "session", "session": "s1", "state": "active", "accepting": true}\n' % t
            )
        else:
            yield b'{"t": %d, "op": "finish_job", "job": "j%d", "outcome": "completed"}\n' % (t, i - 3)


class GeneratedStream(io.RawIOBase):
    """A raw binary stream whose bytes are produced on demand from an iterator of lines."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        super().__init__()
        self._lines = lines
        self._pending = b""
        self.produced = 0

    def readable(self) -> bool:
        """This stream can be read."""
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fill ``buffer`` from the next lines; 0 at the end."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                self._pending = next(self._lines, b"")
                if not self._pending:
                    break
            chunk = self._pending[: len(view) - filled]
            view[filled : filled + len(chunk)] = chunk
            self._pending = self._pending[len(chunk) :]
            filled += len(chunk)
        self.produced += filled
        return filled


def test_reading_streams_in_constant_memory() -> None:
    """A trace far larger than the memory bound reads with a small tracemalloc peak."""
    count = 16_000
    stream = GeneratedStream(generated_lines(count, pad=3000))
    reader = TraceReader(io.BufferedReader(stream), "generated")
    tracemalloc.start()
    try:
        seen = 0
        for _ in reader:
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert stream.produced > 12_000_000  # the trace is bigger than the bound, many times over
    assert peak < 1_000_000, peak


def test_throughput_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the reader's speed on a generated trace held in memory (for information, not asserted)."""
    count = 100_000
    data = b"".join(generated_lines(count))
    start = time.perf_counter()
    seen = sum(1 for _ in TraceReader(io.BytesIO(data)))
    elapsed = time.perf_counter() - start
    assert seen == count
    with capsys.disabled():
        print(f"\ntracefile: {count / elapsed:,.0f} lines/s ({len(data) / elapsed / 1e6:.1f} MB/s)")
