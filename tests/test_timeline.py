"""`sessionspec timeline`: what a trace's picture holds, how it is drawn, and the README example."""

from __future__ import annotations

import io
import itertools
import json
import pathlib
import random
import re
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib
import pytest

from sessionspec.cli.timeline import main
from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.model.config import Config
from sessionspec.model.step import step
from sessionspec.model.world import World
from sessionspec.oracle.judge import judge_stream
from sessionspec.pictures.diagrams import png_size
from sessionspec.pictures.timeline import (
    IttlWindow,
    StateSpan,
    Timeline,
    draw,
    draw_records,
    draw_trace,
    example_iterative_session,
    read_timeline,
)
from sessionspec.traces.records import header, record_to_dict, trace_of
from tests.trace_examples import EXAMPLE

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMITTED_EXAMPLE = ROOT / "docs" / "timeline-example.svg"

DIVERGENT = [r for r in EXAMPLE if r.get("state") != "inactive"]  # drops the deactivation at t=71


def _data(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _timeline(records: list[dict[str, Any]], name: str = "trace.jsonl") -> Timeline:
    timeline, _ = read_timeline(io.BytesIO(_data(records)), name)
    return timeline


def _write(path: pathlib.Path, records: list[dict[str, Any]]) -> str:
    path.write_bytes(_data(records))
    return str(path)


def test_protocol_example_gives_bars_bands_and_deadlines() -> None:
    """The protocol's example: one job bar, three state bands, an ITTL that ran out, max TTL 600."""
    timeline = _timeline(EXAMPLE)
    assert timeline.end == 80 and timeline.backends == ["qpu1"] and timeline.refusals == []
    job = timeline.jobs["j1"]
    assert (job.backend, job.session, job.instance) == ("qpu1", "s1", "default")
    assert (job.submitted, job.started, job.ended, job.state) == (1, 1, 11, "completed")
    assert job.queued_time(timeline.end) == 0
    band = timeline.sessions["s1"]
    assert (band.backend, band.created, band.max_time) == ("qpu1", 0, None)
    assert band.spans == [
        StateSpan("pending", True, 0, 1),
        StateSpan("active", True, 1, 71),
        StateSpan("inactive", True, 71, None),
    ]
    assert band.ittl_windows == [IttlWindow(11, 71, 71, ran_out=True)]
    # max TTL: no max_time on the session, so the first job's max_execution_time, under the system's 28800
    assert (band.first_start, band.max_ttl, band.max_ttl_deadline) == (1, 600, 601)
    assert band.ended is None and band.accepting_changes == []


def test_queued_time_refusals_and_ended_sessions() -> None:
    """Waiting jobs, a refused submit and a closed session are all picked up."""
    records: list[dict[str, Any]] = [
        {"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 30, "system_max_ttl": 100}},
        {"t": 0, "op": "submit", "job": "a", "backend": "qpu1", "session": "s1", "start_session": True},
        {"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": True},
        {"t": 0, "event": "job", "job": "a", "state": "queued"},
        {"t": 0, "event": "job", "job": "a", "state": "running"},
        {"t": 0, "event": "session", "session": "s1", "state": "active", "accepting": True},
        {"t": 5, "op": "submit", "job": "b", "backend": "qpu1", "instance": "other"},
        {"t": 5, "event": "job", "job": "b", "state": "queued"},
        {"t": 6, "op": "submit", "job": "c", "backend": "qpu1", "session": "nope"},
        {"t": 6, "event": "rejected", "op": "submit", "job": "c", "session": "nope", "reason": "unknown"},
        {"t": 7, "op": "close_session", "session": "s1"},
        {"t": 7, "event": "session", "session": "s1", "state": "active", "accepting": False},
        {"t": 9, "op": "finish_job", "job": "a", "outcome": "failed"},
        {"t": 9, "event": "job", "job": "a", "state": "failed"},
        {"t": 9, "event": "session", "session": "s1", "state": "closed", "accepting": False},
        {"t": 9, "event": "job", "job": "b", "state": "running"},
        {"t": 12, "op": "advance"},
    ]
    assert judge_stream(io.BytesIO(_data(records)), "t").status == 0
    timeline = _timeline(records)
    assert timeline.jobs["b"].session is None and timeline.jobs["b"].queued_time(timeline.end) == 4
    assert timeline.jobs["a"].state == "failed"
    band = timeline.sessions["s1"]
    assert band.ended == 9 and band.accepting_changes == [(7, False)] and band.ittl_windows == []
    assert band.max_ttl == 100  # no max_time, no max_execution_time: the system's limit
    (refusal,) = timeline.refusals
    assert (refusal.t, refusal.op, refusal.job, refusal.session, refusal.backend) == (
        6,
        "submit",
        "c",
        "nope",
        "qpu1",
    )
    assert timeline.counts() == {"backends": 1, "jobs": 2, "sessions": 1, "refusals": 1, "ittl_windows": 0}


def test_verdict_is_the_same_as_check_trace() -> None:
    """The one-pass reading judges a trace exactly as check-trace does."""
    for records in (EXAMPLE, DIVERGENT):
        _, verdict = read_timeline(io.BytesIO(_data(records)), "t")
        assert verdict.as_dict() == judge_stream(io.BytesIO(_data(records)), "t").as_dict()
    path = ROOT / "docs" / "example-nonconforming.jsonl"
    with path.open("rb") as one, path.open("rb") as other:
        assert read_timeline(one, "n")[1].as_dict() == judge_stream(other, "n").as_dict()


def test_draws_valid_svg_and_png(tmp_path: pathlib.Path) -> None:
    """Both formats are written: an SVG that parses as XML and a PNG of a sensible size."""
    timeline = _timeline(EXAMPLE)
    draw(timeline, tmp_path / "t.svg")
    draw(timeline, tmp_path / "t.png")
    root = ET.parse(tmp_path / "t.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = png_size((tmp_path / "t.png").read_bytes())
    assert size is not None and 800 <= size[0] <= 2000 and 250 <= size[1] <= 2000
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        draw(timeline, tmp_path / "t.pdf")


def test_divergent_trace_gets_the_violation_marker(tmp_path: pathlib.Path) -> None:
    """The first violation is drawn as a labelled line naming the rule and the line."""
    path = _write(tmp_path / "bad.jsonl", DIVERGENT)
    assert main([path, "-o", str(tmp_path / "bad.svg")]) == 0
    svg = (tmp_path / "bad.svg").read_text(encoding="utf-8")
    assert "first violation: SES-ITTL-DEACTIVATE (line 10)" in svg
    assert 'id="first-violation"' in svg
    assert main([_write(tmp_path / "ok.jsonl", EXAMPLE), "-o", str(tmp_path / "ok.svg")]) == 0
    assert "first violation" not in (tmp_path / "ok.svg").read_text(encoding="utf-8")


def test_example_conforms_and_the_other_job_waits_for_the_ittl() -> None:
    """The README example conforms; the other user's job starts exactly when the ITTL runs out."""
    records = example_iterative_session()
    assert judge_stream(io.BytesIO(_data(records)), "example").status == 0
    timeline = _timeline(records)
    session_jobs = [j for j in timeline.jobs.values() if j.session == "s1"]
    assert [j.job for j in session_jobs] == ["j1", "j2", "j3"]
    ittl = timeline.config.interactive_ttl
    for before, after in itertools.pairwise(session_jobs):
        assert before.ended is not None and 20 <= after.submitted - before.ended <= 40 < ittl
    other = timeline.jobs["other"]
    first_end = session_jobs[0].ended
    assert other.session is None and first_end is not None and other.submitted < first_end
    band = timeline.sessions["s1"]
    last = band.ittl_windows[-1]
    assert last.ran_out and last.start == session_jobs[-1].ended and last.deadline == last.start + ittl
    assert other.started == last.deadline
    assert [s.start for s in band.spans if s.state == "inactive"] == [other.started]


def _generated(jobs: int, seed: int) -> bytes:
    """A trace the model writes for random explorer actions, until ``jobs`` jobs exist."""
    config: Config = CONFIGS[0]
    rng = random.Random(seed)
    world, ctx, inputs = World.empty(config), Context(), []
    while len(world.jobs) < jobs:
        inp = rng.choice(TEMPLATES).resolve(world, ctx)
        inputs.append(inp)
        world = step(world, inp, trusted=True).world
    records = [
        header(World.empty(config)),
        *(record_to_dict(r) for r in trace_of(World.empty(config), inputs)),
    ]
    return _data(records)


def test_500_job_trace_renders_on_one_page(tmp_path: pathlib.Path) -> None:
    """A 500-job trace is read, judged and drawn, its rows capped so the picture stays a page."""
    data = _generated(500, seed=1)
    timeline, _ = read_timeline(io.BytesIO(data), "big.jsonl")
    draw(timeline, tmp_path / "big.png")
    assert len(timeline.jobs) == 500
    size = png_size((tmp_path / "big.png").read_bytes())
    assert size is not None and size[1] <= 2000  # rows are capped: the picture stays a page


def test_main_exit_codes_and_reports(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0 when drawn (path or JSON counts printed); 2 for an unreadable trace or bad usage."""
    trace = _write(tmp_path / "ok.jsonl", EXAMPLE)
    out = tmp_path / "ok.png"
    assert main([trace, "-o", str(out)]) == 0 and out.exists()
    assert capsys.readouterr().out.strip() == str(out)
    assert main([trace, "-o", str(tmp_path / "ok.svg"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["verdict"], report["jobs"], report["sessions"], report["ittl_windows"]) == (
        "conforms",
        1,
        1,
        1,
    )

    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"t": 5, "op": "advance"}\n{"t": 1, "op": "advance"}\n')
    assert main([str(broken), "-o", str(tmp_path / "b.svg")]) == 2
    err = capsys.readouterr().err
    assert "broken.jsonl:2: cannot be read as a trace" in err and "never decrease" in err
    assert not (tmp_path / "b.svg").exists()

    assert main([trace]) == 2  # no -o
    assert main([trace, "-o", str(tmp_path / "x.pdf")]) == 2  # not SVG or PNG
    assert main([str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "m.svg")]) == 2
    assert main(["-o", str(tmp_path / "n.svg")]) == 2  # neither a trace nor --example
    assert main([trace, "--example", "-o", str(tmp_path / "n.svg")]) == 2  # both
    capsys.readouterr()


def test_example_command_saves_its_trace(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--example draws the README example and --save-trace writes the trace it drew."""
    saved = tmp_path / "example.jsonl"
    assert main(["--example", "-o", str(tmp_path / "e.svg"), "--save-trace", str(saved)]) == 0
    assert saved.read_bytes() == _data(example_iterative_session())
    capsys.readouterr()


def test_helpers_for_timeline_options(tmp_path: pathlib.Path) -> None:
    """draw_trace and draw_records (for --timeline FILE) draw and return the oracle's verdict."""
    verdict = draw_records(DIVERGENT, tmp_path / "r.svg", "bad.jsonl")
    assert verdict.status == 1 and verdict.divergence is not None
    assert "SES-ITTL-DEACTIVATE" in (tmp_path / "r.svg").read_text(encoding="utf-8")
    path = _write(tmp_path / "bad.jsonl", DIVERGENT)
    assert draw_trace(path, tmp_path / "f.png", "bad.jsonl").as_dict() == verdict.as_dict()
    assert png_size((tmp_path / "f.png").read_bytes()) is not None


def test_configured_backends_get_a_lane_even_when_idle() -> None:
    """Every backend in the header has a lane, in the header's order, before unlisted ones."""
    records = [dict(EXAMPLE[0], config={"backends": [{"name": "qpu9"}, {"name": "sim", "simulator": True}]})]
    assert _timeline(records + EXAMPLE[1:]).backends == ["qpu9", "sim", "qpu1"]


def _creator(svg: str) -> str | None:
    match = re.search(r"<dc:title>Matplotlib v([^,<]+)", svg)
    return match.group(1) if match else None


def test_committed_example_regenerates_byte_identical(tmp_path: pathlib.Path) -> None:
    """`sessionspec timeline --example -o docs/timeline-example.svg` gives the committed file."""
    committed = COMMITTED_EXAMPLE.read_text(encoding="utf-8")
    if _creator(committed) != matplotlib.__version__:
        pytest.skip(f"docs/timeline-example.svg was drawn by matplotlib {_creator(committed)}")
    assert main(["--example", "-o", str(tmp_path / "e.svg")]) == 0
    assert (tmp_path / "e.svg").read_bytes() == COMMITTED_EXAMPLE.read_bytes()
