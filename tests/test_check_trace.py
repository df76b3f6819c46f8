"""`sessionspec check-trace`: exit status, report, and traces written by the model."""

from __future__ import annotations

import io
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.cli.check_trace import main
from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, resolve_program
from sessionspec.model.config import Config
from sessionspec.model.world import World
from sessionspec.oracle.judge import judge_stream
from sessionspec.traces.records import header, record_to_dict, trace_of
from tests.trace_examples import EXAMPLE


def _write(path: pathlib.Path, records: list[dict[str, object]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_conforming_trace_exits_0(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The protocol's example trace conforms: exit 0 and a one-line verdict."""
    assert main([_write(tmp_path / "ok.jsonl", EXAMPLE)]) == 0
    assert "conforms" in capsys.readouterr().out


def test_divergence_exits_1_with_line_rule_and_context(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace that drops the deactivation exits 1, naming line, rule, expectation and context."""
    records = [r for r in EXAMPLE if r.get("state") != "inactive"]
    assert main([_write(tmp_path / "bad.jsonl", records)]) == 1
    out = capsys.readouterr().out
    assert ":10: does not conform" in out and "SES-ITTL-DEACTIVATE" in out
    assert "t=71 session s1 -> inactive" in out and "context" in out


def test_json_verdict(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the verdict, the divergence's line and rule, machine-readably."""
    records = [r for r in EXAMPLE if r.get("state") != "inactive"]
    assert main(["--json", _write(tmp_path / "bad.jsonl", records)]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["verdict"] == "does not conform"
    assert (verdict["divergence"]["line"], verdict["divergence"]["rule"]) == (10, "SES-ITTL-DEACTIVATE")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json\n",
        b'{"t": 0, "op": "nope"}\n',
        b'{"t": 5, "op": "advance"}\n{"t": 1, "op": "advance"}\n',
    ],
)
def test_unreadable_traces_exit_2(
    content: bytes, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a trace exits 2 with the line number and a reason."""
    path = tmp_path / "broken.jsonl"
    path.write_bytes(content)
    assert main([str(path)]) == 2
    assert "cannot be read as a trace" in capsys.readouterr().err


def test_missing_file_and_bad_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be opened, or no file at all, is bad usage: exit 2."""
    assert main(["/no/such/trace.jsonl"]) == 2
    assert main([]) == 2


@settings(max_examples=40)
@given(config=st.sampled_from(CONFIGS), actions=st.lists(st.sampled_from(TEMPLATES), max_size=40))
def test_traces_the_model_writes_conform(config: Config, actions: list[object]) -> None:
    """Any run of the model, written as a trace file, is judged to conform."""
    inputs, _ = resolve_program(config, actions)
    lines = [header(World.empty(config)), *(record_to_dict(r) for r in trace_of(World.empty(config), inputs))]
    data = "".join(json.dumps(r) + "\n" for r in lines).encode()
    verdict = judge_stream(io.BytesIO(data), "generated")
    assert verdict.status == 0, verdict.as_dict()


def test_timeline_option_draws_the_judged_trace(tmp_path: pathlib.Path) -> None:
    """--timeline FILE draws the trace with its first violation marked, and keeps the verdict."""
    records = [*EXAMPLE[:9], {"t": 20, "op": "submit", "job": "p1", "backend": "qpu1"}]
    records += [
        {"t": 20, "event": "job", "job": "p1", "state": "queued"},
        {"t": 20, "event": "job", "job": "p1", "state": "running"},
    ]
    picture = tmp_path / "bad.svg"
    assert main(["--timeline", str(picture), _write(tmp_path / "bad.jsonl", records)]) == 1
    assert "SES-ITTL-HOLD" in picture.read_text(encoding="utf-8")


def test_timeline_to_an_unknown_format_is_bad_usage(tmp_path: pathlib.Path) -> None:
    """--timeline with a suffix other than .svg or .png exits 2."""
    assert main(["--timeline", str(tmp_path / "x.gif"), _write(tmp_path / "ok.jsonl", EXAMPLE)]) == 2


def test_a_job_claimed_into_an_unknown_session_is_judged_not_crashed(tmp_path: pathlib.Path) -> None:
    """A trace that queues a job in a session nobody created gets a verdict, not a traceback."""
    trace = tmp_path / "claim.jsonl"
    trace.write_text(
        '{"trace": "sessionspec", "version": 1, "config": {}}\n'
        '{"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s9"}\n'
        '{"t": 0, "event": "job", "job": "j1", "state": "queued"}\n'
        '{"t": 1, "op": "advance"}\n'
    )
    assert main([str(trace)]) == 1
