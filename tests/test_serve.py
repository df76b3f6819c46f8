"""``sessionspec serve``: the model speaking protocol v1 section 2, request by request and over pipes."""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionspec.cli.serve import main
from sessionspec.conformance.serve import ModelServer, encode, serve

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPLY_KEYS = frozenset({"ok", "events", "error"})


def started(config: dict[str, Any] | None = None) -> ModelServer:
    """A server that has accepted ``init`` with ``config`` (ITTL 60 by default)."""
    server = ModelServer()
    assert server.handle({"op": "init", "config": config or {"interactive_ttl": 60}}) == {"ok": True}
    return server


def events(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an ``events`` reply, without the free-form ``reason`` texts."""
    assert set(reply) == {"events"}, reply
    return [{k: v for k, v in event.items() if k != "reason"} for event in reply["events"]]


def error_of(reply: dict[str, Any]) -> str:
    """The message of an ``error`` reply, which must be a non-empty string."""
    assert set(reply) == {"error"}, reply
    message = reply["error"]
    assert isinstance(message, str) and message
    return message


def check_reply_shape(reply: object) -> None:
    """A reply is a dict with exactly one of ok / events / error, JSON-encodable on one line."""
    assert isinstance(reply, dict)
    assert len(reply) == 1 and set(reply) <= REPLY_KEYS, reply
    if "ok" in reply:
        assert reply["ok"] is True
    elif "events" in reply:
        assert isinstance(reply["events"], list) and all(isinstance(e, dict) for e in reply["events"])
    else:
        error_of(reply)
    line = encode(reply)
    assert "\n" not in line and json.loads(line) == reply


# The example trace of protocol v1 section 1 (ITTL 60), written out by hand from the protocol file.
S1_PENDING = {"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": True}
J1_QUEUED = {"t": 1, "event": "job", "job": "j1", "state": "queued"}
J1_RUNNING = {"t": 1, "event": "job", "job": "j1", "state": "running"}
S1_ACTIVE = {"t": 1, "event": "session", "session": "s1", "state": "active", "accepting": True}
J1_COMPLETED = {"t": 11, "event": "job", "job": "j1", "state": "completed"}
S1_INACTIVE = {"t": 71, "event": "session", "session": "s1", "state": "inactive", "accepting": True}


def test_protocol_example_trace_is_reproduced() -> None:
    """Driving the section-1 example through the server yields exactly that trace's observations."""
    server = started({"interactive_ttl": 60})
    assert events(server.handle({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"})) == [
        S1_PENDING
    ]
    assert events(server.handle({"op": "advance", "t": 1})) == []
    submit = {
        "t": 1,
        "op": "submit",
        "job": "j1",
        "backend": "qpu1",
        "session": "s1",
        "max_execution_time": 600,
    }
    assert events(server.handle(submit)) == [J1_QUEUED, J1_RUNNING, S1_ACTIVE]
    assert events(server.handle({"op": "advance", "t": 11})) == []
    finish = {"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"}
    assert events(server.handle(finish)) == [J1_COMPLETED]
    # the trace's last line, in its section-1 record form, is accepted as the advance request
    assert events(server.handle({"t": 80, "op": "advance"})) == [S1_INACTIVE]
    assert server.handle({"op": "shutdown"}) == {"ok": True}
    assert server.finished


def test_advance_reports_a_deadline_at_its_own_instant() -> None:
    """Advancing to 80 reports the ITTL deactivation at 71, and a deadline exactly at T is included."""
    server = started()
    server.handle(
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "start_session": True}
    )
    server.handle({"op": "advance", "t": 11})
    server.handle({"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"})
    assert events(server.handle({"op": "advance", "t": 70})) == []
    assert events(server.handle({"op": "advance", "t": 71})) == [S1_INACTIVE]
    assert events(server.handle({"op": "advance", "t": 71})) == []


def test_advance_reports_several_deadlines_in_time_order() -> None:
    """One advance over four deadlines reports each at its own instant, earliest first."""
    server = started()
    start_s1 = {
        "t": 0,
        "op": "submit",
        "job": "j1",
        "backend": "qpu1",
        "session": "s1",
        "start_session": True,
    }
    server.handle(start_s1)
    server.handle({"t": 0, "op": "submit", "job": "j2", "backend": "qpu2", "max_execution_time": 50})
    server.handle({"t": 0, "op": "create_session", "session": "s3", "backend": "qpu3", "max_time": 100})
    j3 = {"t": 0, "op": "submit", "job": "j3", "backend": "qpu3", "session": "s3", "max_execution_time": 200}
    assert [e["state"] for e in events(server.handle(j3))] == ["queued", "running", "active"]
    server.handle({"op": "advance", "t": 10})
    server.handle({"t": 10, "op": "finish_job", "job": "j1", "outcome": "completed"})
    # j2 hits its own limit at 50; s1 idles out at 10 + 60; s3's max TTL (from j3's start) ends at 100,
    # j3 carries on until its own limit at 200; the advance to 200 includes that last one.
    assert events(server.handle({"op": "advance", "t": 200})) == [
        {"t": 50, "event": "job", "job": "j2", "state": "failed"},
        {"t": 70, "event": "session", "session": "s1", "state": "inactive", "accepting": True},
        {"t": 100, "event": "session", "session": "s3", "state": "expired", "accepting": False},
        {"t": 200, "event": "job", "job": "j3", "state": "failed"},
    ]


def test_refusals_are_rejected_events_not_errors() -> None:
    """A well-formed input the system refuses comes back as a `rejected` event at the current time."""
    server = started()
    reply = server.handle({"t": 0, "op": "submit", "job": "j9", "backend": "qpu1", "session": "nope"})
    assert events(reply) == [{"t": 0, "event": "rejected", "op": "submit", "job": "j9", "session": "nope"}]
    assert isinstance(reply["events"][0]["reason"], str) and reply["events"][0]["reason"]
    assert events(server.handle({"t": 0, "op": "cancel_job", "job": "ghost"})) == [
        {"t": 0, "event": "rejected", "op": "cancel_job", "job": "ghost"}
    ]
    server.handle({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"})
    assert events(server.handle({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu2"})) == [
        {"t": 0, "event": "rejected", "op": "create_session", "session": "s1"}
    ]


GOOD = [
    {"op": "init", "config": {"interactive_ttl": 60}},
    {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
    {"op": "advance", "t": 1},
    {"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1"},
    {"op": "advance", "t": 11},
    {"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"},
    {"op": "advance", "t": 80},
]

BAD_BEFORE_INIT: list[object] = [
    {"op": "advance", "t": 1},
    {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
    {"op": "init", "config": {"interactive_ttl": -1}},
]

BAD_ANYTIME: list[object] = [
    [1, 2],
    "init",
    None,
    3.5,
    {},
    {"op": "frobnicate"},
    {"op": 7},
    {"t": 1, "event": "job", "job": "j1", "state": "queued"},
    {"op": "init", "config": {"interactive_ttl": 0}},
    {"op": "init", "config": {"colour": "red"}},
    {"op": "init", "config": [1]},
    {"op": "init", "config": {}, "t": 0},
    {"op": "advance"},
    {"op": "advance", "t": -1},
    {"op": "advance", "t": "soon"},
    {"op": "advance", "t": True},
    {"op": "submit", "job": "jx", "backend": "qpu1"},
    {"t": 0, "op": "submit", "job": "", "backend": "qpu1"},
    {"t": 0, "op": "submit", "job": "jx", "backend": "qpu1", "max_execution_time": -5},
    {"t": 0, "op": "submit", "job": "jx", "backend": "qpu1", "priority": 1},
    {"t": 0, "op": "submit", "job": "jx", "backend": "qpu1", "start_session": True},
    {"t": 0, "op": "finish_job", "job": "j1", "outcome": "exploded"},
    {"op": "shutdown", "now": True},
]


def test_protocol_problems_are_errors_that_change_nothing() -> None:
    """Bad requests get `{"error": ...}`, leave the world as it was, and later requests act as if unsent."""
    clean, noisy = ModelServer(), ModelServer()
    for bad in BAD_BEFORE_INIT + BAD_ANYTIME:
        error_of(noisy.handle(bad))
        assert noisy.world is None and not noisy.finished
    for request in GOOD:
        assert noisy.handle(request) == clean.handle(request)
        assert noisy.world == clean.world
        for bad in BAD_ANYTIME:
            before = noisy.world
            error_of(noisy.handle(bad))
            assert noisy.world is before and not noisy.finished
    assert noisy.world == clean.world


def test_an_input_at_another_time_is_an_error_naming_the_current_time() -> None:
    """An input stamped later or earlier than the clock is refused with the current time and what to send."""
    server = started()
    server.handle({"op": "advance", "t": 5})
    later = error_of(server.handle({"t": 7, "op": "create_session", "session": "s1", "backend": "qpu1"}))
    assert "t=5" in later and '{"op": "advance", "t": 7}' in later
    earlier = error_of(server.handle({"t": 3, "op": "create_session", "session": "s1", "backend": "qpu1"}))
    assert "t=5" in earlier
    backwards = error_of(server.handle({"op": "advance", "t": 4}))
    assert "t=5" in backwards
    assert server.world is not None and server.world.now == 5 and server.world.sessions == ()


def test_request_before_init_says_to_send_init() -> None:
    """Before `init` there is no world: the error says to send `init` first."""
    message = error_of(ModelServer().handle({"op": "advance", "t": 1}))
    assert '"op": "init"' in message


def test_init_resets_the_world() -> None:
    """A second `init` starts over at time 0 with the new configuration."""
    server = started()
    server.handle({"op": "advance", "t": 30})
    server.handle({"t": 30, "op": "create_session", "session": "s1", "backend": "qpu1"})
    assert server.handle({"op": "init", "config": {"interactive_ttl": 5}}) == {"ok": True}
    assert server.world is not None
    assert (server.world.now, server.world.sessions, server.world.config.interactive_ttl) == (0, (), 5)
    assert server.handle({"op": "init"}) == {"ok": True}  # no config: all defaults
    assert server.world is not None and server.world.config.interactive_ttl == 60


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("\n", "empty line"),
        ("   \r\n", "empty line"),
        ("not json\n", "not valid JSON"),
        ('{"op": "advance", "t": NaN}\n', "not valid JSON"),
        ("[1, 2]\n", "JSON object"),
        ("\udcff\udcfe\n", "UTF-8"),
    ],
)
def test_garbage_lines_get_error_replies(line: str, fragment: str) -> None:
    """Blank, non-JSON, non-object and undecodable lines get error replies; blank ones are not skipped."""
    server = started()
    assert fragment in error_of(server.handle_line(line))


def test_serve_answers_every_line_and_stops_at_shutdown() -> None:
    """serve() writes one compact reply line per request line, in order, and stops reading after shutdown."""
    requests = [
        json.dumps(GOOD[0]),
        "",
        "nonsense",
        json.dumps(GOOD[1]),
        '{"op": "shutdown"}',
        json.dumps(GOOD[2]),
    ]
    stdin = io.StringIO("\n".join(requests) + "\n")
    stdout = io.StringIO()
    assert serve(stdin, stdout) == 0
    replies = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(replies) == 5
    assert replies[0] == {"ok": True} and replies[4] == {"ok": True}
    error_of(replies[1])
    error_of(replies[2])
    assert events(replies[3]) == [S1_PENDING]
    assert stdin.readline() == json.dumps(GOOD[2]) + "\n"  # left unread
    compact = '{"events":[{"t":0,"event":"session","session":"s1","state":"pending","accepting":true}]}'
    assert stdout.getvalue().splitlines()[3] == compact


def test_serve_ends_at_end_of_input_without_shutdown() -> None:
    """At end of input serve() returns 0; a last line without a newline is still answered."""
    stdout = io.StringIO()
    assert serve(io.StringIO('{"op": "init", "config": {}}\n{"op": "advance", "t": 3}'), stdout) == 0
    assert [json.loads(line) for line in stdout.getvalue().splitlines()] == [{"ok": True}, {"events": []}]


def test_main_help_and_json_flag(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`--help` prints usage and returns 0; `--json` is accepted and serves as usual; bad options give 2."""
    assert main(["--help"]) == 0
    assert "shutdown" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"op": "init"}\n{"op": "shutdown"}\n'))
    assert main(["--json"]) == 0
    assert capsys.readouterr().out == '{"ok":true}\n{"ok":true}\n'
    assert main(["--no-such-option"]) == 2


def test_subprocess_speaks_the_protocol_over_pipes() -> None:
    """`python -m sessionspec serve` answers each line once, survives garbage, and exits 0 at shutdown."""
    lines = [
        b'{"op": "init", "config": {"interactive_ttl": 60}}',
        b"not json at all",
        b"[1, 2, 3]",
        b'{"op": "submit", "t": 0, "job": "\xff\xfe", "backend": "qpu1"}',
        b"\xc3\x28",
        b"",
        b'{"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"}',
        b'{"op": "advance", "t": 1}',
        b'{"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", '
        b'"max_execution_time": 600}',
        b'{"op": "advance", "t": 11}',
        b'{"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"}\r',
        b'{"t": 80, "op": "advance"}',
        b'{"op": "shutdown"}',
    ]
    done = subprocess.run(
        [sys.executable, "-m", "sessionspec", "serve"],
        input=b"\n".join([*lines, b'{"op": "advance", "t": 99}']) + b"\n",  # the last goes unread
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    out = done.stdout.decode("ascii").splitlines()
    assert len(out) == len(lines)
    replies = [json.loads(line) for line in out]
    for reply in replies:
        check_reply_shape(reply)
    assert [next(iter(r)) for r in replies] == [
        "ok",
        *["error"] * 5,
        "events",
        "events",
        "events",
        "events",
        "events",
        "events",
        "ok",
    ]
    assert "UTF-8" in replies[3]["error"] and "UTF-8" in replies[4]["error"]
    assert [events(r) for r in replies[6:12]] == [
        [S1_PENDING],
        [],
        [J1_QUEUED, J1_RUNNING, S1_ACTIVE],
        [],
        [J1_COMPLETED],
        [S1_INACTIVE],
    ]


# ---- random request sequences -------------------------------------------------------------------

IDS = st.sampled_from(["s1", "s2", "j1", "j2", "qpu1", "sim", ""])
JSON_SCALARS = st.none() | st.booleans() | st.integers(-5, 10**20) | st.floats() | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "interactive_ttl": st.sampled_from([10, 60, 0.5, -1, "x"]),
        "backends": st.sampled_from([[{"name": "sim", "simulator": True}], [{"name": ""}], "qpu1"]),
        "pending_timeout": st.sampled_from([None, 30, 0]),
        "job_time_cap": st.sampled_from([100, 10800]),
        "system_max_ttl": st.sampled_from([50, 28800]),
        "reservations": st.sampled_from(
            [[], [{"backend": "qpu1", "instance": "lab", "start": 5, "end": 40}], [{"start": 1}]]
        ),
    },
)
# Section-1 inputs without their "t" (stamped when sent); the system may still refuse them.
INPUTS = st.one_of(
    st.fixed_dictionaries(
        {"op": st.just("create_session"), "session": IDS, "backend": IDS},
        optional={"max_time": st.sampled_from([30, 100])},
    ),
    st.fixed_dictionaries(
        {"op": st.just("submit"), "job": IDS, "backend": IDS},
        optional={
            "session": IDS,
            "start_session": st.booleans(),
            "instance": st.sampled_from(["lab", "other"]),
            "max_execution_time": st.sampled_from([5, 50, 500]),
        },
    ),
    st.fixed_dictionaries({"op": st.sampled_from(["close_session", "cancel_session"]), "session": IDS}),
    st.fixed_dictionaries({"op": st.just("cancel_job"), "job": IDS}),
    st.fixed_dictionaries(
        {"op": st.just("finish_job"), "job": IDS, "outcome": st.sampled_from(["completed", "failed"])}
    ),
)
# (how far from the current time to stamp it, the request without "t") or a request sent as is
STAMPED = st.tuples(st.just(0.0), INPUTS) | st.tuples(st.sampled_from([-1.0, 0.5, 7.0]), INPUTS)
ADVANCES = st.tuples(
    st.integers(0, 120) | st.floats(0, 120, allow_nan=False),
    st.sampled_from([{"op": "advance"}, {"op": "advance", "extra": 1}]),
)
AS_IS = st.one_of(
    CONFIGS.map(lambda c: {"op": "init", "config": c}),
    st.just({"op": "shutdown"}),
    JSON_VALUES,
    st.dictionaries(st.sampled_from(["t", "op", "job", "session", "backend", "outcome"]), JSON_VALUES),
    st.sampled_from(BAD_ANYTIME),
)
PLANS = st.one_of(STAMPED, STAMPED, STAMPED, ADVANCES, ADVANCES, AS_IS.map(lambda r: (None, r)))


def realize(plan: tuple[float | None, object], now: float) -> object:
    """The request a plan stands for at the current time ``now``."""
    offset, request = plan
    if offset is None or not isinstance(request, dict):
        return request
    return {**request, "t": max(0.0, now + offset) if offset else now}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(PLANS, min_size=1, max_size=25))
def test_random_requests_never_crash_handle(
    init_first: bool, plans: list[tuple[float | None, object]]
) -> None:
    """Any request sequence gets one well-formed reply each; errors change nothing; events fit in time."""
    server = started() if init_first else ModelServer()
    for plan in plans:
        before = server.world
        request = realize(plan, before.now if before is not None else 0)
        reply = server.handle(request)
        check_reply_shape(reply)
        if "error" in reply:
            assert server.world is before
            continue
        if "ok" in reply:
            continue
        assert isinstance(request, dict) and before is not None and server.world is not None
        stamps = [event["t"] for event in reply["events"]]
        assert stamps == sorted(stamps)
        if request["op"] == "advance":
            assert server.world.now == request["t"]
            assert all(before.now < t <= request["t"] for t in stamps)
        else:
            assert all(t == before.now for t in stamps) and server.world.now == before.now
