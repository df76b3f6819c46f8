"""docs/sources.md: every citation of a rule or of the decision register resolves inside the repository."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sessionspec.invariants import RULES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"
REGISTER = ROOT / "docs" / "decisions.md"
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}


def _norm(text: str) -> str:
    """Lower case, one space between words, no final question mark: how section names compare."""
    return " ".join(text.split()).lower().rstrip("?")


@dataclass
class Sources:
    """What docs/sources.md defines: its keys and, per (key, section), the section's text."""

    keys: set[str]
    sections: dict[tuple[str, str], str] = field(default_factory=dict)

    def section(self, key: str, name: str) -> str | None:
        return self.sections.get((key.lower(), _norm(name)))

    def under(self, key: str) -> str:
        """All the text of one key's sections."""
        return "\n".join(text for (k, _), text in self.sections.items() if k == key.lower())


def read_sources(text: str) -> Sources:
    """Parse the keys table and the ``### KEY "Section"`` headings of docs/sources.md."""
    table = text[text.index("## Citation keys") :].split("\n## ", 1)[0]
    keys = set(re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE))
    sources = Sources(keys)
    parts = re.split(r'^### (\w+)(?: section (\d+))? "([^"]+)"\n', text, flags=re.MULTILINE)
    for i in range(1, len(parts), 4):
        key, number, name, body = parts[i : i + 4]
        body = body.split("\n## ", 1)[0]
        sources.sections[(key.lower(), _norm(number or name))] = body
        if number:  # protocol sections are found by number and by name
            sources.sections[(key.lower(), _norm(name))] = body
    return sources


SOURCES_TEXT = SOURCES.read_text(encoding="utf-8")
PARSED = read_sources(SOURCES_TEXT)


def _qualifier_problems(body: str, where: str, qualifier: str) -> list[str]:
    """Items, bullets and labelled notes a citation names after its section, missing from the section."""
    problems: list[str] = []
    q = qualifier.lower()
    numbers: list[str] = []
    if m := re.match(r"\s*,?\s*(?:items? )?(\d+)(?: and (\d+))?", q):
        numbers = [n for n in m.groups() if n]
    for n in numbers:
        if not re.search(rf"^{n}\. ", body, re.MULTILINE):
            problems.append(f"{where} has no item {n}")
    bullets = [b for m in re.finditer(r"bullets? (\d+)(?: and (\d+))?", q) for b in m.groups() if b]
    bullets += [str(ORDINALS[w]) for w in re.findall(r"(\w+) bullet\b", q) if w in ORDINALS]
    notes = [label for label in ("Footnote", "Last sentence", "Note on reservations") if label.lower() in q]
    for label in [f"Bullet {b}" for b in bullets] + notes:
        if f"*{label}*" not in body:
            problems.append(f"{where} has no {label.lower()}")
    return problems


def rule_citation_problems(citation: str, sources: Sources = PARSED) -> list[str]:
    """Why one citation of a rule's source does not resolve (nothing when it does)."""
    citation = citation.strip()
    if m := re.fullmatch(r"(INTRO|QUEUE) '([^']+)'(.*)", citation):
        key, name, rest = m.groups()
        body = sources.section(key, name)
        if key not in sources.keys or body is None:
            return [f"{key} has no section '{name}'"]
        return _qualifier_problems(body, f"{key} '{name}'", rest.split("(")[0])
    if m := re.fullmatch(r"facts: (.+)", citation):
        if "facts" in sources.keys and _norm(m.group(1)) in _norm(sources.under("facts")):
            return []
        return [f"no fact says '{m.group(1)}'"]
    if m := re.fullmatch(r"reading gap (\d+)", citation):
        body = sources.section("reading", "Gaps") or ""
        return [] if re.search(rf"^{m.group(1)}\. ", body, re.MULTILINE) else [f"no reading gap {m.group(1)}"]
    if m := re.fullmatch(r"reading: (.+)", citation):
        return [] if sources.section("reading", m.group(1)) is not None else [f"no reading '{m.group(1)}'"]
    if m := re.fullmatch(r"protocol v1 section (\d+) \(?'([^']+)'\)?", citation):
        body = sources.section("protocol", m.group(1))
        if body is None or f"*'{m.group(2)}'*" not in body:
            return [f"protocol section {m.group(1)} has no '{m.group(2)}'"]
        return []
    if citation.startswith("decision ("):
        return [] if "decision" in sources.keys and REGISTER.exists() else ["no decision register"]
    if m := re.fullmatch(r"([\w/]+\.\w+)(?: \(.*\))?", citation):
        return [] if (ROOT / m.group(1)).is_file() else [f"no file {m.group(1)}"]
    return [f"'{citation}' is no citation form that docs/sources.md defines"]


def register_citation_problems(text: str, sources: Sources = PARSED) -> list[str]:
    """Why citations of the decision register's prose do not resolve (nothing when they all do)."""
    flat = " ".join(text.split())
    problems: list[str] = []
    for m in re.finditer(r"\b(INTRO|QUEUE) (\"[^:;]*?)(?=[:;]|\. |$)", flat):
        key, clause = m.groups()
        for s in re.finditer(r'"([^"]+)"([^"]*)', clause):
            name, qualifier = s.groups()
            body = sources.section(key, name)
            if body is None:
                problems.append(f'{key} has no section "{name}"')
            else:
                problems += _qualifier_problems(body, f'{key} "{name}"', qualifier)
    for m in re.finditer(r'\bFacts ((?:"[^"]+"(?:, )?)+)', flat):
        for name in re.findall(r'"([^"]+)"', m.group(1)):
            if sources.section("facts", name) is None:
                problems.append(f'no facts "{name}"')
    for m in re.finditer(r"\b[Rr]eading gap (\d+)", flat):
        problems += rule_citation_problems(f"reading gap {m.group(1)}", sources)
    for m in re.finditer(r'\b[Pp]rotocol sections? (\d+)(?:(?:-| and )(\d+))?(?: "([^"]+)")?', flat):
        first, last, name = m.groups()
        for number in range(int(first), int(last or first) + 1):
            body = sources.section("protocol", str(number))
            if body is None:
                problems.append(f"no protocol section {number}")
            elif name and f"*'{name}'*" not in body:
                problems.append(f'protocol section {number} has no "{name}"')
    return problems


def citations(source: str) -> list[str]:
    """A rule's source split into its citations: at semicolons outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(source):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
    return [*parts, source[start:]]


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_citation_of_a_rule_resolves(rule: str) -> None:
    """Each part of a rule's source names a key, section and item that docs/sources.md defines."""
    problems = [p for part in citations(RULES[rule].source) for p in rule_citation_problems(part)]
    assert not problems, f"{rule}: {'; '.join(problems)} (define it in docs/sources.md)"


def test_every_citation_of_the_register_resolves() -> None:
    """Every INTRO, QUEUE, Facts, reading and protocol citation in docs/decisions.md resolves."""
    text = REGISTER.read_text(encoding="utf-8")
    assert text.count("INTRO ") > 10 and text.count("Facts ") > 10, "the register cites its sources"
    problems = register_citation_problems(text)
    assert not problems, "; ".join(problems) + " (define them in docs/sources.md)"


def test_the_register_points_to_the_sources_page() -> None:
    """The register names docs/sources.md, and no longer a file that is not in the repository."""
    text = REGISTER.read_text(encoding="utf-8")
    assert "(sources.md)" in text
    for gone in ("sessions-introduction.txt", "reading-of-the-seeds.md", "ibm-runtime-facts.md"):
        assert gone not in text


def test_unresolved_citations_are_caught() -> None:
    """Citations of a missing section, item, bullet, fact, gap or file are each reported."""
    wrong = [
        "INTRO 'How sessions work' 9",
        "QUEUE 'How to cancel a job'",
        "facts: sessions last forever",
        "reading gap 17",
        "reading: properties nobody checks",
        "protocol v1 section 1 'Nowhere'",
        "model/nowhere.py (a file)",
        "SEED 'How sessions work'",
    ]
    for citation in wrong:
        assert rule_citation_problems(citation), citation
    register = 'INTRO "End a session", bullet 7. Facts "Weather". Protocol sections 1-4. Reading gap 99.'
    assert len(register_citation_problems(register)) == 4
    assert not rule_citation_problems("INTRO 'How sessions work' 4 and its footnote")


def test_every_key_has_a_section_and_every_page_an_address() -> None:
    """Each key has sections on the page, and each IBM page has a title, an https address and a use."""
    assert {"INTRO", "QUEUE", "facts", "reading", "protocol", "decision"} <= PARSED.keys
    for key in ("INTRO", "QUEUE", "facts", "reading", "protocol"):
        assert PARSED.under(key).strip(), key
    table = SOURCES_TEXT[SOURCES_TEXT.index("## The IBM pages relied on") :].split("\n## ", 1)[0]
    rows = [row for row in table.splitlines() if row.startswith("| ") and not row.startswith("| Page")]
    assert len(rows) >= 10
    for row in rows:
        title, address, use = (cell.strip() for cell in row.strip("|").split(" | "))
        assert title and use and "<https://" in address, row


def test_every_fact_names_its_public_source() -> None:
    """Each fact is a paraphrase followed by a Source: line with at least one https link."""
    facts = PARSED.under("facts")
    items = re.split(r"^- ", facts, flags=re.MULTILINE)[1:]
    assert len(items) >= 15
    for item in items:
        assert "Source:" in item and "](https://" in item, item[:60]
