"""The README's account of the Python interfaces: its doctests run, its adapter table is the Protocol's."""

from __future__ import annotations

import doctest
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from sessionspec.conformance.adapter import (
    INPUT_METHODS,
    Implementation,
    ModelImplementation,
    run_conformance,
)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_doctests() -> list[str]:
    """The README's ```python blocks written as interactive sessions (``>>>``)."""
    blocks = re.findall(r"```python\n(.*?)\n```", README, re.DOTALL)
    return [block for block in blocks if block.lstrip().startswith(">>> ")]


def test_readme_doctests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every interactive example of the README gives exactly the output it shows."""
    monkeypatch.chdir(ROOT)  # the examples open files by their path from the repository's root
    blocks = readme_doctests()
    assert len(blocks) >= 2, "the README shows how to judge a trace and run the suite in process"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    parser = doctest.DocTestParser()
    for number, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README.md example {number + 1}", "README.md", 0))
    results = runner.summarize(verbose=False)
    assert results.attempted >= 8 and results.failed == 0, results


def _adapter_table() -> dict[str, str]:
    """Method name -> its Arguments cell, from the README's table of the adapter interface."""
    start = README.index("| Method | Arguments | Returns |")
    rows = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    table: dict[str, str] = {}
    for row in rows:
        method, arguments, returns = (cell.strip() for cell in row.strip("|").split(" | "))
        assert returns, row
        table[method.split("`")[1]] = arguments
    return table


def _documented_parameters(arguments: str) -> list[str]:
    """``name`` or ``name=default`` for each argument the README names, in order."""
    return re.findall(r"`(\w+(?:=[^`]+)?)`", arguments.split(":")[0]) if arguments != "none" else []


def _declared_parameters(method: Any) -> list[str]:
    """The same spelling, read off the Protocol's signature."""
    out = []
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        default = parameter.default
        out.append(parameter.name if default is inspect.Parameter.empty else f"{parameter.name}={default!r}")
    return [p.replace("'", '"') for p in out]


def test_readme_adapter_table_is_the_declared_interface() -> None:
    """The README lists every method of Implementation with its arguments and defaults, and shutdown."""
    table = _adapter_table()
    assert set(table) == {"init", "advance", *INPUT_METHODS, "shutdown"}
    for name in ("init", "advance", *INPUT_METHODS):
        documented = _documented_parameters(table[name])
        assert documented == _declared_parameters(getattr(Implementation, name)), name
    assert _documented_parameters(table["shutdown"]) == []


class _Counting(ModelImplementation):
    """The model, counting the init requests it gets and checking each leaves an empty world."""

    def __init__(self) -> None:
        super().__init__()
        self.inits = 0

    def init(self, config: dict[str, Any]) -> None:
        super().init(config)
        self.inits += 1
        assert self.advance(0) == []  # nothing survives an init


class _KeepsItsWorld(ModelImplementation):
    """Acts on the first init only, so every later run finds the world the last one left."""

    def __init__(self) -> None:
        super().__init__()
        self.started = False

    def init(self, config: dict[str, Any]) -> None:
        if not self.started:
            super().init(config)
            self.started = True


def test_init_is_sent_again_before_every_run() -> None:
    """One init per scenario and per generated example, on the same object; keeping state fails."""
    counting = _Counting()
    report = run_conformance(counting, examples=4, seed=2, save=False)
    assert report.status == 0
    assert counting.inits == report.scenarios_run + report.generated_runs > 30
    assert run_conformance(_KeepsItsWorld(), examples=0, save=False).status != 0
