"""A pytest plugin: the conformance suite of ``sessionspec conform`` as a fixture.

It is on wherever sessionspec is installed (an entry point named like this module). Naming it
as well does no harm, since both name the one plugin: ``pytest_plugins =
["sessionspec.conformance.pytest_plugin"]`` in a ``conftest.py``, or ``-p
sessionspec.conformance.pytest_plugin``; ``-p no:sessionspec.conformance.pytest_plugin`` turns
it off. The fixture
``sessionspec_conformance`` is a function: give it an
:class:`~sessionspec.conformance.adapter.Implementation` object (tested in-process) or a command (a
list of strings, run as a process speaking protocol v1 section 2). It runs the scenario
library and the generated programs, returns the :class:`~sessionspec.conformance.suite.Report` when
the implementation conforms, and fails the test with the readable report (the rule, the
shortest failing trace, the saved trace file) when it does not::

    def test_my_scheduler(sessionspec_conformance):
        sessionspec_conformance(MyScheduler())

    def test_my_server(sessionspec_conformance):
        sessionspec_conformance(["./my-server", "--stdio"], examples=300)

Command-line options set the defaults: ``--sessionspec-examples``, ``--sessionspec-seed``,
``--sessionspec-timeout``. Failing traces go to the test's ``tmp_path``.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sessionspec.conformance.adapter import Implementation
    from sessionspec.conformance.suite import Report

# Loaded by every pytest run where sessionspec is installed: import nothing heavy until used.
Checker = Callable[..., "Report"]


def _examples(text: str) -> int:
    """A number of generated programs: a whole number, 0 or more (0 runs the scenarios only)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is too small: give 0 or more")
    return value


def _timeout(text: str) -> float:
    """Seconds to wait for a reply: a finite number greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sessionspec", "sessionspec conformance suite")
    group.addoption(
        "--sessionspec-examples",
        type=_examples,
        default=None,
        help="generated programs per conformance run (0 or more)",
    )
    group.addoption("--sessionspec-seed", type=int, default=0, help="seed of the generated programs (0)")
    group.addoption(
        "--sessionspec-timeout",
        type=_timeout,
        default=None,
        help="seconds to wait for each reply of a command (more than 0)",
    )


def make_checker(
    *,
    examples: int | None = None,
    seed: int = 0,
    timeout: float | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Checker:
    """A function that runs the suite against a target and fails the test unless it conforms."""

    def check(target: Implementation | Sequence[str], **options: Any) -> Report:
        from sessionspec.conformance.adapter import run_conformance

        chosen: dict[str, Any] = {"seed": seed, "out": out}
        if examples is not None:
            chosen["examples"] = examples
        if timeout is not None:
            chosen["timeout"] = timeout
        report = run_conformance(target, **{**chosen, **options})
        if report.status != 0:
            pytest.fail(report.format(), pytrace=False)
        return report

    return check


@pytest.fixture
def sessionspec_conformance(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Checker:
    """Run the conformance suite against an implementation object or command; fail unless it conforms."""
    config = request.config
    return make_checker(
        examples=config.getoption("--sessionspec-examples", None),
        seed=config.getoption("--sessionspec-seed", 0),
        timeout=config.getoption("--sessionspec-timeout", None),
        out=tmp_path / "conform-failures",
    )


__all__ = ["make_checker", "pytest_addoption", "sessionspec_conformance"]
