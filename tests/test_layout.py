"""The package's layout: one installed name, layers that run one way, no import circles."""

from __future__ import annotations

import ast
import os
import pathlib
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sessionspec"

# Each part of the package, and the parts it may import (besides itself). The order is the
# layering of sessionspec/__init__.py: the model, then the rules and the trace format, then the
# engines, then the command line and the benchmarks.
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "invariants": {"model"},
    "traces": {"model"},
    "mutants": {"model"},
    "oracle": {"model", "invariants", "traces"},
    "exploration": {"model", "invariants"},
    "explorer": {"model", "invariants", "traces", "oracle"},
    "pictures": {"model", "invariants", "traces", "oracle"},
    "conformance": {"model", "invariants", "traces", "oracle", "exploration", "pictures"},
    "bench": {"model", "invariants", "traces", "oracle", "exploration", "explorer"},
    "cli": {
        "model",
        "invariants",
        "traces",
        "oracle",
        "exploration",
        "explorer",
        "pictures",
        "conformance",
        "bench",
    },
    "__init__": set(),
    "__main__": {"cli"},
}


def module_name(path: pathlib.Path) -> str:
    """``sessionspec/oracle/judge.py`` -> ``sessionspec.oracle.judge`` (packages by their ``__init__``)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[pathlib.Path]:
    """Every source file of the installed package, through the links to model/ and invariants/."""
    return sorted(
        pathlib.Path(folder, name)
        for folder, _, names in os.walk(PACKAGE, followlinks=True)
        for name in names
        if name.endswith(".py")
    )


def modules() -> dict[str, pathlib.Path]:
    """Every module of the installed package by its dotted name."""
    return {module_name(path): path for path in sources()}


def imported(path: pathlib.Path, name: str, known: set[str]) -> Iterator[str]:
    """The sessionspec modules one module imports anywhere in it, deferred imports included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base])
            # `from package import module` names a module; `from module import name` does not
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "sessionspec":
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(path, name, known)) - {name} for name, path in found.items()}


def part(module: str) -> str:
    """The layer a module belongs to: ``sessionspec.oracle.judge`` -> ``oracle``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for after in sorted(edges.get(node, ())):
            if state.get(after) == 1:
                return [*path[path.index(after) :], after]
            if after not in state and (found := visit(after)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_every_installed_module_is_under_sessionspec() -> None:
    """The model and the rules are reached as sessionspec.model and sessionspec.invariants."""
    names = set(modules())
    assert {"sessionspec.model.world", "sessionspec.invariants.catalogue"} <= names
    assert (PACKAGE / "model").resolve() == ROOT / "model"
    assert (PACKAGE / "invariants").resolve() == ROOT / "invariants"


def test_no_module_imports_a_generic_top_level_name() -> None:
    """No source file imports `model` or `invariants` as a top-level package."""
    offenders = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("model", "invariants")]
    assert not offenders


def test_import_graph_has_no_cycles() -> None:
    """No module imports, directly or through others, a module that imports it."""
    assert cycle(graph()) is None


def test_layers_run_one_way() -> None:
    """Each part imports only the parts below it: model, rules, engines, then the command line."""
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if part(target) != part(module) and part(target) not in ALLOWED[part(module)]
    )
    assert not wrong, "\n".join(wrong)


def test_every_part_says_what_it_is_and_what_it_may_import() -> None:
    """Each sub-package's docstring says what it is and which parts it imports."""
    for package in sorted(p.parent for p in PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{package.name} has no docstring"
        assert "import" in doc.lower(), f"{package.name}'s docstring does not say what it may import"


def test_a_cycle_is_found() -> None:
    """The cycle finder itself sees a circle of three."""
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_every_layer_exists(name: str) -> None:
    """The layer table names only parts that exist, so a renamed part cannot escape the check."""
    assert any(part(module) == name for module in modules())
