"""What the reports of check, explore, check-trace and conform say, and what they no longer claim."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from sessionspec.cli.app import main
from sessionspec.cli.explore import examples_line
from sessionspec.cli.explore import format_report as format_report_of_exploration
from sessionspec.exploration.runner import ExplorationReport, explore
from sessionspec.exploration.stateful import CONFIGS
from sessionspec.explorer.model_check import format_report

# one QPU, one session with one job: small enough to search in well under a second
MINI = {
    "config": {"backends": [{"name": "qpu"}], "interactive_ttl": 1, "system_max_ttl": 2, "job_time_cap": 1},
    "bounds": {"sessions": 1, "session_jobs": 1, "plain_jobs": 0, "job_outcomes": ["completed"]},
}


@pytest.fixture
def mini_preset(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(MINI))
    return path


@pytest.fixture
def mini_report(mini_preset: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["check", "--config", str(mini_preset), "--json", "--out", str(mini_preset.parent)]) == 0
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def test_check_report_prints_the_time_constants(mini_report: dict[str, object]) -> None:
    """The check report names the backends and every time constant of the configuration."""
    text = format_report(mini_report)
    expected = "ITTL 1s, max TTL 2s, job time cap 1s, no pending timeout, no reservation"
    assert f"Config     backends qpu; {expected}" in text.splitlines()


def test_check_json_report_carries_the_time_constants(mini_report: dict[str, object]) -> None:
    """`check --json` gives the constants of the configuration it checked."""
    config = mini_report["config"]
    assert isinstance(config, dict)
    assert (config["interactive_ttl"], config["system_max_ttl"], config["job_time_cap"]) == (1, 2, 1)
    assert config["pending_timeout"] is None and config["reservations"] == []


def test_check_verdict_names_the_vacuous_rules(mini_report: dict[str, object]) -> None:
    """'all rules hold' is qualified by the number and the names of the rules never exercised."""
    vacuous = mini_report["vacuous_rules"]
    assert isinstance(vacuous, list)
    # no simulator and no reservation window: these two rules can never be exercised here
    assert {"SIM-NO-SESSION", "RSV-PRIORITY"} <= set(vacuous)
    verdict = format_report(mini_report).split("Verdict    ", 1)[1]
    assert f"all 31 rules hold in every reachable state; {len(vacuous)} of them vacuously" in verdict
    assert " ".join(verdict.split()).endswith(", ".join(vacuous))


def test_check_report_says_what_exercised_counts_count(mini_report: dict[str, object]) -> None:
    """A count may exceed the transitions (an input can take several model steps), and the report says why."""
    rules = mini_report["rules"]
    transitions = mini_report["transitions"]
    assert isinstance(rules, list) and isinstance(transitions, int)
    assert max(rule["exercised"] for rule in rules) > transitions
    assert "per model step (one input\n           tried can take several)" in format_report(mini_report)


def test_check_timeline_with_no_violation_says_nothing_was_drawn(
    mini_preset: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --timeline FILE` on a verified preset says there is nothing to draw and writes nothing."""
    picture = mini_preset.parent / "counterexample.svg"
    argv = [
        "check",
        "--config",
        str(mini_preset),
        "--out",
        str(mini_preset.parent),
        "--timeline",
        str(picture),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Timeline   nothing drawn: no rule was violated" in out
    assert not picture.exists()


@pytest.fixture(scope="module")
def explored() -> tuple[str, dict[str, object]]:
    """Forty examples with seed 2, where Hypothesis cuts runs short and replaces them."""
    report = explore(examples=40, steps=50, seed=2)
    return format_report_of_exploration(report, 2), report.as_dict()


def test_explore_report_has_its_own_header(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec explore` introduces itself as explore, not check."""
    assert main(["explore", "--examples", "1", "--steps", "5", "--seed", "2"]) == 0
    assert capsys.readouterr().out.startswith(
        "sessionspec explore: 31 rules, 1 example of up to 5 steps, seed 2\n"
    )


def test_explore_runs_exactly_the_examples_asked_for(explored: tuple[str, dict[str, object]]) -> None:
    """Asked for 40 examples, it counts 40, and tells the runs Hypothesis replaced apart."""
    text, report = explored
    assert report["examples_asked"] == 40 and report["examples"] == 40
    cut_short = report["runs_cut_short"]
    assert isinstance(cut_short, int) and cut_short > 0  # this seed makes Hypothesis replace runs
    configs = report["configs"]
    assert isinstance(configs, list)
    assert sum(c["examples"] for c in configs) == 40
    assert f"Explored   40 examples, as asked; {cut_short} more run" in text


def test_explore_names_each_configuration(explored: tuple[str, dict[str, object]]) -> None:
    """Each configuration an example may start from is shown with its backends and constants."""
    text, _ = explored
    assert "Configs    each example starts from one of these configurations" in text
    for number, config in enumerate(CONFIGS):
        shown = next(line for line in text.splitlines() if line.startswith(f"  #{number} "))
        assert shown.endswith(config.describe())
    assert "ITTL 60s, max TTL 600s, job time cap 300s" in CONFIGS[0].describe()


def test_explore_numbers_have_thousands_separators(explored: tuple[str, dict[str, object]]) -> None:
    """Step and transition counts of a thousand or more are printed with separators."""
    text, report = explored
    steps, transitions = report["steps"], report["transitions"]
    assert isinstance(steps, int) and isinstance(transitions, int) and steps >= 1000
    assert f"{steps:,} steps, {transitions:,} transitions" in text


def test_explore_failure_line_separates_shrinking_runs() -> None:
    """After a failure the report counts the examples up to it and the runs that shrank it apart."""
    report = ExplorationReport(seed=0, asked=600, examples=12, shrink_runs=30, verdict="violated")
    assert (
        examples_line(report)
        == "12 of the 600 examples asked for ran up to the failure; then 30 runs shrank it"
    )


def test_explore_timeline_with_no_failure_says_nothing_was_drawn(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explore --timeline FILE` where every rule holds says so instead of writing nothing silently."""
    picture = tmp_path / "failing.svg"
    assert main(["explore", "--examples", "2", "--steps", "5", "--timeline", str(picture)]) == 0
    assert "Timeline   nothing drawn: every rule held" in capsys.readouterr().out
    assert not picture.exists()


def test_conform_timeline_of_a_conforming_implementation_says_nothing_was_drawn(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conform --timeline FILE` against a conforming implementation says there is nothing to draw."""
    picture = tmp_path / "failing.svg"
    scenario = ["--scenario", "one-job-at-a-time-on-a-backend", "--examples", "0"]
    serve = [sys.executable, "-m", "sessionspec", "serve"]
    assert main(["conform", *scenario, "--timeline", str(picture), "--", *serve]) == 0
    assert "Timeline   nothing drawn: the implementation conforms" in capsys.readouterr().out
    assert not picture.exists()


@pytest.mark.parametrize(("lines", "said"), [(1, "conforms (1 line)"), (2, "conforms (2 lines)")])
def test_check_trace_counts_lines_in_words(
    lines: int, said: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A conforming trace of one line says "1 line", of more says "lines"."""
    trace = tmp_path / "trace.jsonl"
    trace.write_text("".join(f'{{"t": {t}, "op": "advance"}}\n' for t in range(lines)))
    assert main(["check-trace", str(trace)]) == 0
    assert capsys.readouterr().out == f"{trace}: {said}\n"
