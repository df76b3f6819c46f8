"""Timeline marks: reservation windows, jobs that end while queued, and the ITTL deadlines never reached."""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

from sessionspec.model.config import Config, Reservation
from sessionspec.model.inputs import Advance, CancelSession, CreateSession, FinishJob, Input, Submit
from sessionspec.model.world import World
from sessionspec.oracle.judge import judge_stream
from sessionspec.pictures.diagrams import png_size
from sessionspec.pictures.timeline import (
    VIOLATION_COLOUR,
    Timeline,
    _figure,
    draw,
    example_iterative_session,
    read_timeline,
)
from sessionspec.traces.records import header, record_to_dict, trace_of
from tests.trace_examples import EXAMPLE

WINDOW = Reservation("qpu2", "lab-r", 30, 90)
CONFIG = Config(backends=("qpu1", "qpu2"), interactive_ttl=20, reservations=(WINDOW,))


def _inputs() -> list[Input]:
    """s1 expires at t=61 with j2 still queued behind j1; lab-r's job r2 overtakes p2 inside the window."""
    return [
        CreateSession(0, "s1", "qpu1", max_time=60),
        Submit(1, "j1", "qpu1", session="s1", instance="lab-a"),
        Submit(5, "j2", "qpu1", session="s1", instance="lab-a"),
        Submit(10, "p1", "qpu2", instance="lab-b"),
        Submit(20, "r1", "qpu2", instance="lab-r"),
        FinishJob(25, "p1", "completed"),
        Submit(26, "p2", "qpu2", instance="lab-b"),
        Submit(40, "r2", "qpu2", instance="lab-r"),
        FinishJob(45, "r1", "completed"),
        FinishJob(70, "r2", "completed"),
        FinishJob(80, "j1", "completed"),
        FinishJob(100, "p2", "completed"),
        Advance(120),
    ]


def _records(config: Config, inputs: list[Input]) -> list[dict[str, Any]]:
    world = World.empty(config)
    return [header(world), *(record_to_dict(r) for r in trace_of(world, inputs))]


def _timeline(records: list[dict[str, Any]]) -> Timeline:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    assert judge_stream(io.BytesIO(data), "t").status == 0, "the model writes conforming traces"
    return read_timeline(io.BytesIO(data), "marks.jsonl")[0]


def _svg(timeline: Timeline, tmp_path: pathlib.Path) -> str:
    draw(timeline, tmp_path / "t.svg")
    return (tmp_path / "t.svg").read_text(encoding="utf-8")


def _crosses(timeline: Timeline, colour: str) -> list[tuple[float, float]]:
    """Where the plot (not the legend) has X markers of ``colour``."""
    axes = _figure(timeline, None).axes[0]
    found = []
    for collection in axes.collections:
        faces = np.asarray(collection.get_facecolor()) if isinstance(collection, PathCollection) else None
        if faces is not None and len(faces) and tuple(faces[0]) == to_rgba(colour):
            found += [(float(x), float(y)) for x, y in np.asarray(collection.get_offsets())]
    return found


def test_reservation_window_gets_a_row_a_band_and_a_legend(tmp_path: pathlib.Path) -> None:
    """A window of the header is drawn in its backend's lane, named by its instance, and explained."""
    timeline = _timeline(_records(CONFIG, _inputs()))
    assert timeline.reservations_on("qpu2") == [WINDOW] and timeline.reservations_on("qpu1") == []
    assert timeline.jobs["r2"].started == 45 and timeline.jobs["p2"].started == 70  # r2 went first
    svg = _svg(timeline, tmp_path)
    assert "<!--  lab-r -->" in svg and "<!-- reserved -->" in svg
    assert "reservation window (its instance first)" in svg


def test_reservations_outside_the_trace_or_on_idle_backends() -> None:
    """A window on a backend no record names is judged and gets a lane; one opening after the end does not."""
    late = Reservation("qpu1", "lab-r", 500, 600)
    idle = Reservation("qpu9", "lab-z", 10, 20)
    config = Config(backends=("qpu1",), reservations=(late, idle))
    timeline = _timeline(_records(config, [Submit(0, "j1", "qpu1"), Advance(100)]))
    assert timeline.backends == ["qpu1", "qpu9"]
    assert timeline.reservations_on("qpu1") == [] and timeline.reservations_on("qpu9") == [idle]


def test_queued_job_failed_at_expiry_is_marked_and_named(tmp_path: pathlib.Path) -> None:
    """A job still queued when its session expires ends in a red cross at that instant, labelled."""
    timeline = _timeline(_records(CONFIG, _inputs()))
    j2 = timeline.jobs["j2"]
    assert (j2.started, j2.ended, j2.state, j2.ended_while_queued) == (None, 61, "failed", True)
    assert not timeline.jobs["j1"].ended_while_queued
    assert [x for x, _ in _crosses(timeline, VIOLATION_COLOUR)] == [61.0]
    svg = _svg(timeline, tmp_path)
    assert "<!-- j2 failed -->" in svg and "failed while queued (its session expired)" in svg


def test_queued_job_canceled_with_its_session_is_marked_black(tmp_path: pathlib.Path) -> None:
    """Canceling a session ends its queued job with a black cross, and the legend says so."""
    inputs: list[Input] = [
        CreateSession(0, "s1", "qpu1"),
        Submit(0, "a", "qpu1", session="s1"),
        Submit(1, "b", "qpu1", session="s1"),
        CancelSession(40, "s1"),
        FinishJob(50, "a", "completed"),
        Advance(60),
    ]
    timeline = _timeline(_records(Config(), inputs))
    assert (timeline.jobs["b"].state, timeline.jobs["b"].ended_while_queued) == ("canceled", True)
    assert [x for x, _ in _crosses(timeline, "#000000")] == [40.0]
    assert _crosses(timeline, VIOLATION_COLOUR) == []
    svg = _svg(timeline, tmp_path)
    assert "<!-- b canceled -->" in svg and "canceled while queued" in svg
    assert "failed while queued" not in svg


def test_faint_ittl_ticks_are_explained_when_drawn(tmp_path: pathlib.Path) -> None:
    """The legend explains the faint ticks where a window was cut short, and only there."""
    cut_short = _svg(_timeline(example_iterative_session()), tmp_path)
    assert "ITTL deadline not reached (cut short)" in cut_short
    ran_out = _svg(_timeline(EXAMPLE), tmp_path)  # its one window runs out
    assert "ITTL start / deadline" in ran_out and "not reached" not in ran_out


def test_the_marked_trace_renders_to_a_png(tmp_path: pathlib.Path) -> None:
    """The trace with a reservation and a failed queued job renders to a PNG of a sensible size."""
    draw(_timeline(_records(CONFIG, _inputs())), tmp_path / "t.png")
    size = png_size((tmp_path / "t.png").read_bytes())
    assert size is not None and 800 <= size[0] <= 2000 and 250 <= size[1] <= 2000
