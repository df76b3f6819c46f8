"""The Session and Job lifecycle diagrams, as DOT and Mermaid text, read off the declarations.

A *live* state is one that is not final. Several declared edges often differ only in
their source: a session can be canceled, closed or drained from each of its three
live states. Drawn one by one they triple the arrows; drawn once, from a compound
state that holds every live state, they read at a glance (a job, with two live
states, gains too little to merge). :func:`drawn_edges` does that merge, from the
compiled tables alone, so the picture stays the declarations:

>>> live_states(SESSION)
('pending', 'active', 'inactive')
>>> [(d.edge.event, "stays" if d.edge.internal else d.edge.target)
...  for d in drawn_edges(SESSION) if d.from_live]
[('cancel', 'canceled'), ('close', 'closed'), ('close', 'stays'), ('drained', 'closed')]
>>> [d.sources for d in drawn_edges(SESSION) if d.edge.event == "max_timeout"]
[('active',), ('inactive',)]
>>> any(d.from_live for d in drawn_edges(JOB))
False

:func:`guard_meanings` gives each guard's meaning, read off its predicate's docstring,
for the legend; :func:`machine_dot` and :func:`machine_mermaid` draw a machine with both:

>>> guard_meanings(SESSION)["is_idle"]
'The session has no job queued or running.'
>>> print(machine_mermaid(SESSION).splitlines()[3])
    state "live (not ended)" as live {
"""

from __future__ import annotations

from dataclasses import dataclass

from sessionspec.model.compiled import JOB, SESSION, Edge, Guard, MachineTable
from sessionspec.pictures.dot import FINAL_FILL, GENERATED, STATE_FILL, attrs, graph_header, html, quote

SHORT_LINE = 24
"""Guards share the event's line of a label when both fit in this many characters."""

# What an internal transition does besides staying put. The declarations carry no
# action for it (the core sets the flag), so the label says it here; the tests check
# that every entry names an internal edge that is still declared.
INTERNAL_EFFECTS: dict[tuple[str, str], str] = {("Session", "close"): "stop accepting"}

LIVE = "live"
"""The name of the compound state in the diagrams (no declared state may take it)."""
MERGE_AT_LEAST = 3
"""Edges alike are merged when there are this many: a box costs more to read than one extra arrow."""
LIVE_CLUSTER = f"cluster_{LIVE}"  # dot draws a subgraph whose name starts with "cluster" as a box
LIVE_FILL = "#f7f9fd"


@dataclass(frozen=True)
class DrawnEdge:
    """One arrow: a declared edge, or several alike but for their source, drawn from the compound.

    ``edge`` is the first of them (all share event, guards, kind and, unless internal,
    target); ``sources`` are the declared sources it stands for.
    """

    sources: tuple[str, ...]
    edge: Edge
    from_live: bool


def live_states(table: MachineTable) -> tuple[str, ...]:
    """The machine's states that are not final, in declaration order."""
    return tuple(state for state in table.states if state not in table.finals)


def drawn_edges(table: MachineTable) -> list[DrawnEdge]:
    """Every declared edge once: those leaving each live state alike merged into one arrow
    (when there are at least :data:`MERGE_AT_LEAST` of them).

    Edges are alike when they share event, guards and kind, and their target (an
    internal edge's target is its own source, so internal edges are alike by the
    other three). Order: by the first declared edge of each group.
    """
    if LIVE in table.states:
        raise ValueError(f"{table.name} declares a state named {LIVE!r}, the diagrams' compound state")
    groups: dict[tuple[str, tuple[Guard, ...], bool, str | None], list[Edge]] = {}
    for edge in table.edges:
        key = (edge.event, edge.guards, edge.internal, None if edge.internal else edge.target)
        groups.setdefault(key, []).append(edge)
    live = set(live_states(table))
    drawn: list[DrawnEdge] = []
    for edges in groups.values():
        sources = tuple(edge.source for edge in edges)
        if len(edges) >= MERGE_AT_LEAST and set(sources) == live:
            drawn.append(DrawnEdge(sources, edges[0], from_live=True))
        else:
            drawn += [DrawnEdge((edge.source,), edge, from_live=False) for edge in edges]
    return drawn


def guard_meanings(table: MachineTable) -> dict[str, str]:
    """Each guard the machine uses -> the first line of its predicate's docstring."""
    meanings: dict[str, str] = {}
    for edge in table.edges:
        for guard in edge.guards:
            doc = (guard.predicate.__doc__ or "").strip().splitlines()
            meanings.setdefault(guard.name, doc[0] if doc else guard.name)
    return meanings


# --- labels -----------------------------------------------------------------------


def words(name: str) -> str:
    """An identifier as words: ``first_job_started`` -> ``first job started``."""
    return name.replace("_", " ")


def guard_text(edge: Edge) -> str:
    """The guards of an edge in brackets, or the empty string."""
    if not edge.guards:
        return ""
    return "[" + ", ".join(words(g.label()) for g in edge.guards) + "]"


def internal_effect(table: MachineTable, edge: Edge) -> str:
    """What an internal transition does (``/ effect``), or the empty string."""
    if not edge.internal:
        return ""
    return "/ " + INTERNAL_EFFECTS.get((table.name, edge.event), "internal")


def edge_label(table: MachineTable, edge: Edge, *, multiline: bool = False) -> str:
    """``event [guards] / effect`` on one line, or broken into short lines when ``multiline``.

    Broken up, the guards share the event's line when both fit in :data:`SHORT_LINE`
    characters, and the effect of an internal transition gets a line of its own.
    """
    event, guards, effect = words(edge.event), guard_text(edge), internal_effect(table, edge)
    if not multiline:
        return " ".join(p for p in (event, guards, effect) if p)
    head = f"{event} {guards}" if guards and len(event) + len(guards) < SHORT_LINE else event
    lines = [head, guards if head == event else "", effect]
    return "\n".join(line for line in lines if line)


def _state_node(table: MachineTable, state: str, indent: str = "  ") -> str:
    final = state in table.finals
    style = attrs(
        shape="doublecircle" if final else "circle",
        style="filled",
        fillcolor=FINAL_FILL if final else STATE_FILL,
        width=1.15,
        fixedsize="true",
    )
    return f"{indent}{quote(state)} {style};"


def stays_label(table: MachineTable, edge: Edge) -> str:
    """An internal edge taken in every live state: ``close [not is idle] / stop accepting: stays``."""
    return f"{edge_label(table, edge)}: stays in its state"


def guard_legend(table: MachineTable) -> str:
    """An HTML-like DOT label: a table of the machine's guards and what each means ('' if none)."""
    meanings = guard_meanings(table)
    if not meanings:
        return ""
    rows = "".join(
        f'<tr><td align="left">{html(words(name))}</td><td align="left">{html(text)}</td></tr>'
        for name, text in meanings.items()
    )
    head = "<b>Guards</b>: [g] needs g to hold, [not g] needs it not to"
    return (
        f'<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
        f'<tr><td colspan="2" align="left">{head}</td></tr>{rows}</table>'
    )


def machine_dot(table: MachineTable) -> str:
    """DOT source of a declared machine: its states, initial marker, finals and every edge.

    Left to right, from the entry point to the final states, which share the last column.
    Edges that leave each live (non-final) state alike are drawn once
    (:func:`~sessionspec.pictures.lifecycle.drawn_edges`), from a box that holds the live
    states; an internal one taken in every live state is written in the box's title. A
    table under the title says what each guard means.
    """
    drawn = drawn_edges(table)
    live = live_states(table)
    boxed = any(d.from_live for d in drawn)
    anchor = live[len(live) // 2]  # arrows from the box start at its border, level with this state
    lines = graph_header(table.name, f"{table.name} lifecycle", "LR", "model/declarations.py")
    legend = guard_legend(table)
    if legend:  # under the title: the graph's label gets room of its own, which no edge crosses
        title = f'<tr><td><font point-size="14">{html(table.name)} lifecycle</font></td></tr>'
        legend_row = f'<tr><td><font point-size="11">{legend}</font></td></tr>'
        lines.append(f'  graph [label=<<table border="0" cellpadding="3">{title}{legend_row}</table>>];')
    indent = "  "
    if boxed:
        stays = [stays_label(table, d.edge) for d in drawn if d.from_live and d.edge.internal]
        box = quote("\n".join([f"{LIVE} (not ended)", *stays]), left=True)
        style = attrs(labeljust="l", labelloc="t", fontsize=12, style="rounded,filled", fillcolor=LIVE_FILL)
        lines += [
            f"  graph {attrs(compound='true')};",
            f"  subgraph {quote(LIVE_CLUSTER)} {{",
            f"    graph [label={box}, {style[1:]};",
        ]
        indent = "    "
    lines.append(f"{indent}{quote('__start__')} {attrs(shape='point', width=0.15, label='')};")
    lines += [_state_node(table, state, indent) for state in live]
    if boxed:
        lines.append("  }")
    lines += [_state_node(table, state) for state in table.states if state in table.finals]
    lines.append(f"  {quote('__start__')} -> {quote(table.initial)};")
    for item in drawn:
        edge = item.edge
        if item.from_live and edge.internal:
            continue  # in the box's title
        label = edge_label(table, edge, multiline=True)
        style_of: dict[str, str] = {"label": label + ("\n " if edge.internal else "")}
        if edge.internal:  # a blank last line lifts a loop's label clear of the loop
            style_of.update(style="dashed", color="#555555", fontcolor="#333333")
        if item.from_live:
            style_of["ltail"] = LIVE_CLUSTER
        source = anchor if item.from_live else edge.source
        lines.append(f"  {quote(source)} -> {quote(edge.target)} {attrs(**style_of)};")
    finals = " ".join(quote(s) for s in table.states if s in table.finals)
    lines.append(f"  {{ rank=same; {finals} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def session_dot() -> str:
    """Graphviz DOT source of the Session lifecycle."""
    return machine_dot(SESSION)


def job_dot() -> str:
    """Graphviz DOT source of the Job lifecycle."""
    return machine_dot(JOB)


# --- Mermaid text -----------------------------------------------------------------


def machine_mermaid(table: MachineTable) -> str:
    """Mermaid ``stateDiagram-v2`` text of a declared machine, grouped as :func:`machine_dot` is.

    The live states form a composite state, and edges leaving each of them alike start
    from it. Arrows with the same two ends become one, with a line of label per edge
    (Mermaid's layout would draw them on top of each other). Internal edges taken in
    every live state are a note on the composite, the guards' meanings a note on the
    first final state.
    """
    drawn = drawn_edges(table)
    inner = set(live_states(table))
    arrows: dict[tuple[str, str], list[str]] = {}
    for item in drawn:
        if not (item.from_live and item.edge.internal):
            ends = (LIVE if item.from_live else item.edge.source, item.edge.target)
            arrows.setdefault(ends, []).append(edge_label(table, item.edge))
    lines = [f"%% {GENERATED.format(source='model/declarations.py')}", "stateDiagram-v2"]
    boxed = any(d.from_live for d in drawn)
    inside: list[str] = []
    outside: list[str] = []
    for (source, target), labels in arrows.items():
        line = f"{source} --> {target} : {'<br/>'.join(labels)}"
        (inside if boxed and source in inner and target in inner else outside).append(line)
    if boxed:
        lines += [f"    [*] --> {LIVE}", f'    state "{LIVE} (not ended)" as {LIVE} {{']
        lines += [f"        [*] --> {table.initial}", *(f"        {line}" for line in inside), "    }"]
    else:
        lines.append(f"    [*] --> {table.initial}")
    lines += [f"    {line}" for line in outside]
    stays = [stays_label(table, d.edge) for d in drawn if d.from_live and d.edge.internal]
    if stays:
        lines += [f"    note right of {LIVE}", *(f"        {text}" for text in stays), "    end note"]
    finals = [s for s in table.states if s in table.finals]
    meanings = guard_meanings(table)
    if meanings:
        lines.append(f"    note left of {finals[0]}")
        lines += [f"        [{words(name)}]: {text}" for name, text in meanings.items()]
        lines.append("    end note")
    lines += [f"    {s} --> [*]" for s in finals]
    return "\n".join(lines) + "\n"


def session_mermaid() -> str:
    """Mermaid ``stateDiagram-v2`` text of the Session lifecycle."""
    return machine_mermaid(SESSION)


def job_mermaid() -> str:
    """Mermaid ``stateDiagram-v2`` text of the Job lifecycle."""
    return machine_mermaid(JOB)
