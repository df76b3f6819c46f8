"""``sessionspec conform``: the model conforms, faulty implementations are caught with the right rule."""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.cli import conform, scenarios
from sessionspec.conformance.adapter import (
    InProcess,
    ModelImplementation,
    assert_conforms,
    run_conformance,
)
from sessionspec.conformance.scenarios import SCENARIOS
from sessionspec.conformance.suite import (
    DEFAULT_EXAMPLES,
    DEFAULT_STEPS,
    Driver,
    ProtocolFault,
    action_lists,
    decode_reply,
    init_config,
    program_of,
)
from sessionspec.exploration.stateful import CONFIGS
from sessionspec.invariants import RULES
from sessionspec.model.config import Config
from sessionspec.mutants import MUTANTS
from sessionspec.oracle.judge import judge_stream

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYTHON = sys.executable

PROTOCOL_BREAKERS = ("crash", "hang", "garbage", "error")


def faulty(name: str) -> list[str]:
    """The command of a faulty implementation of tests/faulty.py (runs from any directory)."""
    return [PYTHON, str(ROOT / "tests" / "faulty.py"), name]


def conform_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Run ``sessionspec conform --json ARGV`` in-process: its status and its report."""
    status = conform.main(["--json", *argv])
    return status, json.loads(capsys.readouterr().out)


def judge_file(path: str) -> Any:
    """The verdict of check-trace on a saved trace file."""
    with open(path, "rb") as stream:
        return judge_stream(stream, path)


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie nobody has reaped yet counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


class MutantImplementation(ModelImplementation):
    """The model with one mutant's bug."""

    def __init__(self, mutant: str) -> None:
        self.mutant = MUTANTS[mutant]
        super().__init__(variant=self.mutant.variant)


# --- the model conforms --------------------------------------------------------------------------


@pytest.mark.parametrize("examples", [200, pytest.param(DEFAULT_EXAMPLES, marks=pytest.mark.slow)])
def test_model_served_over_pipes_conforms(
    examples: int, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    """`conform -- sessionspec serve` exits 0: every scenario and every generated program conforms."""
    script = pathlib.Path(PYTHON).with_name("sessionspec")
    command = [str(script), "serve"] if script.exists() else [PYTHON, "-m", "sessionspec", "serve"]
    status, report = conform_json(capsys, "--examples", str(examples), "--out", str(tmp_path), "--", *command)
    assert status == 0, report
    assert report["verdict"] == "conforms" and report["fault"] is None
    assert report["scenarios"]["run"] == len(SCENARIOS) and not report["scenarios"]["failed"]
    assert report["generated"]["runs"] == examples
    assert not list(tmp_path.iterdir())  # nothing failed, nothing saved


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_conforms_against_the_model(name: str) -> None:
    """Each scenario of the library, played against the model, conforms; its trace passes check-trace."""
    scenario = SCENARIOS[name]
    run = Driver(InProcess(ModelImplementation())).run(scenario.config, scenario.inputs)
    assert run.divergence is None, run.divergence
    verdict = judge_stream(io.BytesIO("\n".join(run.trace_lines()).encode()), name)
    assert verdict.status == 0, verdict


def test_every_rule_has_a_scenario() -> None:
    """The library has at least one named scenario per rule of the catalogue."""
    assert {s.rule for s in SCENARIOS.values()} == set(RULES)
    assert all(s.name == name and s.description for name, s in SCENARIOS.items())


@settings(max_examples=30)
@given(config=st.sampled_from(CONFIGS), actions=action_lists(DEFAULT_STEPS))
def test_harness_traces_of_the_model_pass_check_trace(config: Config, actions: list[Any]) -> None:
    """Traces the harness writes of generated model runs, init as generated, pass check-trace."""
    run = Driver(InProcess(ModelImplementation())).run(init_config(config), program_of(config, actions))
    assert run.divergence is None, run.divergence
    verdict = judge_stream(io.BytesIO("\n".join(run.trace_lines()).encode()), "harness")
    assert verdict.status == 0, verdict


# --- faulty implementations are caught -----------------------------------------------------------


def test_readable_report_shows_rule_steps_and_trace_file(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    """The text report gives the rule, one line a step with the model's verdict, and the saved file."""
    status = conform.main(["--out", str(tmp_path), "--", *faulty("plain-job-during-ittl-hold")])
    out = capsys.readouterr().out
    assert status == 1
    assert "Verdict    does not conform: SES-ITTL-HOLD" in out
    assert "submit p1 to qpu1 plain" in out and "DIVERGES, allows: t=20 job p1 -> queued" in out
    saved = tmp_path / "scenario-reservation-window-opens-during-ittl-hold.jsonl"  # the shortest failure
    assert f"Saved      {saved}" in out and saved.exists()


@pytest.mark.parametrize("name", PROTOCOL_BREAKERS)
def test_protocol_breaker_exits_3_and_leaves_nothing_running(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash, hang, garbage and error replies end the run with exit 3, the last exchange, no process left."""
    pids = tmp_path / "pids"
    monkeypatch.setenv("FAULTY_PIDS", str(pids))
    started = time.monotonic()
    status, report = conform_json(capsys, "--timeout", "1", "--", *faulty(name))
    assert status == 3, report
    assert time.monotonic() - started < 15
    fault = report["fault"]
    assert report["verdict"] == "protocol fault" and fault["request"]["op"] == "submit"
    expected = {
        "crash": "exited (status 1)",
        "hang": "no reply within 1s",
        "garbage": "not JSON",
        "error": "answered with an error",
    }
    assert expected[name] in fault["problem"]
    assert fault["during"] == "scenario one-job-at-a-time-on-a-backend" and fault["step"] == 1
    recorded = [int(pid) for pid in pids.read_text().split()]
    assert len(recorded) == (2 if name == "hang" else 1)
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in recorded) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in recorded)


def test_fault_report_shows_the_last_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    """The text report of a protocol fault shows what was sent, what came back, and the stderr tail."""
    status = conform.main(["--timeout", "1", "--", *faulty("crash")])
    out = capsys.readouterr().out
    assert status == 3
    assert "the implementation broke the protocol: the implementation exited (status 1)" in out
    assert 'sent     {"t": 0, "op": "submit"' in out and "got      (no reply)" in out
    assert "faulty: crashing on purpose" in out


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_scenarios_of_a_rule_catch_its_mutants(name: str) -> None:
    """Every mutant of the model is caught by a scenario written for the rule it breaks."""
    mutant = MUTANTS[name]
    caught = []
    for scenario in SCENARIOS.values():
        if scenario.rule not in mutant.rules:
            continue
        try:
            run = Driver(InProcess(MutantImplementation(name))).run(scenario.config, scenario.inputs)
        except ProtocolFault as fault:  # the mutant crashed the model: caught too (exit 3)
            caught.append(f"{scenario.name}: {fault.problem}")
            continue
        if run.divergence is not None:
            caught.append(f"{scenario.name}: {run.divergence.rule}")
    assert caught, f"no scenario for {mutant.rules} catches mutant {name}"


# --- the in-process adapter and the pytest entry point -------------------------------------------


def test_adapter_runs_the_suite_in_process(tmp_path: pathlib.Path) -> None:
    """The model as a Python object conforms; a faulty object fails with its rule and a readable report."""
    report = assert_conforms(ModelImplementation(), examples=30)
    assert report.status == 0 and report.generated_runs == 30
    bad = run_conformance(MutantImplementation("fair-share-during-ittl"), out=tmp_path)
    assert bad.status == 1 and bad.failure is not None and bad.failure.rule == "SES-ITTL-HOLD"
    with pytest.raises(AssertionError, match="SES-ITTL-HOLD"):
        assert_conforms(MutantImplementation("fair-share-during-ittl"), save=False)


def test_adapter_reports_exceptions_and_bad_events_as_protocol_faults() -> None:
    """An implementation that raises, or reports an event at the wrong time, broke the protocol."""

    class Raises(ModelImplementation):
        def cancel_job(self, t: Any, job: str) -> list[dict[str, Any]]:
            raise KeyError(job)

    class Early(ModelImplementation):
        def finish_job(self, t: Any, job: str, outcome: str) -> list[dict[str, Any]]:
            return [{**event, "t": 0} for event in super().finish_job(t, job, outcome)]

    raised = run_conformance(Raises(), examples=0, save=False)
    assert raised.status == 3 and raised.fault is not None
    assert "raised KeyError" in raised.fault.problem
    early = run_conformance(Early(), examples=0, save=False)
    assert early.status == 3 and early.fault is not None
    assert "stamped t=0" in early.fault.problem


def test_adapter_runs_a_command_and_kills_it() -> None:
    """run_conformance takes a command too; a crashing one is a protocol fault (status 3)."""
    report = run_conformance(faulty("garbage"), timeout=1, examples=0, save=False)
    assert report.status == 3 and report.fault is not None and report.fault.reply == "this is not JSON"


def test_pytest_plugin_fixture(tmp_path: pathlib.Path) -> None:
    """The pytest plugin's fixture passes a conforming object and fails a faulty one with the rule."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            from sessionspec.conformance.adapter import ModelImplementation
            from sessionspec.mutants import MUTANTS


            class NoHold(ModelImplementation):
                def __init__(self):
                    super().__init__(variant=MUTANTS["fair-share-during-ittl"].variant)


            def test_model(sessionspec_conformance):
                assert sessionspec_conformance(ModelImplementation()).status == 0


            def test_faulty(sessionspec_conformance):
                sessionspec_conformance(NoHold())
            """
        )
    )
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--sessionspec-examples", "10", "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "does not conform: SES-ITTL-HOLD" in done.stdout


# --- usage, replies, the scenario listing --------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--examples", "many", "--", PYTHON],
        ["--timeout", "0", "--", PYTHON],
        ["--scenario", "no-such-scenario", "--", PYTHON],
        ["--", "/no/such/implementation"],
        ["--bogus", "--", PYTHON],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """No command, bad option values, unknown scenarios and commands that cannot start: exit 2."""
    assert conform.main(argv) == 2
    assert capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nonsense", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"ok": true, "events": []}', "exactly one of"),
        ("{}", "exactly one of"),
        ('{"error": "no"}', "answered with an error: no"),
        ('{"ok": true}', 'answered with {"events"'),
    ],
)
def test_bad_replies_are_protocol_faults(text: str, problem: str) -> None:
    """A line that is not a reply, or an error reply, is a protocol fault naming what is wrong."""
    with pytest.raises(ProtocolFault, match=re.escape(problem)) as raised:
        decode_reply({"op": "advance", "t": 1}, text)
    assert raised.value.reply == text
    assert decode_reply({"op": "init"}, '{"ok": true}') == {"ok": True}


def test_scenarios_command_lists_and_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec scenarios` lists name, rule and description; --json and names show everything."""
    assert scenarios.main([]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == len(SCENARIOS)
    assert listing[0].split()[:2] == ["one-job-at-a-time-on-a-backend", "EXC-ONE-RUNNING"]
    assert scenarios.main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in data] == list(SCENARIOS) and all(s["inputs"] for s in data)
    assert scenarios.main(["deactivation-is-reported"]) == 0
    assert '"op": "finish_job"' in capsys.readouterr().out
    assert scenarios.main(["no-such-scenario"]) == 2


def test_timeline_option_draws_the_failing_trace(tmp_path: pathlib.Path) -> None:
    """conform --timeline FILE draws the failing trace with its rule marked."""
    from sessionspec.cli.conform import main

    picture = tmp_path / "failure.svg"
    argv = ["--timeline", str(picture), "--examples", "0", "--out", str(tmp_path), "--"]
    assert main([*argv, *faulty("plain-job-during-ittl-hold")]) == 1
    assert "SES-ITTL-HOLD" in picture.read_text(encoding="utf-8")
