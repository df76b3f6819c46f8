"""The command line: rules, the main job, the benchmark, and usage errors."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from sessionspec.cli.app import main, rules_markdown
from sessionspec.invariants import RULES

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_rules_lists_every_rule_with_statement_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec rules` prints each rule's ID, statement and source."""
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rule in RULES.values():
        assert rule.id in out and rule.statement in out and rule.source in out


def test_rules_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec rules --json` gives one object per rule with id, kind, statement, source."""
    assert main(["rules", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rules] == list(RULES)
    assert all(set(r) >= {"id", "kind", "statement", "source", "decisions"} for r in rules)


def test_readme_rule_table_matches_the_catalogue() -> None:
    """The README carries the catalogue exactly as `sessionspec rules --markdown` prints it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme, "regenerate the table: sessionspec rules --markdown"


def test_every_decision_a_rule_cites_is_in_the_register() -> None:
    """Each decision ID a rule names has an entry in docs/decisions.md."""
    register = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    cited = {d for rule in RULES.values() for d in rule.decisions}
    assert cited, "rules cite decisions"
    for decision in sorted(cited):
        assert f"## {decision} " in register, f"{decision} has no entry in docs/decisions.md"


def test_explore_reports_a_verdict_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """The randomized exploration prints coverage and the verdict, and exits 0 when all rules hold."""
    assert main(["explore", "--examples", "15", "--steps", "20", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "Verdict    all" in out and "Coverage" in out and "--seed 4" in out


def test_explore_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec explore --json` prints a parseable report with the verdict and coverage."""
    assert main(["explore", "--examples", "5", "--steps", "10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "verified" and report["steps"] > 0 and "edges_unreached" in report


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["explore", "--examples", "0"],
        ["check", "--preset", "nope"],
        ["explore", "--seed", "x"],
        ["bench", "--workers", "-1"],
    ],
)
def test_bad_usage_exits_2_with_a_hint(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad usage ends with exit status 2 and a hint, never a traceback."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = int(stop.code or 0)
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err + captured.out


def test_bench_reports_single_and_parallel_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec bench --json` reports steps per second for one process and for the workers."""
    assert main(["bench", "--examples", "3", "--steps", "10", "--workers", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["single_process"]["steps_per_second"] > 0
    assert result["parallel"]["workers"] == 2 and result["parallel"]["steps"] > 0


def test_console_script_runs_and_survives_a_closed_pipe() -> None:
    """`python -m sessionspec rules | head -1` ends cleanly, without a broken-pipe traceback."""
    run = subprocess.run(
        f"{sys.executable} -m sessionspec rules | head -1", shell=True, capture_output=True, text=True
    )
    assert run.stdout.startswith(next(iter(RULES)))
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("name", ["session", "job"])
def test_readme_embeds_the_generated_mermaid_diagrams(name: str) -> None:
    """The README's Mermaid blocks are exactly the generated diagrams/*.mmd files."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    generated = (ROOT / "diagrams" / f"{name}.mmd").read_text(encoding="utf-8").rstrip("\n")
    assert f"```mermaid\n{generated}\n```" in readme, "copy diagrams/*.mmd into the README again"


def test_readme_worked_example_is_the_real_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's check-trace example shows exactly what check-trace prints for that file."""
    from sessionspec.cli import check_trace

    monkeypatch.chdir(ROOT)
    assert check_trace.main(["docs/example-nonconforming.jsonl"]) == 1
    report = capsys.readouterr().out.rstrip("\n")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert report in readme, "paste the new report into the README's worked example"


def test_explore_timeline_draws_the_shrunk_failing_run(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a violation, `explore --timeline FILE` draws the shrunk failing run."""
    from sessionspec.exploration.stateful import ModelExploration
    from sessionspec.mutants import MUTANTS

    picture = tmp_path / "failing.svg"
    monkeypatch.setattr(ModelExploration, "variant", MUTANTS["fair-share-during-ittl"].variant)
    status = main(["explore", "--examples", "300", "--timeline", str(picture)])
    assert status == 1
    out = capsys.readouterr().out
    assert f"Timeline   {picture}" in out
    assert "examples asked for ran up to the failure; then" in out
    assert picture.read_text(encoding="utf-8").startswith("<?xml")


def test_check_timeline_draws_the_counterexample(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a violation, `check --timeline FILE` draws the shortest counterexample."""
    from sessionspec.explorer.presets import PRESETS
    from sessionspec.mutants import MUTANTS

    picture = tmp_path / "counterexample.svg"
    tiny = PRESETS["tiny"]
    monkeypatch.setitem(
        PRESETS, "tiny", tiny._replace(config=MUTANTS["fair-share-during-ittl"].config(tiny.config))
    )
    status = main(["check", "--preset", "tiny", "--out", str(tmp_path), "--timeline", str(picture)])
    assert status == 1
    assert "Timeline" in capsys.readouterr().out
    assert picture.read_text(encoding="utf-8").startswith("<?xml")


def test_bench_trace_reports_speed_ratio_and_memory(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec bench --trace N --json` times check-trace against JSON parsing at two sizes."""
    assert main(["bench", "--trace", "400", "--json"]) == 0
    sizes = json.loads(capsys.readouterr().out)["sizes"]
    assert len(sizes) == 2 and sizes[0]["lines"] < sizes[1]["lines"]
    for size in sizes:
        assert size["verdict"] == "conforms"
        assert size["lines_per_second"] > 0 and size["ratio_to_json_parse"] > 0
        assert size["judge_peak_memory_kib"] > 0


def test_check_with_workers_reports_the_same_count(capsys: pytest.CaptureFixture[str]) -> None:
    """`check --workers 2` verifies the tiny preset with its recorded count, naming the processes."""
    from sessionspec.explorer.presets import PRESETS

    assert main(["check", "--preset", "tiny", "--workers", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["workers"] == 2
    assert report["distinct_states"] == PRESETS["tiny"].expected_states


def test_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's "Using the model from Python" example runs as printed and prints observations."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Using the model from Python") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("\n```", start)]
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed and printed[0].startswith("{'t': 0, 'event': 'session', 'session': 's1'")
