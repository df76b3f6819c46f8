"""The generated diagrams: committed files up to date, graphs equal to the declarations, rendering."""

from __future__ import annotations

import inspect
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from statemachine import StateMachine

from sessionspec.cli.diagrams import main
from sessionspec.model import guards
from sessionspec.model.compiled import JOB, SESSION, Edge, MachineTable
from sessionspec.model.core import FAIR_SHARE, RESERVATION, SESSION_PRIORITY
from sessionspec.model.declarations import Job, Session
from sessionspec.pictures import diagrams, lifecycle
from sessionspec.pictures.diagrams import (
    DEFAULT_DIR,
    GraphvizMissing,
    check_all,
    expected_texts,
    png_size,
    scheduler_flow,
    write_all,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's `dot` is not installed (bash scripts/setup)")
MACHINES = [pytest.param(Session, SESSION, id="Session"), pytest.param(Job, JOB, id="Job")]
ALL_FILES = sorted(f"{name}.{fmt}" for name in diagrams.SOURCES for fmt in diagrams.FORMATS)

# (source, target, label)
Triple = tuple[str, str, str]


# --- parsing the generated text back ------------------------------------------------


def parse_state_mermaid(text: str) -> tuple[str, set[str], list[Triple]]:
    """The initial state, the final states and the declared edges a stateDiagram-v2 stands for.

    An arrow from the composite ``live`` stands for one edge from each live state; a label
    of several lines (``<br/>``) for one edge per line; a ``... : stays in its state`` line
    of the composite's note for an internal edge of each live state.
    """
    lines = [line.strip() for line in text.splitlines()]
    assert lines[1] == "stateDiagram-v2"
    inner = {m.group(1) for line in lines if (m := re.fullmatch(r"state \"[^\"]+\" as (\w+) \{", line))}
    starts = [m.group(1) for line in lines if (m := re.fullmatch(r"\[\*\] --> (\w+)", line))]
    initial = [s for s in starts if s not in inner]
    finals = {m.group(1) for line in lines if (m := re.fullmatch(r"(\w+) --> \[\*\]", line))}
    opening = next((i for i, line in enumerate(lines) if line.startswith("state ")), None)
    block = lines[opening + 1 : lines.index("}")] if opening is not None else []  # inside the composite
    ends = [m.groups() for line in block if (m := re.fullmatch(r"(\S+) --> (\w+)(?: : .+)?", line))]
    live_states = sorted({state for pair in ends for state in pair} - {"[*]"})
    edges: list[Triple] = []
    for line in lines:
        if m := re.fullmatch(r"(\w+) --> (\w+) : (.+)", line):
            sources = live_states if m.group(1) in inner else [m.group(1)]
            edges += [(s, m.group(2), label) for label in m.group(3).split("<br/>") for s in sources]
        elif m := re.fullmatch(r"(.+): stays in its state", line):
            edges += [(s, s, m.group(1)) for s in live_states]
    assert len(initial) == 1, "exactly one [*] --> entry to a declared state"
    return initial[0], finals, edges


def _dot_unquote(text: str) -> str:
    return text.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def _dot_attrs(text: str) -> dict[str, str]:
    return {k: _dot_unquote(v) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', text)}


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """Nodes (name -> attributes) and edges (source, target, attributes) of the generated DOT."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    for line in text.splitlines():
        if m := re.fullmatch(r'\s*"(\w+)" -> "(\w+)"(?: \[(.*)\])?;', line):
            edges.append((m.group(1), m.group(2), _dot_attrs(m.group(3) or "")))
        elif m := re.fullmatch(r'\s*"(\w+)" \[(.*)\];', line):
            nodes[m.group(1)] = _dot_attrs(m.group(2))
    return nodes, edges


def dot_label(attributes: dict[str, str]) -> str:
    """A DOT edge label as one line, as the Mermaid text spells it."""
    return " ".join(attributes.get("label", "").split())


def expected_label(table: MachineTable, edge: Edge) -> str:
    """The label an edge must carry, spelled out here independently of the module."""
    label = edge.event.replace("_", " ")
    if edge.guards:
        guards = [g.name if g.expected else f"not {g.name}" for g in edge.guards]
        label += " [" + ", ".join(g.replace("_", " ") for g in guards) + "]"
    if edge.internal:
        label += " / " + lifecycle.INTERNAL_EFFECTS.get((table.name, edge.event), "internal")
    return label


def introspected(
    machine: type[StateMachine],
) -> tuple[set[str], str, set[str], Counter[tuple[str, str, str]]]:
    """States, initial, finals and (source, target, event) edges, from python-statemachine itself."""
    states = {str(s.value) for s in machine.states}
    assert machine.initial_state is not None
    finals = {str(s.value) for s in machine.final_states}
    edges: Counter[tuple[str, str, str]] = Counter()
    for state in machine.states:
        for transition in state.transitions:
            assert transition.target is not None
            for event in transition.events:
                edges[(str(state.value), str(transition.target.value), str(event.id))] += 1
    return states, str(machine.initial_state.value), finals, edges


def _event_of(label: str) -> str:
    """The event words at the head of a label (before any guard or effect)."""
    return re.split(r" \[| /", label, maxsplit=1)[0]


# --- drift: the committed files are what the declarations produce now ---------------


def test_committed_text_diagrams_are_up_to_date() -> None:
    """Every committed .dot and .mmd file equals what the declarations produce now."""
    stale = [
        name
        for name, text in expected_texts().items()
        if not (DEFAULT_DIR / name).exists() or (DEFAULT_DIR / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"out of date: {', '.join(stale)}; regenerate them with `sessionspec diagrams`"


@NEEDS_DOT
def test_committed_rendered_diagrams_are_up_to_date() -> None:
    """Every committed SVG matches a fresh rendering, and every PNG is a sound image."""
    bad = [f"{r.path.name}: {r.status}" for r in check_all(DEFAULT_DIR, ("svg", "png")) if r.status != "ok"]
    assert not bad, f"{'; '.join(bad)}; regenerate them with `sessionspec diagrams`"


def test_the_diagrams_directory_holds_every_file_and_a_readme() -> None:
    """diagrams/ has all twelve generated files and the README that explains them."""
    present = {p.name for p in DEFAULT_DIR.iterdir()}
    assert set(ALL_FILES) <= present
    assert DEFAULT_DIR == ROOT / "diagrams"
    readme = (DEFAULT_DIR / "README.md").read_text(encoding="utf-8")
    assert "sessionspec diagrams" in readme


def test_generated_text_is_deterministic_and_marked_generated() -> None:
    """Two generations are identical, and each file says it is generated."""
    first, second = expected_texts(), expected_texts()
    assert first == second
    for name, text in first.items():
        assert "generated by `sessionspec diagrams`" in text.splitlines()[0], name
        assert text.endswith("\n") and "\r" not in text, name


# --- the state diagrams are exactly the declared machines ---------------------------


@pytest.mark.parametrize(("machine", "table"), MACHINES)
def test_mermaid_graph_is_the_declared_machine(machine: type[StateMachine], table: MachineTable) -> None:
    """The Mermaid text stands for exactly the declared initial state, finals and labelled edges."""
    text = lifecycle.machine_mermaid(table)
    initial, finals, edges = parse_state_mermaid(text)
    assert initial == table.initial
    assert finals == set(table.finals)
    assert Counter(edges) == Counter((e.source, e.target, expected_label(table, e)) for e in table.edges)
    states, lib_initial, lib_finals, lib_edges = introspected(machine)
    assert {s for edge in edges for s in edge[:2]} | {initial} | finals == states
    assert (initial, finals) == (lib_initial, lib_finals)
    assert Counter((s, t, _event_of(label)) for s, t, label in edges) == Counter(
        {(s, t, ev.replace("_", " ")): n for (s, t, ev), n in lib_edges.items()}
    )
    assert len(edges) == sum(lib_edges.values())


def _dot_declared_edges(text: str) -> list[Triple]:
    """The declared edges a generated DOT graph stands for, as parse_state_mermaid reads Mermaid."""
    _, edges = parse_dot(text)
    boxed = re.search(r'subgraph "cluster_live" \{\n    graph \[label="((?:[^"\\]|\\.)*)"', text)
    in_box = re.findall(r'^    "(\w+)" \[', text, re.MULTILINE)
    live = [s for s in in_box if s != "__start__"]
    found: list[Triple] = []
    for source, target, attributes in edges:
        if source == "__start__":
            continue
        sources = live if attributes.get("ltail") == "cluster_live" else [source]
        found += [(s, target, dot_label(attributes)) for s in sources]
    if boxed:
        for line in boxed.group(1).split("\\l"):
            if m := re.fullmatch(r"(.+): stays in its state", line):
                found += [(s, s, m.group(1)) for s in live]
    return found


@pytest.mark.parametrize(("machine", "table"), MACHINES)
def test_dot_graph_is_the_declared_machine(machine: type[StateMachine], table: MachineTable) -> None:
    """The DOT source has one node per state, finals as double circles, and stands for every edge."""
    text = lifecycle.machine_dot(table)
    nodes, edges = parse_dot(text)
    states, initial, finals, lib_edges = introspected(machine)
    assert set(nodes) == states | {"__start__"}
    assert nodes["__start__"]["shape"] == "point"
    assert {s for s in states if nodes[s]["shape"] == "doublecircle"} == finals
    assert {s for s in states if nodes[s]["shape"] == "circle"} == states - finals
    entry = [(s, t) for s, t, _ in edges if s == "__start__"]
    assert entry == [("__start__", initial)]
    drawn = _dot_declared_edges(text)
    assert Counter(drawn) == Counter((e.source, e.target, expected_label(table, e)) for e in table.edges)
    assert len(drawn) == sum(lib_edges.values())
    loops = [a for s, t, a in edges if s == t]
    assert all(a.get("style") == "dashed" for a in loops)


def test_session_diagram_draws_close_cancel_and_drained_once() -> None:
    """Session: cancel, close and drained leave the live box as one arrow each, in DOT and Mermaid."""
    _, edges = parse_dot(lifecycle.session_dot())
    from_box = sorted(dot_label(a) for _, _, a in edges if a.get("ltail") == "cluster_live")
    assert from_box == ["cancel", "close [is idle]", "drained [is idle, not is accepting]"]
    assert [dot_label(a) for _, _, a in edges].count("cancel") == 1
    assert not [a for s, t, a in edges if s == t], "the internal close is written once, in the box"
    mermaid = lifecycle.session_mermaid()
    assert re.findall(r"^    live --> (\w+) : (.+)$", mermaid, re.MULTILINE) == [
        ("canceled", "cancel"),
        ("closed", "close [is idle]<br/>drained [is idle, not is accepting]"),
    ]
    assert mermaid.count("stays in its state") == 1


def _guard_doc(name: str) -> str:
    doc = inspect.getdoc(getattr(guards, name))
    assert doc, name
    return doc.splitlines()[0]


def test_session_diagrams_define_every_guard() -> None:
    """Each guard the Session machine uses is explained, by its docstring, in DOT and in Mermaid."""
    used = {g.name for e in SESSION.edges for g in e.guards}
    assert used == {"is_idle", "is_accepting", "before_max_ttl", "never_got_job"}
    dot = lifecycle.session_dot()
    mermaid = lifecycle.session_mermaid()
    for name in used:
        meaning = _guard_doc(name)
        assert f'<td align="left">{name.replace("_", " ")}</td><td align="left">{meaning}' in dot
        assert f"[{name.replace('_', ' ')}]: {meaning}" in mermaid
    assert "Guards" not in lifecycle.job_dot() and "note" not in lifecycle.job_mermaid()


def test_public_functions_give_the_session_and_job_graphs() -> None:
    """session_dot/job_dot/session_mermaid/job_mermaid draw the machine they are named after."""
    assert lifecycle.session_dot() == lifecycle.machine_dot(SESSION)
    assert lifecycle.job_dot() == lifecycle.machine_dot(JOB)
    assert lifecycle.session_mermaid() == lifecycle.machine_mermaid(SESSION)
    assert lifecycle.job_mermaid() == lifecycle.machine_mermaid(JOB)
    assert 'digraph "Session"' in lifecycle.session_dot() and 'digraph "Job"' in lifecycle.job_dot()


def test_internal_self_loops_are_labelled_with_their_effect() -> None:
    """Every named effect belongs to a declared internal edge, and the diagrams say what it does."""
    for machine, event in lifecycle.INTERNAL_EFFECTS:
        table = {SESSION.name: SESSION, JOB.name: JOB}[machine]
        assert any(e.internal and e.event == event for e in table.edges), (machine, event)
    assert "close [not is idle] / stop accepting: stays in its state" in lifecycle.session_mermaid()
    assert sum(e.internal for e in SESSION.edges) == len(SESSION.states) - len(SESSION.finals)


# --- the scheduler flowchart --------------------------------------------------------


def test_scheduler_dot_and_mermaid_draw_the_same_flow() -> None:
    """Both scheduler texts have exactly the boxes and arrows of scheduler_flow()."""
    steps, arrows = scheduler_flow()
    nodes, edges = parse_dot(diagrams.scheduler_dot())
    assert set(nodes) == {s.id for s in steps}
    assert [(s, t, a.get("label", "")) for s, t, a in edges] == [
        (a.source, a.target, a.label) for a in arrows
    ]
    mermaid = diagrams.scheduler_mermaid()
    assert mermaid.splitlines()[1] == "flowchart TD"
    found = re.findall(r"^    (\w+) -->(?:\|([^|]*)\|)? (\w+)$", mermaid, re.MULTILINE)
    assert [(s, t, label) for s, label, t in found] == [(a.source, a.target, a.label) for a in arrows]
    boxes = re.findall(r"^    (\w+)[\[({]", mermaid, re.MULTILINE)
    assert boxes == [s.id for s in steps]


def test_scheduler_flow_names_the_tiers_and_session_events_of_the_model() -> None:
    """The flowchart uses model.scheduler's tier names and the declared activating events."""
    steps, arrows = scheduler_flow()
    text = "\n".join(s.text for s in steps)
    for tier in (RESERVATION, SESSION_PRIORITY, FAIR_SHARE):
        assert f"{tier} tier" in text
    for source, target in (("pending", "active"), ("inactive", "active"), ("active", "inactive")):
        edge = next(e for e in SESSION.edges if (e.source, e.target) == (source, target))
        assert expected_label(SESSION, edge) in text
    targets = {a.target for a in arrows}
    assert all(s.kind == "start" or s.id in targets for s in steps), "every box but a start is reached"
    decisions = {s.id for s in steps if s.kind == "decision"}
    for decision in decisions:
        assert sorted(a.label for a in arrows if a.source == decision) == ["no", "yes"], decision


# --- rendering ----------------------------------------------------------------------


@NEEDS_DOT
def test_rendering_gives_pngs_and_svgs_of_sensible_size(tmp_path: Path) -> None:
    """write_all renders every diagram to a valid PNG of sensible size and a clean SVG."""
    paths = write_all(tmp_path, ("svg", "png"))
    assert sorted(p.name for p in paths) == sorted(
        f"{n}.{f}" for n in diagrams.SOURCES for f in ("svg", "png")
    )
    for name in diagrams.SOURCES:
        size = png_size((tmp_path / f"{name}.png").read_bytes())
        assert size is not None, name
        width, height = size
        assert 300 <= width <= 4000 and 300 <= height <= 4000, (name, size)
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert svg.count("<!--") == 2 and "Generated by graphviz" not in svg
        assert "<svg" in svg and svg.rstrip().endswith("</svg>")


@NEEDS_DOT
def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    """Writing twice gives identical files, and the second write changes nothing."""
    first = {p.name: p.read_bytes() for p in write_all(tmp_path / "a")}
    done = diagrams.write_files(tmp_path / "a")
    assert not [p.name for p, changed in done if changed]
    second = {p.name: p.read_bytes() for p in write_all(tmp_path / "b")}
    assert first == second and sorted(first) == ALL_FILES


def test_png_size_refuses_what_is_not_a_png() -> None:
    """png_size reads a PNG's header and refuses other bytes."""
    assert png_size(b"") is None
    assert png_size(b"GIF89a" + bytes(40)) is None
    png = (DEFAULT_DIR / "job.png").read_bytes()
    assert png_size(png[:40]) is None, "a truncated PNG is not sound"
    assert png_size(png) is not None


def test_without_dot_text_formats_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without `dot`, the text files are written and rendering fails with the setup hint."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match=r"bash scripts/setup"):
        write_all(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected_texts())
    assert write_all(tmp_path, ("dot", "mmd")) == [tmp_path / n for n in expected_texts()]
    assert main(["--out", str(tmp_path)]) == 2
    statuses = {r.path.name: r.status for r in check_all(DEFAULT_DIR)}
    assert {statuses[f"{n}.svg"] for n in diagrams.SOURCES} == {"unchecked"}
    assert {statuses[f"{n}.png"] for n in diagrams.SOURCES} == {"ok"}


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    """write_all names an unknown format instead of ignoring it."""
    with pytest.raises(ValueError, match="pdf"):
        write_all(tmp_path, ("dot", "pdf"))


# --- the command --------------------------------------------------------------------


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec diagrams --check` exits 0 on the committed diagrams/."""
    assert main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def _copy_committed(tmp_path: Path) -> Path:
    copy = tmp_path / "diagrams"
    shutil.copytree(DEFAULT_DIR, copy)
    return copy


def test_check_fails_and_names_an_altered_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--check exits 1 and lists the file that no longer matches, and 0 once regenerated."""
    copy = _copy_committed(tmp_path)
    assert main(["--check", "--out", str(copy)]) == 0
    altered = copy / "session.mmd"
    altered.write_text(altered.read_text(encoding="utf-8").replace("cancel", "abort"), encoding="utf-8")
    (copy / "job.dot").unlink()
    capsys.readouterr()
    assert main(["--check", "--out", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"differs    {altered}" in out and f"missing    {copy / 'job.dot'}" in out
    assert "session.dot" not in out
    assert main(["--out", str(copy)]) == (0 if HAS_DOT else 2)
    assert main(["--check", "--out", str(copy)]) == 0


@NEEDS_DOT
def test_check_fails_on_an_altered_svg_or_broken_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check catches an SVG edited by hand and a PNG that is not an image."""
    copy = _copy_committed(tmp_path)
    svg = copy / "job.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace(">running<", ">walking<"), encoding="utf-8")
    (copy / "scheduler.png").write_bytes(b"not a png")
    assert main(["--check", "--out", str(copy), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    bad = {Path(f["path"]).name: f["status"] for f in report["files"] if f["status"] != "ok"}
    assert bad == {"job.svg": "differs", "scheduler.png": "invalid"} and report["ok"] is False


@NEEDS_DOT
def test_svg_from_another_renderer_is_compared_by_its_labels(tmp_path: Path) -> None:
    """An SVG rendered elsewhere (other Graphviz or font) passes if its labels match, else not."""
    copy = _copy_committed(tmp_path)
    svg = copy / "session.svg"
    text = svg.read_text(encoding="utf-8")
    moved = re.sub(r'x="([\d.]+)"', lambda m: f'x="{float(m.group(1)) + 1:.2f}"', text)
    svg.write_text(
        moved.replace("rendered by Graphviz", "rendered by Graphviz 0.0 elsewhere"), encoding="utf-8"
    )
    result = next(r for r in check_all(copy, ("svg",)) if r.path == svg)
    assert result.status == "ok" and "compared labels only" in result.note
    svg.write_text(svg.read_text(encoding="utf-8").replace(">pending<", ">waiting<"), encoding="utf-8")
    result = next(r for r in check_all(copy, ("svg",)) if r.path == svg)
    assert result.status == "differs"


def test_json_lists_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the files with their status, written or checked."""
    copy = _copy_committed(tmp_path)
    assert main(["--check", "--json", "--out", str(copy)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and sorted(Path(f["path"]).name for f in report["files"]) == ALL_FILES
    if HAS_DOT:
        assert main(["--json", "--out", str(copy)]) == 0
        written = json.loads(capsys.readouterr().out)
        assert {f["status"] for f in written["files"]} == {"unchanged"}
        assert sorted(Path(f["path"]).name for f in written["files"]) == ALL_FILES
