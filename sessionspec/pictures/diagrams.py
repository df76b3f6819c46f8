"""Diagrams of the declared lifecycles and of the scheduler's decision, generated.

The Session and Job state diagrams (:mod:`sessionspec.pictures.lifecycle`) are read off
the compiled tables (:data:`sessionspec.model.compiled.SESSION`,
:data:`sessionspec.model.compiled.JOB`), which are read off the python-statemachine
declarations: nothing there names a state or an event. The scheduler flowchart, here,
follows :mod:`sessionspec.model.scheduler` and takes its tier names and the session
events it fires from there. Each diagram comes as Graphviz DOT and Mermaid text, and as
SVG and PNG rendered with Graphviz's ``dot``. ``sessionspec diagrams`` regenerates the
files in ``diagrams/`` (:func:`write_files`); ``--check`` compares instead (:func:`check_all`).

Output is deterministic, so regenerating unchanged declarations gives identical files:

>>> session_dot() == session_dot()
True
>>> print(job_mermaid().splitlines()[2])
    [*] --> queued
>>> print(edge_label(SESSION, SESSION.edges[3]))
close [not is idle] / stop accepting
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sessionspec.model.compiled import SESSION
from sessionspec.model.core import FAIR_SHARE, RESERVATION, SESSION_PRIORITY
from sessionspec.pictures.dot import (
    DECISION_FILL,
    FONT,
    GENERATED,
    START_FILL,
    STATE_FILL,
    WAIT_FILL,
    attrs,
    graph_header,
    quote,
)
from sessionspec.pictures.lifecycle import (
    edge_label,
    job_dot,
    job_mermaid,
    session_dot,
    session_mermaid,
)

_CHECKOUT = Path(__file__).resolve().parents[2]
# In a source checkout, the repository's own diagrams/ folder; installed, ./diagrams (never
# a folder inside the installed packages).
DEFAULT_DIR = _CHECKOUT / "diagrams" if (_CHECKOUT / "pyproject.toml").is_file() else Path("diagrams")
TEXT_FORMATS = ("dot", "mmd")
RENDERED_FORMATS = ("svg", "png")
FORMATS = TEXT_FORMATS + RENDERED_FORMATS
PNG_DPI = 110
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SETUP_HINT = "Graphviz's `dot` is not installed: run `bash scripts/setup` (it installs Graphviz)"


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` binary is needed to render SVG and PNG and was not found."""

    def __init__(self) -> None:
        super().__init__(SETUP_HINT)


# --- the scheduler's decision -----------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One box of the flowchart: ``kind`` is start, decision, action or wait."""

    id: str
    kind: str
    text: str


@dataclass(frozen=True)
class Arrow:
    """One arrow of the flowchart, with an optional label (``yes``, ``no``)."""

    source: str
    target: str
    label: str = ""


def _session_event(source: str, target: str) -> str:
    """The declared Session event from ``source`` to ``target``, with its guards."""
    edges = [e for e in SESSION.edges if e.source == source and e.target == target and not e.internal]
    if not edges:
        raise LookupError(f"the flowchart needs a Session edge {source} -> {target}; none is declared")
    return " | ".join(edge_label(SESSION, e) for e in edges)


def scheduler_flow() -> tuple[tuple[Step, ...], tuple[Arrow, ...]]:
    """The per-backend decision of :mod:`sessionspec.model.scheduler` as boxes and arrows."""
    activate = _session_event("pending", "active")
    reactivate = _session_event("inactive", "active")
    deactivate = _session_event("active", "inactive")
    steps = (
        Step("submitted", "start", "job submitted\n(plain job or session job)"),
        Step("simulator", "decision", "backend is a\nsimulator?"),
        Step("at_once", "action", "job starts at once\n(simulators have no queue)"),
        Step("queued", "action", "job waits in\nits backend's queue"),
        Step("free", "start", "backend free\n(no job running)\nand jobs waiting"),
        Step("reserved", "decision", "reservation window\nopen, with queued\nplain jobs of\nits instance?"),
        Step("start_reserved", "action", f"{RESERVATION} tier:\nthe policy picks\none of those jobs"),
        Step("active", "decision", "a session\nactive on\nthe backend?"),
        Step("has_job", "decision", "it has a\nqueued job?"),
        Step("start_session", "action", f"{SESSION_PRIORITY} tier:\nstart its oldest\nqueued job"),
        Step(
            "hold",
            "wait",
            "hold: nothing starts;\nthe backend waits for the session\nuntil its ITTL runs out, then\n"
            f"{deactivate}:\nthe session becomes inactive",
        ),
        Step("waiting", "decision", "fair-share\nqueue\nnot empty?"),
        Step(
            "start_fair",
            "action",
            f"{FAIR_SHARE} tier:\nthe policy picks among plain jobs\nand the oldest queued job\n"
            "of each pending or inactive session",
        ),
        Step("idle", "wait", "nothing starts"),
        Step(
            "wakes",
            "action",
            f"starting it activates its session:\npending: {activate}\ninactive: {reactivate}",
        ),
        Step("runs", "action", "the job runs until it ends;\nthen the backend is free again"),
    )
    arrows = (
        Arrow("submitted", "simulator"),
        Arrow("simulator", "at_once", "yes"),
        Arrow("simulator", "queued", "no"),
        Arrow("queued", "free"),
        Arrow("free", "reserved"),
        Arrow("reserved", "start_reserved", "yes"),
        Arrow("reserved", "active", "no"),
        Arrow("active", "has_job", "yes"),
        Arrow("active", "waiting", "no"),
        Arrow("has_job", "start_session", "yes"),
        Arrow("has_job", "hold", "no"),
        Arrow("waiting", "start_fair", "yes"),
        Arrow("waiting", "idle", "no"),
        Arrow("start_fair", "wakes", "session job"),
        Arrow("start_fair", "runs", "plain job"),
        Arrow("wakes", "runs"),
        Arrow("start_reserved", "runs"),
        Arrow("start_session", "runs"),
    )
    return steps, arrows


# Layout hints for dot only: the questions form a straight spine ("no" goes down),
# and each question's "yes" box sits on its row.
_SPINE = ("submitted", "simulator", "queued", "free", "reserved", "active", "waiting", "idle")
_ROWS = (
    ("simulator", "at_once"),
    ("reserved", "start_reserved"),
    ("active", "has_job"),
    ("waiting", "start_fair"),
)


_SHAPES = {
    "start": attrs(shape="box", style="rounded,filled", fillcolor=START_FILL),
    "decision": attrs(shape="diamond", style="filled", fillcolor=DECISION_FILL, margin="0.05,0.02"),
    "action": attrs(shape="box", style="filled", fillcolor=STATE_FILL),
    "wait": attrs(shape="box", style="rounded,dashed,filled", fillcolor=WAIT_FILL),
}


def scheduler_dot() -> str:
    """Graphviz DOT source of the per-backend scheduling decision."""
    steps, arrows = scheduler_flow()
    title = "Which job starts on a backend"
    lines = graph_header("scheduler", title, "TB", "model/core.py")
    for step in steps:
        group = ', group="spine"' if step.id in _SPINE else ""
        lines.append(f"  {quote(step.id)} {_SHAPES[step.kind][:-1]}, label={quote(step.text)}{group}];")
    for arrow in arrows:
        extra = f" {attrs(label=arrow.label)}" if arrow.label else ""
        lines.append(f"  {quote(arrow.source)} -> {quote(arrow.target)}{extra};")
    for row in _ROWS:
        lines.append(f"  {{ rank=same; {' '.join(quote(s) for s in row)} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


_MERMAID_BOX = {
    "start": ('(["', '"])'),
    "decision": ('{"', '"}'),
    "action": ('["', '"]'),
    "wait": ('("', '")'),
}


def scheduler_mermaid() -> str:
    """Mermaid ``flowchart`` text of the per-backend scheduling decision."""
    steps, arrows = scheduler_flow()
    lines = [f"%% {GENERATED.format(source='model/core.py')}", "flowchart TD"]
    for step in steps:
        opening, closing = _MERMAID_BOX[step.kind]
        lines.append(f"    {step.id}{opening}{_mermaid_text(step.text)}{closing}")
    for arrow in arrows:
        label = f"|{_mermaid_text(arrow.label)}|" if arrow.label else ""
        lines.append(f"    {arrow.source} -->{label} {arrow.target}")
    return "\n".join(lines) + "\n"


# --- rendering --------------------------------------------------------------------

SOURCES: dict[str, tuple[Callable[[], str], Callable[[], str]]] = {
    "session": (session_dot, session_mermaid),
    "job": (job_dot, job_mermaid),
    "scheduler": (scheduler_dot, scheduler_mermaid),
}


def dot_binary() -> str:
    """The path of Graphviz's ``dot``; :class:`GraphvizMissing` if it is not installed."""
    found = shutil.which("dot")
    if found is None:
        raise GraphvizMissing()
    return found


def graphviz_version() -> str:
    """The installed Graphviz version, e.g. ``2.43.0 (0)``."""
    run = subprocess.run([dot_binary(), "-V"], capture_output=True, text=True, check=True)
    match = re.search(r"version\s+(\S+(?:\s+\([^)]*\))?)", run.stderr + run.stdout)
    return match.group(1) if match else "unknown"


def _font_match() -> str:
    """Which installed font stands in for :data:`FONT` (it sets the text widths)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return "unknown"
    run = subprocess.run([fc_match, "-f", "%{family[0]}", FONT], capture_output=True, text=True, check=False)
    return run.stdout.strip() or "unknown"


def renderer() -> str:
    """What the layout of the rendered files depends on: Graphviz version and font."""
    return f"Graphviz {graphviz_version()}, {FONT} as {_font_match()}"


_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
_RENDERER = re.compile(r"<!-- rendered by (.*?) -->")


def normalise_svg(svg: str, rendered_by: str, source: str) -> str:
    """Graphviz's SVG with its comments replaced by one stable header comment."""
    body = _COMMENT.sub("", svg)
    header = f"<!-- {GENERATED.format(source=source)} -->\n<!-- rendered by {rendered_by} -->\n"
    head, sep, rest = body.partition("<svg")
    return head + header + sep + rest


def render(dot_source: str, fmt: str) -> bytes:
    """Run ``dot`` on the source and return the SVG or PNG bytes."""
    args = [dot_binary(), f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={PNG_DPI}")
    run = subprocess.run(args, input=dot_source.encode(), capture_output=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {run.stderr.decode(errors='replace').strip()}")
    return run.stdout


def svg_text(name: str, rendered_by: str | None = None) -> str:
    """The normalised SVG of one diagram."""
    svg = render(SOURCES[name][0](), "svg").decode()
    return normalise_svg(svg, rendered_by or renderer(), f"{name}.dot")


def svg_renderer(svg: str) -> str | None:
    """Which renderer a normalised SVG records, if any."""
    match = _RENDERER.search(svg)
    return match.group(1) if match else None


def svg_fingerprint(svg: str) -> list[str]:
    """The layout-free content of an SVG: every title and text, in order."""
    return [
        " ".join(m.group(2).split())
        for m in re.finditer(r"<(title|text)\b[^>]*>(.*?)</\1>", svg, re.DOTALL)
        if m.group(2).strip()
    ]


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, or ``None`` when ``data`` is not a sound PNG."""
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        return None
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_ok(data: bytes) -> bool:
    """A valid PNG of a sensible size for a diagram."""
    size = png_size(data)
    return size is not None and 200 <= size[0] <= 6000 and 150 <= size[1] <= 6000


def expected_texts() -> dict[str, str]:
    """File name -> content of every text file (DOT and Mermaid)."""
    files: dict[str, str] = {}
    for name, (dot, mermaid) in SOURCES.items():
        files[f"{name}.dot"] = dot()
        files[f"{name}.mmd"] = mermaid()
    return files


def _wanted(formats: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown diagram format(s): {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    return wanted


def _write(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file holds it already; whether it was written."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def write_files(directory: Path, formats: Iterable[str] = FORMATS) -> list[tuple[Path, bool]]:
    """Like :func:`write_all`, telling for each path whether its content changed."""
    wanted = _wanted(formats)
    directory.mkdir(parents=True, exist_ok=True)
    done: list[tuple[Path, bool]] = []
    for file_name, text in expected_texts().items():
        if file_name.rsplit(".", 1)[1] in wanted:
            path = directory / file_name
            done.append((path, _write(path, text.encode())))
    rendered = [f for f in RENDERED_FORMATS if f in wanted]
    if rendered:
        rendered_by = renderer()
        for name, (dot, _) in SOURCES.items():
            for fmt in rendered:
                path = directory / f"{name}.{fmt}"
                data = svg_text(name, rendered_by).encode() if fmt == "svg" else render(dot(), "png")
                done.append((path, _write(path, data)))
    return done


def write_all(directory: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write every diagram in ``formats`` into ``directory``; return the paths.

    Text formats are written first and need nothing else; SVG and PNG need ``dot``
    and raise :class:`GraphvizMissing` without it (after the text files are written).
    A file whose content is already right is left untouched.
    """
    return [path for path, _ in write_files(directory, formats)]


@dataclass(frozen=True)
class FileCheck:
    """The verdict on one committed diagram file."""

    path: Path
    status: str  # "ok", "differs", "missing", "invalid" or "unchecked"
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "status": self.status, "note": self.note}


def check_all(directory: Path, formats: Iterable[str] = FORMATS) -> list[FileCheck]:
    """Compare the files in ``directory`` with what the declarations produce now.

    DOT and Mermaid texts must be identical. An SVG must be identical when it was
    rendered by the same Graphviz version and font as here; otherwise (the layout
    depends on both) its titles and texts must be. A PNG must be a valid image of
    sensible size. Without ``dot``, SVG files are reported ``unchecked``.
    """
    wanted = _wanted(formats)
    results: list[FileCheck] = []
    for file_name, text in expected_texts().items():
        if file_name.rsplit(".", 1)[1] in wanted:
            results.append(_compare_text(directory / file_name, text))
    rendered = [f for f in RENDERED_FORMATS if f in wanted]
    if not rendered:
        return results
    try:
        rendered_by = renderer()
    except GraphvizMissing:
        rendered_by = None
    for name in SOURCES:
        for fmt in rendered:
            path = directory / f"{name}.{fmt}"
            if not path.exists():
                results.append(FileCheck(path, "missing"))
            elif fmt == "png":
                ok = png_ok(path.read_bytes())
                results.append(FileCheck(path, "ok" if ok else "invalid", "" if ok else "not a sound PNG"))
            elif rendered_by is None:
                results.append(FileCheck(path, "unchecked", SETUP_HINT))
            else:
                results.append(_compare_svg(path, svg_text(name, rendered_by), rendered_by))
    return results


def _compare_text(path: Path, expected: str) -> FileCheck:
    if not path.exists():
        return FileCheck(path, "missing")
    same = path.read_bytes() == expected.encode()
    return FileCheck(path, "ok" if same else "differs")


def _compare_svg(path: Path, expected: str, rendered_by: str) -> FileCheck:
    committed = path.read_text(encoding="utf-8", errors="replace")
    committed_by = svg_renderer(committed)
    if committed_by == rendered_by:
        return FileCheck(path, "ok" if committed == expected else "differs")
    same = svg_fingerprint(committed) == svg_fingerprint(expected)
    note = f"rendered by {committed_by or 'an unknown renderer'}, here {rendered_by}: compared labels only"
    return FileCheck(path, "ok" if same else "differs", note)
