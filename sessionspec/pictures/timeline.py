"""``sessionspec timeline TRACE -o FILE``: draw a trace as a timeline (SVG or PNG).

One lane per backend. In a lane, every job is a bar from its start to its end,
coloured by its session (plain jobs grey), after a thin hatched bar for the time it
waited in the queue; a job that ended without ever running (failed when its session
expired, or canceled) is named on that bar and ends in a cross, red or black. A
"reserved" row shows the backend's reservation windows, each naming its instance,
over a faint band across the lane. Under the jobs, one thin strip per session shows
its states (pending, active, inactive, ended) as coloured bands, hatched while it no
longer accepts jobs, with its deadlines: each interactive-timeout (ITTL) window from
the moment the session went idle to its deadline (faint when a job came, or the
session ended, before it), and the max-TTL deadline. Refused inputs are small crosses
in a "refused" row; the first violation the oracle finds is a red line labelled with
its rule and line.

The trace is read once, streaming: :class:`TimelineBuilder` collects the picture's
data while the oracle judges the same records. Drawing uses matplotlib's object API
(no pyplot, no display); the same timeline always gives the same SVG bytes.

>>> import io, json
>>> records = example_iterative_session()
>>> data = "".join(json.dumps(r) + "\\n" for r in records).encode()
>>> timeline, verdict = read_timeline(io.BytesIO(data), "example")
>>> verdict.status, sorted(timeline.jobs), timeline.jobs["other"].started
(0, ['j1', 'j2', 'j3', 'other'], 222)
>>> [(w.start, w.deadline, w.ran_out) for w in timeline.sessions["s1"].ittl_windows]
[(32, 92, False), (97, 157, False), (162, 222, True)]
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sessionspec.model.config import Config, Number, Reservation
from sessionspec.model.core import max_ttl_value
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
)
from sessionspec.model.observations import JobChanged, Observation, Rejected, SessionChanged
from sessionspec.model.world import World
from sessionspec.oracle.judge import Verdict
from sessionspec.oracle.reference import Divergence, Oracle, TraceDiverged
from sessionspec.traces.reader import TraceReader
from sessionspec.traces.records import header, record_to_dict, trace_of

__all__ = [
    "FORMATS",
    "IttlWindow",
    "JobBar",
    "Refusal",
    "SessionBand",
    "StateSpan",
    "Timeline",
    "TimelineBuilder",
    "draw",
    "draw_records",
    "draw_trace",
    "example_iterative_session",
    "read_timeline",
    "write_example",
]

FORMATS = ("svg", "png")
"""The output formats, chosen by the output file's suffix."""

ENDED_STATES = frozenset({"closed", "canceled", "expired"})
FINAL_JOB_STATES = frozenset({"completed", "failed", "canceled"})
UNKNOWN_BACKEND = "(unknown backend)"

# --- the data -----------------------------------------------------------------------


@dataclass
class JobBar:
    """One job: where it ran, for which session, and when it waited, started and ended."""

    job: str
    backend: str
    session: str | None
    instance: str
    submitted: Number
    max_execution_time: Number | None = None
    started: Number | None = None
    ended: Number | None = None
    state: str = "queued"

    def queued_until(self, end: Number) -> Number:
        """When the job left the queue (its start, or its end if it never ran; else ``end``)."""
        if self.started is not None:
            return self.started
        return self.ended if self.ended is not None else end

    def queued_time(self, end: Number) -> Number:
        """Seconds the job waited in the queue (up to ``end`` if it still waits then)."""
        return self.queued_until(end) - self.submitted

    @property
    def ended_while_queued(self) -> bool:
        """The job ended (failed at its session's expiry, or canceled) without ever running."""
        return self.started is None and self.ended is not None


@dataclass
class StateSpan:
    """A stretch of time a session spent in one (state, accepting) pair; ``end`` None: still in it."""

    state: str
    accepting: bool
    start: Number
    end: Number | None = None


@dataclass
class IttlWindow:
    """An interactive-timeout window: the session went idle at ``start`` with ``deadline`` ahead.

    ``end`` is when the window closed: the deadline itself when it ran out (``ran_out``),
    earlier when a job came or the session ended, ``None`` when still open at the trace's end.
    """

    start: Number
    deadline: Number
    end: Number | None = None
    ran_out: bool = False


@dataclass
class SessionBand:
    """One session: its backend, its state spans and the deadlines to mark."""

    session: str
    backend: str
    created: Number
    max_time: Number | None = None
    spans: list[StateSpan] = field(default_factory=list)
    accepting_changes: list[tuple[Number, bool]] = field(default_factory=list)
    first_start: Number | None = None
    max_ttl: Number | None = None
    ittl_windows: list[IttlWindow] = field(default_factory=list)
    unfinished: int = 0

    @property
    def state(self) -> str | None:
        return self.spans[-1].state if self.spans else None

    @property
    def accepting(self) -> bool:
        return self.spans[-1].accepting if self.spans else True

    @property
    def ended(self) -> Number | None:
        """When the session ended (closed, canceled or expired), if it did."""
        for span in self.spans:
            if span.state in ENDED_STATES:
                return span.start
        return None

    @property
    def max_ttl_deadline(self) -> Number | None:
        """The first job's start plus the max TTL: when the session expires at the latest."""
        if self.first_start is None or self.max_ttl is None:
            return None
        return self.first_start + self.max_ttl


@dataclass
class Refusal:
    """A refused input: ``backend`` is where to draw it (``None`` when the trace does not say)."""

    t: Number
    op: str
    reason: str
    job: str | None = None
    session: str | None = None
    backend: str | None = None


@dataclass
class Timeline:
    """Everything a timeline picture shows, extracted from one trace."""

    name: str
    config: Config
    end: Number
    jobs: dict[str, JobBar]
    sessions: dict[str, SessionBand]
    refusals: list[Refusal]

    @property
    def backends(self) -> list[str]:
        """A lane each: the configured backends first, then the others in order of appearance."""
        used: dict[str, None] = {}
        for job in self.jobs.values():
            used.setdefault(job.backend)
        for band in self.sessions.values():
            used.setdefault(band.backend)
        for refusal in self.refusals:
            used.setdefault(refusal.backend or UNKNOWN_BACKEND)
        for window in self.config.reservations:
            if window.start < self.end:
                used.setdefault(window.backend)
        ordered = list(self.config.backends)
        return ordered + [b for b in used if b not in ordered]

    def reservations_on(self, backend: str) -> list[Reservation]:
        """The reservation windows of ``backend`` that open before the trace ends."""
        return [w for w in self.config.reservations if w.backend == backend and w.start < self.end]

    def counts(self) -> dict[str, int]:
        return {
            "backends": len(self.backends),
            "jobs": len(self.jobs),
            "sessions": len(self.sessions),
            "refusals": len(self.refusals),
            "ittl_windows": sum(len(band.ittl_windows) for band in self.sessions.values()),
        }


class TimelineBuilder:
    """Collects a :class:`Timeline` from a trace's records, fed one by one in order."""

    def __init__(self, config: Config, name: str = "<trace>") -> None:
        self.config = config
        self.name = name
        self.end: Number = 0
        self.jobs: dict[str, JobBar] = {}
        self.sessions: dict[str, SessionBand] = {}
        self.refusals: list[Refusal] = []
        self.last_input: Input | None = None
        self.unfinished: set[str] = set()  # jobs counted in their session's unfinished jobs

    def feed(self, record: Input | Observation) -> None:
        """Take the next record of the trace."""
        self.end = max(self.end, record.t)
        if isinstance(record, JobChanged):
            self._job(record)
        elif isinstance(record, SessionChanged):
            self._session(record)
        elif isinstance(record, Rejected):
            self.refusals.append(
                Refusal(record.t, record.op, record.reason, record.job, record.session, self._refused_on())
            )
        else:
            self.last_input = record

    def finish(self) -> Timeline:
        return Timeline(self.name, self.config, self.end, self.jobs, self.sessions, self.refusals)

    # -- jobs ---------------------------------------------------------------------------

    def _new_job(self, obs: JobChanged) -> JobBar:
        submit = self.last_input
        if not isinstance(submit, Submit) or submit.job != obs.job:
            return JobBar(obs.job, UNKNOWN_BACKEND, None, "default", obs.t)
        session = submit.session
        if submit.start_session and self.config.is_simulator(submit.backend):
            session = None  # no session on a simulator: the job runs as a plain job
        return JobBar(
            obs.job, submit.backend, session, submit.instance, obs.t, submit.max_execution_time
        )  # fmt: skip

    def _job(self, obs: JobChanged) -> None:
        job = self.jobs.get(obs.job)
        if job is None:
            job = self.jobs[obs.job] = self._new_job(obs)
        band = self._band(job.session, obs.t, job.backend) if job.session is not None else None
        if obs.state == "queued":
            if band is not None and job.job not in self.unfinished:
                self.unfinished.add(job.job)
                band.unfinished += 1
                _close_window(band, obs.t)
        elif obs.state == "running":
            if job.started is None:
                job.started = obs.t
            if band is not None and band.first_start is None:
                band.first_start = obs.t
                band.max_ttl = max_ttl_value(self.config, band.max_time, job.max_execution_time)
        elif obs.state in FINAL_JOB_STATES and job.ended is None:
            job.ended = obs.t
            if band is not None and job.job in self.unfinished:
                self.unfinished.discard(job.job)
                band.unfinished -= 1
                if band.unfinished == 0 and band.state == "active" and band.accepting:
                    band.ittl_windows.append(IttlWindow(obs.t, obs.t + self.config.interactive_ttl))
        job.state = obs.state

    # -- sessions -----------------------------------------------------------------------

    def _band(self, session: str, t: Number, backend: str | None = None) -> SessionBand:
        band = self.sessions.get(session)
        if band is None:
            inp = self.last_input
            max_time = None
            if isinstance(inp, CreateSession) and inp.session == session:
                backend, max_time = inp.backend, inp.max_time
            elif isinstance(inp, Submit) and inp.session == session:
                backend = inp.backend
            band = self.sessions[session] = SessionBand(session, backend or UNKNOWN_BACKEND, t, max_time)
        return band

    def _session(self, obs: SessionChanged) -> None:
        band = self._band(obs.session, obs.t)
        if band.spans and (band.state, band.accepting) == (obs.state, obs.accepting):
            return
        if band.spans:
            band.spans[-1].end = obs.t
            if band.accepting != obs.accepting:
                band.accepting_changes.append((obs.t, obs.accepting))
        band.spans.append(StateSpan(obs.state, obs.accepting, obs.t))
        if obs.state != "active" or not obs.accepting:
            _close_window(band, obs.t, ran_out=obs.state == "inactive")

    # -- refusals -----------------------------------------------------------------------

    def _refused_on(self) -> str | None:
        inp = self.last_input
        if isinstance(inp, CreateSession | Submit):
            return inp.backend
        if isinstance(inp, CloseSession | CancelSession) and inp.session in self.sessions:
            return self.sessions[inp.session].backend
        if isinstance(inp, CancelJob | FinishJob) and inp.job in self.jobs:
            return self.jobs[inp.job].backend
        return None


def _missed_deadline(window: IttlWindow, end: Number) -> bool:
    """The window closed before its deadline (a job came, or the session ended), which the trace reaches."""
    return window.deadline <= end and window.end is not None and not window.ran_out


def _close_window(band: SessionBand, t: Number, *, ran_out: bool = False) -> None:
    """End the session's open ITTL window at ``t`` (a zero-length one is dropped)."""
    if not band.ittl_windows or band.ittl_windows[-1].end is not None:
        return
    window = band.ittl_windows[-1]
    if t <= window.start and not ran_out:
        band.ittl_windows.pop()
        return
    window.end = t
    window.ran_out = ran_out


def read_timeline(stream: BinaryIO, name: str) -> tuple[Timeline, Verdict]:
    """Read a trace once: its timeline, and the oracle's verdict on it.

    Judged exactly as :func:`sessionspec.oracle.judge.judge_stream` does; the timeline
    covers the whole trace even past the first divergence. A trace that cannot be read
    raises :class:`TraceError`.
    """
    reader = TraceReader(stream, name)
    config = reader.read_header().config
    builder = TimelineBuilder(config, name)
    oracle: Oracle | None = Oracle(config)
    divergence: Divergence | None = None
    line = judged = 0
    for line, record in reader:
        builder.feed(record)
        if oracle is not None:
            judged = line
            try:
                oracle.feed(line, record)
            except TraceDiverged as diverged:
                divergence, oracle = diverged.divergence, None
    if oracle is not None:
        divergence = oracle.finish(line or None)
        judged = line
    return builder.finish(), Verdict(name, judged, divergence)


# --- the picture --------------------------------------------------------------------

SESSION_COLOURS = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#bcbd22",  # olive
    "#17becf",  # cyan
)
"""Job colours by session (red is kept for the violation, grey for plain jobs)."""
PLAIN_COLOUR = "#8c8c8c"
STATE_COLOURS = {
    "pending": "#fdd49e",
    "active": "#a1d99b",
    "inactive": "#c6dbef",
    "ended": "#d0d0d0",
}
STATE_LABELS = {
    "pending": "pending (no job run yet)",
    "active": "active (holds the backend)",
    "inactive": "inactive (ITTL ran out)",
    "ended": "ended (closed, canceled, expired)",
}
ITTL_COLOUR = "#08519c"
MAX_TTL_COLOUR = "#000000"
VIOLATION_COLOUR = "#d62728"
RESERVATION_COLOUR = "#7b4ea3"  # a muted purple, apart from the session colours
FAINT = 0.35  # the opacity of an ITTL deadline that was never reached
REFUSAL_COLOUR = "#444444"

JOB_ROW = 1.0  # data units per row of jobs
STRIP_ROW = 0.7  # per row of session strips
MARK_ROW = 0.7  # the refusals row, and the reservations row
LANE_GAP = 0.6
INCH_PER_UNIT = 0.3  # inches per data unit, unless the plot would be taller than MAX_HEIGHT
MAX_HEIGHT = 16.0
MAX_JOB_ROWS = 16  # rows of jobs per lane; more jobs at once share rows
MAX_STRIP_ROWS = 8  # rows of session strips per lane
WIDTH = 11.0  # inches, the legend included
LABEL_JOBS_UP_TO = 80  # more jobs than this: no labels on bars
LEGEND_SESSIONS = 10  # sessions named in the legend; the rest are summed up
SVG_SALT = "sessionspec-timeline"


@dataclass
class _Row:
    y: float  # centre
    height: float


@dataclass
class _Lane:
    backend: str
    top: float
    bottom: float
    refusals: _Row | None
    reservations: _Row | None
    job_rows: list[_Row]
    strip_rows: list[_Row]
    job_row_of: dict[str, int]
    strip_row_of: dict[str, int]


def _pack(intervals: Iterable[tuple[str, float, float]], limit: int) -> tuple[dict[str, int], int]:
    """Greedy interval packing into at most ``limit`` rows: no two items overlap in a row
    while rows are left; past that, an item shares the row that frees up first."""
    ends: list[float] = []
    rows: dict[str, int] = {}
    for key, start, end in sorted(intervals, key=lambda item: item[1]):
        free = next((i for i, last in enumerate(ends) if last <= start), None)
        if free is None and len(ends) < limit:
            free = len(ends)
            ends.append(end)
        elif free is None:
            free = min(range(len(ends)), key=ends.__getitem__)
        rows[key] = free
        ends[free] = max(ends[free], end)
    return rows, len(ends)


def _session_colours(timeline: Timeline) -> dict[str, str]:
    return {s: SESSION_COLOURS[i % len(SESSION_COLOURS)] for i, s in enumerate(timeline.sessions)}


def _layout(timeline: Timeline, ended_width: float) -> list[_Lane]:
    lanes: list[_Lane] = []
    y = 0.0
    end = timeline.end
    for backend in timeline.backends:
        jobs = [j for j in timeline.jobs.values() if j.backend == backend]
        job_rows, n_jobs = _pack(
            ((j.job, j.submitted, j.ended if j.ended is not None else max(end, j.submitted)) for j in jobs),
            MAX_JOB_ROWS,
        )
        bands = [b for b in timeline.sessions.values() if b.backend == backend]
        strip_rows, n_strips = _pack(
            ((b.session, b.created, (b.ended if b.ended is not None else end) + ended_width) for b in bands),
            MAX_STRIP_ROWS,
        )
        refused = any((r.backend or UNKNOWN_BACKEND) == backend for r in timeline.refusals)
        top = y
        reservations = refusals = None
        if timeline.reservations_on(backend):
            reservations = _Row(y + MARK_ROW / 2, MARK_ROW)
            y += MARK_ROW
        if refused:
            refusals = _Row(y + MARK_ROW / 2, MARK_ROW)
            y += MARK_ROW
        rows = []
        for _ in range(max(n_jobs, 1)):
            rows.append(_Row(y + JOB_ROW / 2, JOB_ROW))
            y += JOB_ROW
        strips = []
        for _ in range(n_strips):
            strips.append(_Row(y + STRIP_ROW / 2, STRIP_ROW))
            y += STRIP_ROW
        lanes.append(_Lane(backend, top, y, refusals, reservations, rows, strips, job_rows, strip_rows))
        y += LANE_GAP
    return lanes


def _rect(x0: float, x1: float, y: float, height: float) -> list[tuple[float, float]]:
    return [(x0, y - height / 2), (x1, y - height / 2), (x1, y + height / 2), (x0, y + height / 2)]


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def _lighten(colour: str, amount: float = 0.65) -> str:
    """The colour mixed with white (``amount`` of white)."""
    r, g, b = (round(int(colour[i : i + 2], 16) * (1 - amount) + 255 * amount) for i in (1, 3, 5))
    return f"#{r:02x}{g:02x}{b:02x}"


def _span_colour(state: str) -> str:
    return STATE_COLOURS["ended" if state in ENDED_STATES else state]


def draw(timeline: Timeline, path: str | Path, divergence: Divergence | None = None) -> None:
    """Draw the timeline into ``path``: SVG or PNG by its suffix (same input, same bytes).

    ``divergence``, when given, is marked as a red line labelled with its rule and line.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot draw {target.name}: give a file ending in .svg or .png")
    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.id": "timeline", "font.size": 9}):
        figure = _figure(timeline, divergence)
        metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(target, format=fmt, dpi=110, metadata=metadata)


def _figure(timeline: Timeline, divergence: Divergence | None) -> Figure:
    start = 0.0
    end = float(max(timeline.end, divergence.t if divergence is not None else 0, 1))
    span = end - start
    ended_width = span * 0.025
    lanes = _layout(timeline, ended_width)
    header = 1.0 if divergence is not None else 0.0
    plot_units = (lanes[-1].bottom if lanes else 1.0) + header
    colours = _session_colours(timeline)
    handles, headers = _legend_entries(timeline, colours, divergence)
    unit = min(INCH_PER_UNIT, (MAX_HEIGHT - 1.4) / plot_units)
    height = max(1.4 + plot_units * unit, 0.6 + 0.19 * len(handles), 3.0)
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    ax = figure.add_subplot()
    ax.set_xlim(start - span * 0.01, end + span * 0.01)
    ax.set_ylim(plot_units - header, -header)  # y grows downwards, the header row on top
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(_title(timeline, divergence), loc="left", fontsize=10)

    bars = _Polys()
    ticks: list[tuple[float, str, bool]] = []
    for i, lane in enumerate(lanes):
        if i % 2 == 1:
            ax.axhspan(lane.top - LANE_GAP / 4, lane.bottom + LANE_GAP / 4, color="#f5f5f5", zorder=0)
        if i:
            ax.axhline(lane.top - LANE_GAP / 2, color="#bbbbbb", linewidth=0.8, zorder=0.5)
        centre = (lane.job_rows[0].y + lane.job_rows[-1].y) / 2
        ticks.append((centre, lane.backend, True))
        if lane.strip_rows:
            middle = (lane.strip_rows[0].y + lane.strip_rows[-1].y) / 2
            ticks.append((middle, "sessions", False))
        if lane.refusals is not None:
            ticks.append((lane.refusals.y, "refused", False))
        if lane.reservations is not None:
            ticks.append((lane.reservations.y, "reserved", False))
        _draw_reservations(ax, timeline, lane, bars, end)
        _draw_jobs(timeline, lane, colours, bars)
        _draw_queued_ends(ax, timeline, lane)
        _draw_sessions(ax, timeline, lane, colours, bars, ended_width)
        _draw_refusals(ax, timeline, lane)
    bars.add_to(ax)
    ax.set_yticks([y for y, _, _ in ticks], [text for _, text, _ in ticks])
    for label, (_, _, bold) in zip(ax.get_yticklabels(), ticks, strict=True):
        label.set_fontweight("bold" if bold else "normal")
        label.set_fontsize(10 if bold else 8)
        label.set_fontstyle("normal" if bold else "italic")
    ax.tick_params(axis="y", length=0)
    if divergence is not None:
        _draw_violation(ax, divergence, header, start, end)

    legend = figure.legend(
        handles, [h.get_label() for h in handles], loc="outside right upper", fontsize=8, frameon=False
    )
    for text, is_header in zip(legend.get_texts(), headers, strict=True):
        if is_header:
            text.set_fontweight("bold")
    if len(timeline.jobs) <= LABEL_JOBS_UP_TO:
        _label_jobs(figure, ax, timeline, lanes, colours, span * 1.02)
    return figure


def _title(timeline: Timeline, divergence: Divergence | None) -> str:
    counts = timeline.counts()
    jobs, sessions, backends = counts["jobs"], counts["sessions"], counts["backends"]
    text = (
        f"{Path(timeline.name).name}: {jobs} job{'s' * (jobs != 1)}, "
        f"{sessions} session{'s' * (sessions != 1)} on {backends} backend{'s' * (backends != 1)}"
    )
    if divergence is not None:
        return f"{text}; does not conform (rule {divergence.rule}, line {divergence.line})"
    return text


class _Polys:
    """Rectangles gathered by style and drawn as a few collections (fast with many jobs)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], list[list[tuple[float, float]]]] = {}
        self.colours: dict[tuple[Any, ...], list[str]] = {}

    def add(self, rect: list[tuple[float, float]], colour: str, **style: Any) -> None:
        key = tuple(sorted(style.items()))
        self.groups.setdefault(key, []).append(rect)
        self.colours.setdefault(key, []).append(colour)

    def add_to(self, ax: Any) -> None:
        for key, rects in self.groups.items():
            style = dict(key)
            colours = self.colours[key]
            edge = style.pop("edge", None)
            ax.add_collection(
                PolyCollection(
                    rects,
                    facecolors=colours,
                    edgecolors=edge if edge is not None else colours,
                    **style,
                ),
                autolim=False,
            )


def _draw_jobs(timeline: Timeline, lane: _Lane, colours: dict[str, str], bars: _Polys) -> None:
    end = timeline.end
    for job in timeline.jobs.values():
        if job.backend != lane.backend:
            continue
        row = lane.job_rows[lane.job_row_of[job.job]]
        colour = colours.get(job.session, PLAIN_COLOUR) if job.session is not None else PLAIN_COLOUR
        queued_until = job.queued_until(end)
        if queued_until > job.submitted:
            bars.add(
                _rect(job.submitted, queued_until, row.y, row.height * 0.3), _lighten(colour),
                edge=colour, hatch="////", linewidths=0.0, zorder=2,
            )  # fmt: skip
        if job.started is not None:
            stop = job.ended if job.ended is not None else end
            rect = _rect(job.started, max(stop, job.started), row.y, row.height * 0.7)
            if job.state == "failed":
                bars.add(rect, colour, edge=VIOLATION_COLOUR, linewidths=1.6, zorder=3)
            elif job.state == "canceled":
                bars.add(rect, colour, edge="#000000", hatch="xx", linewidths=0.6, alpha=0.8, zorder=3)
            else:
                bars.add(rect, colour, linewidths=0.0, zorder=3)


def _draw_sessions(
    ax: Any, timeline: Timeline, lane: _Lane, colours: dict[str, str], bars: _Polys, ended_width: float
) -> None:
    end = timeline.end
    marks: dict[str, list[list[tuple[float, float]]]] = {
        "ittl": [],
        "ittl-faint": [],
        "max": [],
        "window": [],
    }
    outlines: list[list[tuple[float, float]]] = []
    outline_colours: list[str] = []
    for band in timeline.sessions.values():
        if band.backend != lane.backend:
            continue
        row = lane.strip_rows[lane.strip_row_of[band.session]]
        half = row.height * 0.32
        y0, y1 = row.y - half, row.y + half
        for span in band.spans:
            stop = span.end if span.end is not None else end
            if span.state in ENDED_STATES:
                stop = span.start + ended_width
            if stop <= span.start and span.state not in ENDED_STATES:
                continue
            rect = _rect(span.start, stop, row.y, 2 * half)
            if span.accepting or span.state in ENDED_STATES:  # an ended session accepts nothing anyway
                bars.add(rect, _span_colour(span.state), linewidths=0.0, zorder=2)
            else:
                bars.add(
                    rect, _span_colour(span.state), edge="#666666", hatch="////", linewidths=0.0, zorder=2
                )
        last = band.ended + ended_width if band.ended is not None else end
        outlines.append(_rect(band.created, last, row.y, 2 * half))
        outline_colours.append(colours[band.session])
        for window in band.ittl_windows:
            open_until = window.end if window.end is not None else min(window.deadline, end)
            marks["window"].append([(window.start, y0 - 0.06), (open_until, y0 - 0.06)])
            marks["ittl"].append([(window.start, y0 - 0.14), (window.start, y1 + 0.02)])
            if window.deadline <= end:
                faint = _missed_deadline(window, end)
                marks["ittl-faint" if faint else "ittl"].append(
                    [(window.deadline, y0 - 0.14), (window.deadline, y1 + 0.02)]
                )
        deadline = band.max_ttl_deadline
        if deadline is not None and deadline <= end:
            marks["max"].append([(deadline, y0 - 0.2), (deadline, y1 + 0.08)])
    styles: dict[str, dict[str, Any]] = {
        "window": {"colors": ITTL_COLOUR, "linewidths": 1.4, "linestyles": "dotted", "zorder": 4},
        "ittl": {"colors": ITTL_COLOUR, "linewidths": 1.2, "linestyles": (0, (2.5, 1.5)), "zorder": 4},
        "ittl-faint": {
            "colors": ITTL_COLOUR, "linewidths": 1.0, "linestyles": (0, (2.5, 1.5)),
            "alpha": FAINT, "zorder": 4,
        },
        "max": {"colors": MAX_TTL_COLOUR, "linewidths": 2.2, "zorder": 4},
    }  # fmt: skip
    if outlines:  # each session's lifetime, framed in its colour
        ax.add_collection(
            PolyCollection(
                outlines, facecolors="none", edgecolors=outline_colours, linewidths=1.2, zorder=2.5
            ),
            autolim=False,
        )
    for kind, segments in marks.items():
        if segments:
            ax.add_collection(LineCollection(segments, **styles[kind]), autolim=False)


def _draw_reservations(ax: Any, timeline: Timeline, lane: _Lane, bars: _Polys, end: float) -> None:
    """Each reservation window of the lane's backend: a bar naming its instance in the
    lane's "reserved" row, and a faint band behind the jobs it gives priority to."""
    if lane.reservations is None:
        return
    row = lane.reservations
    for window in timeline.reservations_on(lane.backend):
        stop = min(float(window.end), end)
        bars.add(
            _rect(window.start, stop, row.y, row.height * 0.7), RESERVATION_COLOUR, linewidths=0.0, zorder=2
        )
        band = _rect(window.start, stop, (lane.top + lane.bottom) / 2, lane.bottom - lane.top)
        bars.add(band, _lighten(RESERVATION_COLOUR, 0.85), linewidths=0.0, zorder=0.8)
        ax.text(
            window.start, row.y, f" {window.instance}", ha="left", va="center", fontsize=7.5,
            color="white", clip_on=True, zorder=4,
        )  # fmt: skip


def _draw_queued_ends(ax: Any, timeline: Timeline, lane: _Lane) -> None:
    """A cross where a job that never ran ended: red if it failed (its session expired), black if canceled."""
    for state, colour in (("failed", VIOLATION_COLOUR), ("canceled", "#000000")):
        ends = [
            (job.ended, lane.job_rows[lane.job_row_of[job.job]].y)
            for job in timeline.jobs.values()
            if job.backend == lane.backend and job.ended_while_queued and job.state == state
        ]
        if ends:
            ax.scatter(*zip(*ends, strict=True), marker="X", s=42, color=colour, linewidths=0.5, zorder=5)


def _draw_refusals(ax: Any, timeline: Timeline, lane: _Lane) -> None:
    if lane.refusals is None:
        return
    times = [r.t for r in timeline.refusals if (r.backend or UNKNOWN_BACKEND) == lane.backend]
    ax.scatter(
        times,
        [lane.refusals.y] * len(times),
        marker="x",
        s=28,
        color=REFUSAL_COLOUR,
        linewidths=1.2,
        zorder=5,
    )


def _draw_violation(ax: Any, divergence: Divergence, header: float, start: float, end: float) -> None:
    t = float(divergence.t)
    ax.axvline(t, color=VIOLATION_COLOUR, linewidth=1.6, zorder=6, gid="first-violation")
    right_half = t > start + (end - start) * 0.6
    ax.text(
        t,
        -header / 2,
        f" first violation: {divergence.rule} (line {divergence.line}) ",
        color=VIOLATION_COLOUR,
        fontsize=9,
        fontweight="bold",
        ha="right" if right_half else "left",
        va="center",
        zorder=6,
        gid="first-violation-label",
    )


def _label_jobs(
    figure: Figure, ax: Any, timeline: Timeline, lanes: list[_Lane], colours: dict[str, str], width: float
) -> None:
    """Job ids on the bars and session ids on the strips they fit in (the layout is settled first)."""
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
    inches = ax.get_position().width * figure.get_figwidth()
    per_second = inches / width  # inches per second of trace time
    font = 7.5
    for lane in lanes:
        for job in timeline.jobs.values():
            if job.backend == lane.backend and job.started is None:
                _label_queued(ax, job, lane, timeline.end, per_second, font)
            if job.backend != lane.backend or job.started is None:
                continue
            stop = job.ended if job.ended is not None else timeline.end
            needed = (len(job.job) * 0.62 * font + 4) / 72
            if (stop - job.started) * per_second < needed:
                continue
            colour = colours.get(job.session, PLAIN_COLOUR) if job.session is not None else PLAIN_COLOUR
            row = lane.job_rows[lane.job_row_of[job.job]]
            ax.text(
                (job.started + stop) / 2, row.y, job.job, ha="center", va="center", fontsize=font, zorder=4,
                color="white" if _luminance(colour) < 0.6 else "black",
            )  # fmt: skip
        for band in timeline.sessions.values():
            if band.backend != lane.backend:
                continue
            last = band.ended if band.ended is not None else timeline.end
            needed = (len(band.session) * 0.62 * font + 8) / 72
            if (last - band.created) * per_second < needed:
                continue
            row = lane.strip_rows[lane.strip_row_of[band.session]]
            ax.text(
                band.created + 4 / 72 / per_second, row.y, band.session, ha="left", va="center",
                fontsize=font, fontweight="bold", color=colours[band.session], zorder=4.5,
            )  # fmt: skip


def _label_queued(ax: Any, job: JobBar, lane: _Lane, end: Number, per_second: float, font: float) -> None:
    """A job that never ran is named on its queued bar, with how it ended if it did."""
    text = f"{job.job} {job.state}" if job.ended_while_queued else job.job
    stop = job.queued_until(end)
    if (stop - job.submitted) * per_second < (len(text) * 0.62 * font + 8) / 72:
        return
    row = lane.job_rows[lane.job_row_of[job.job]]
    ax.text(
        (job.submitted + stop) / 2, row.y, text, ha="center", va="center", fontsize=font, zorder=4,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )  # fmt: skip


def _legend_entries(
    timeline: Timeline, colours: dict[str, str], divergence: Divergence | None
) -> tuple[list[Any], list[bool]]:
    """Legend handles, grouped under bold headers; and which entries are headers."""
    handles: list[Any] = []
    headers: list[bool] = []

    def head(text: str) -> None:
        handles.append(Line2D([], [], linestyle="none", label=text))
        headers.append(True)

    def entry(handle: Any) -> None:
        handles.append(handle)
        headers.append(False)

    jobs = timeline.jobs.values()
    bands = timeline.sessions.values()
    kinds: list[Any] = []
    names = list(timeline.sessions)
    for session in names[:LEGEND_SESSIONS]:
        kinds.append(Patch(facecolor=colours[session], label=f"session {session}"))
    if len(names) > LEGEND_SESSIONS:
        more = f"... {len(names) - LEGEND_SESSIONS} more sessions"
        kinds.append(Patch(facecolor="white", edgecolor="none", label=more))
    if any(j.session is None for j in jobs):
        kinds.append(Patch(facecolor=PLAIN_COLOUR, label="plain job (no session)"))
    if any(j.queued_time(timeline.end) > 0 for j in jobs):
        kinds.append(
            Patch(facecolor=_lighten(PLAIN_COLOUR), hatch="////", edgecolor=PLAIN_COLOUR, label="queued")
        )
    if any(j.state == "failed" and j.started is not None for j in jobs):
        kinds.append(Patch(facecolor="#dddddd", edgecolor=VIOLATION_COLOUR, linewidth=1.6, label="failed"))
    if any(j.state == "canceled" and j.started is not None for j in jobs):
        kinds.append(
            Patch(facecolor="#dddddd", edgecolor="#000000", hatch="xx", linewidth=0.6, label="canceled")
        )
    for state, colour, label in (
        ("failed", VIOLATION_COLOUR, "failed while queued (its session expired)"),
        ("canceled", "#000000", "canceled while queued"),
    ):
        if any(j.ended_while_queued and j.state == state for j in jobs):
            kinds.append(Line2D([], [], color=colour, marker="X", linestyle="none", label=label))
    if kinds:
        head("Jobs (bar: running)")
        for kind in kinds:
            entry(kind)

    present = {"ended" if span.state in ENDED_STATES else span.state for band in bands for span in band.spans}
    if present:
        head("Session states")
        for state, label in STATE_LABELS.items():
            if state in present:
                entry(Patch(facecolor=STATE_COLOURS[state], label=label))
        if any(
            not span.accepting and span.state not in ENDED_STATES for band in bands for span in band.spans
        ):
            entry(Patch(facecolor="white", edgecolor="#666666", hatch="////", label="accepts no jobs"))

    marks: list[Any] = []
    if any(timeline.reservations_on(backend) for backend in timeline.backends):
        marks.append(Patch(facecolor=RESERVATION_COLOUR, label="reservation window (its instance first)"))
    if any(band.ittl_windows for band in bands):
        marks.append(
            Line2D([], [], color=ITTL_COLOUR, linestyle="dotted", linewidth=1.4, label="ITTL window (idle)")
        )
        marks.append(
            Line2D([], [], color=ITTL_COLOUR, linestyle=(0, (2.5, 1.5)), label="ITTL start / deadline")
        )
    if any(_missed_deadline(window, timeline.end) for band in bands for window in band.ittl_windows):
        marks.append(
            Line2D(
                [], [], color=ITTL_COLOUR, linestyle=(0, (2.5, 1.5)), alpha=FAINT,
                label="ITTL deadline not reached (cut short)",
            )
        )  # fmt: skip
    if any((d := band.max_ttl_deadline) is not None and d <= timeline.end for band in bands):
        marks.append(Line2D([], [], color=MAX_TTL_COLOUR, linewidth=2.2, label="max-TTL deadline"))
    if timeline.refusals:
        marks.append(
            Line2D([], [], color=REFUSAL_COLOUR, marker="x", linestyle="none", label="refused input")
        )
    if divergence is not None:
        marks.append(Line2D([], [], color=VIOLATION_COLOUR, linewidth=1.6, label="first violation"))
    if marks:
        head("Marks")
        for mark in marks:
            entry(mark)
    return handles, headers


# --- the README example -------------------------------------------------------------

EXAMPLE_CONFIG = Config(backends=("qpu1",), interactive_ttl=60)
EXAMPLE_NAME = "example-iterative-session.jsonl"


def example_inputs() -> list[Input]:
    """A typical iterative session, and another user's job that waits for its ITTL to run out.

    Three jobs run in session ``s1`` with 25 to 30 seconds of classical work between
    them, each next job submitted within the ITTL; the other user's plain job, queued
    at t=10, starts only when the ITTL after the last job runs out (t=222). The session
    was opened with a 300-second max TTL and expires at t=302.
    """
    return [
        CreateSession(0, "s1", "qpu1", max_time=300),
        Submit(2, "j1", "qpu1", session="s1", instance="lab-a"),
        Submit(10, "other", "qpu1", instance="lab-b"),
        FinishJob(32, "j1", "completed"),
        Submit(57, "j2", "qpu1", session="s1", instance="lab-a"),
        FinishJob(97, "j2", "completed"),
        Submit(127, "j3", "qpu1", session="s1", instance="lab-a"),
        FinishJob(162, "j3", "completed"),
        FinishJob(262, "other", "completed"),
        Advance(320),
    ]


def example_iterative_session() -> list[dict[str, Any]]:
    """The README example as trace records (header first), written by the model itself."""
    world = World.empty(EXAMPLE_CONFIG)
    return [header(world), *(record_to_dict(r) for r in trace_of(world, example_inputs()))]


def as_jsonl(records: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def draw_trace(trace: str | Path | bytes, output: str | Path, name: str | None = None) -> Verdict:
    """Read a trace (a file's path, or its bytes), judge it and draw it into ``output``.

    For the commands that offer ``--timeline FILE`` to draw a failing trace. Returns the
    oracle's verdict; raises :class:`TraceError` when the trace cannot be read,
    :class:`OSError` when a file cannot be opened or written, :class:`ValueError` when
    ``output`` is neither ``.svg`` nor ``.png``.
    """
    if isinstance(trace, bytes):
        timeline, verdict = read_timeline(io.BytesIO(trace), name or "<trace>")
    else:
        with open(trace, "rb") as stream:
            timeline, verdict = read_timeline(stream, name or str(trace))
    draw(timeline, output, verdict.divergence)
    return verdict


def draw_records(records: Iterable[Mapping[str, Any]], output: str | Path, name: str = "<trace>") -> Verdict:
    """Draw trace records (dicts as in a trace file, the header first if any) into ``output``."""
    return draw_trace(as_jsonl(records), output, name)


def write_example(path: str | Path, trace_path: str | Path | None = None) -> Verdict:
    """Draw the README example into ``path`` (and save its trace into ``trace_path``)."""
    records = example_iterative_session()
    if trace_path is not None:
        Path(trace_path).write_bytes(as_jsonl(records))
    return draw_records(records, path, EXAMPLE_NAME)
