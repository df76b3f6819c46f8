"""A default ``conform`` run catches every faulty implementation; its generated phase covers protocol v1."""

from __future__ import annotations

import pathlib
from collections import Counter
from typing import Any

import pytest

from sessionspec.conformance.adapter import InProcess, ModelImplementation
from sessionspec.conformance.suite import run_suite
from sessionspec.invariants import RULES
from sessionspec.invariants.exercise import exercised_at_end, exercised_rules
from sessionspec.invariants.scheduling import started_jobs
from sessionspec.invariants.view import View
from sessionspec.model.compiled import declared_edges
from sessionspec.model.config import Config
from sessionspec.model.inputs import input_from_dict
from sessionspec.model.step import Tick, transitions
from sessionspec.model.world import World
from tests.catch_rate import SCENARIO_EVERY_FAULT_PASSES
from tests.faulty import RULE_BREAKERS, main
from tests.test_conform import conform_json, faulty, judge_file

JSON = dict[str, Any]

# Each faulty implementation of tests/faulty.py: the rule a default run names for it, and the
# scenario of the library built to expose it (others may fail too).
CAUGHT = {
    "plain-job-during-ittl-hold": ("SES-ITTL-HOLD", "ittl-hold-keeps-plain-job-waiting"),
    "fails-running-job-at-expiry": ("SES-END-SPARES-RUNNING", "expiry-lets-running-job-finish"),
    "max-ttl-from-creation": ("SES-EXPIRY", "max-ttl-clock-starts-with-first-job"),
    "accepts-jobs-after-close": ("SES-CLOSE-REFUSES", "closed-session-refuses-new-jobs"),
    "forgets-to-deactivate": ("SES-ITTL-DEACTIVATE", "ittl-counts-from-last-job-end"),
    "reservation-waits-for-next-event": ("WORK-CONSERVE", "reservation-window-opens-during-ittl-hold"),
    "max-ttl-from-canceled-first-job": ("SES-EXPIRY", "max-ttl-from-the-first-job-that-runs"),
    "ignores-session-max-time": ("SES-EXPIRY", "max-ttl-from-max-time-or-first-job"),
    "max-time-not-capped": ("SES-EXPIRY", "max-time-capped-by-system-limit"),
    "session-on-simulator": ("SIM-NO-SESSION", "no-session-on-a-simulator"),
    "simulator-runs-one-job-at-a-time": ("WORK-CONSERVE", "simulator-runs-every-job-at-once"),
    "reservation-ignores-instance": ("RSV-PRIORITY", "reservation-jobs-go-first"),
    "reactivation-restarts-max-ttl": ("SES-EXPIRY", "inactive-session-reactivates-when-its-job-runs"),
    "time-limit-from-submission": ("SES-END-SPARES-RUNNING", "every-job-ends"),
    "expiry-cancels-queued-jobs": ("SES-EXPIRE-FAILS-QUEUED", "expiry-fails-queued-jobs"),
    "close-cancels-queued-jobs": ("SES-CLOSE-KEEPS-JOBS", "close-keeps-queued-jobs"),
    "cancel-leaves-queued-jobs": ("SES-CANCEL-QUEUED", "cancel-session-cancels-queued-jobs"),
    "session-jobs-newest-first": ("SES-JOB-ORDER", "session-jobs-run-in-order"),
    "deadline-after-input-at-same-instant": ("JOB-TIME-LIMIT", "job-stopped-at-its-time-limit"),
    "closed-session-never-drains": ("SES-CLOSE-DRAINS", "closed-session-drains-then-closes"),
    "pending-timeout-after-canceled-job": (
        "SES-PENDING-TIMEOUT",
        "pending-timeout-spares-session-whose-job-was-canceled",
    ),
    "no-system-job-cap": ("JOB-TIME-LIMIT", "job-stopped-at-its-time-limit"),
    "refuses-cancel-of-running-job": ("OBS-MATCH", "canceled-job-stays-known"),
}
# The default test run checks these; the whole table runs with -m slow.
QUICK = {
    "plain-job-during-ittl-hold",
    "accepts-jobs-after-close",
    "reservation-waits-for-next-event",
    "max-ttl-from-canceled-first-job",
    "simulator-runs-one-job-at-a-time",
}
QUICK_GENERATED = {"reservation-waits-for-next-event", "session-on-simulator"}
# Where the generated phase meets a fault through another rule than the scenarios: a start_session
# job on a simulator runs as a plain job, and its missing start is judged against the session it
# named, which the simulator never opened.
GENERATED_RULE = {"simulator-runs-one-job-at-a-time": "SES-JOB-BACKEND"}
GENERATED = 300  # examples of the generated phase whose runs are looked at
# Edges that need an inactive session closed while a job of it waits behind another user's job:
# too deep for a few hundred random programs (the exhaustive `sessionspec check` takes them).
DEEP_EDGES = {("Session", "inactive", "close", "inactive"), ("Session", "inactive", "drained", "closed")}


def _table(quick: set[str]) -> list[Any]:
    return [pytest.param(name, marks=() if name in quick else pytest.mark.slow) for name in CAUGHT]


def test_table_lists_every_faulty_implementation(capsys: pytest.CaptureFixture[str]) -> None:
    """The table names each faulty implementation of tests/faulty.py once; there are at least 15."""
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(RULE_BREAKERS) and set(listed) == set(CAUGHT) and len(listed) >= 15
    assert all(fault.description for fault in RULE_BREAKERS.values())


@pytest.mark.parametrize("name", _table(QUICK))
def test_default_run_catches_fault_with_its_rule(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    """A default run exits 1 naming the fault's rule; its scenario exposes it; the trace re-judges alike."""
    rule, exposing = CAUGHT[name]
    status, report = conform_json(capsys, "--out", str(tmp_path), "--", *faulty(name))
    assert status == 1, report
    assert report["rule"] == rule
    assert exposing in {f["name"] for f in report["scenarios"]["failed"]}
    failure = report["failure"]
    verdict = judge_file(failure["trace_file"])
    assert verdict.status == 1 and verdict.divergence is not None
    assert (verdict.divergence.rule, verdict.divergence.line) == (rule, failure["divergence"]["line"])


@pytest.mark.parametrize("name", _table(QUICK_GENERATED))
def test_generated_phase_alone_catches_fault_with_its_rule(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    """With only a scenario the fault passes, the default generated phase finds it, naming its rule."""
    rule = GENERATED_RULE.get(name, CAUGHT[name][0])
    argv = ["--scenario", SCENARIO_EVERY_FAULT_PASSES, "--out", str(tmp_path), "--", *faulty(name)]
    status, report = conform_json(capsys, *argv)
    assert status == 1, report
    failure = report["failure"]
    assert failure["source"] == "generated-seed0" and report["rule"] == rule
    verdict = judge_file(failure["trace_file"])
    assert verdict.divergence is not None and verdict.divergence.rule == rule


@pytest.mark.parametrize("name", ["plain-job-during-ittl-hold", "accepts-jobs-after-close"])
def test_generated_phase_shrinks_to_a_few_inputs(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    """A fault the generated phase finds is shrunk to a program of a few inputs."""
    argv = ["--scenario", SCENARIO_EVERY_FAULT_PASSES, "--examples", "200", "--out", str(tmp_path)]
    status, report = conform_json(capsys, *argv, "--", *faulty(name))
    assert status == 1 and report["rule"] == CAUGHT[name][0], report
    assert len(report["failure"]["program"]) <= 4, report["failure"]["program"]


# --- what the generated phase sends --------------------------------------------------------------


class Recording(InProcess):
    """The model in process, keeping each run's ``init`` configuration and the requests that followed."""

    def __init__(self) -> None:
        super().__init__(ModelImplementation())
        self.runs: list[tuple[JSON, list[JSON]]] = []

    def exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "init":
            self.runs.append((request["config"], []))
        elif request["op"] != "shutdown":
            self.runs[-1][1].append(request)
        return super().exchange(request)


@pytest.fixture(scope="module")
def generated() -> list[tuple[JSON, list[JSON]]]:
    """The runs of the generated phase against the model (default seed and steps)."""
    transport = Recording()
    report = run_suite(transport, examples=GENERATED, scenarios=[], save=False)
    assert report.status == 0 and report.generated_runs == GENERATED
    return transport.runs


def test_generated_phase_sends_every_input_and_field(generated: list[tuple[JSON, list[JSON]]]) -> None:
    """Every input of protocol v1 is sent, each optional field both given and left out."""
    requests = [request for _, run in generated for request in run]
    ops = Counter(request["op"] for request in requests)
    assert set(ops) == {
        "advance", "create_session", "submit", "close_session", "cancel_session", "cancel_job", "finish_job",
    }  # fmt: skip
    creates = [r for r in requests if r["op"] == "create_session"]
    submits = [r for r in requests if r["op"] == "submit"]
    assert {"max_time" in r for r in creates} == {True, False}
    for field in ("session", "start_session", "instance", "max_execution_time"):
        assert {field in r for r in submits} == {True, False}, field
    assert {r["outcome"] for r in requests if r["op"] == "finish_job"} == {"completed", "failed"}


def test_generated_configurations_set_and_omit_every_key(generated: list[tuple[JSON, list[JSON]]]) -> None:
    """Each configuration key is set by some run and left to its default by another; simulators too."""
    configs = [config for config, _ in generated]
    for key in Config().to_dict():
        assert {key in config for config in configs} == {True, False}, key
    assert any(b.get("simulator") for config in configs for b in config.get("backends", []))
    unlisted = [
        request for config, run in generated for request in run
        if "backend" in request and request["backend"] not in {b["name"] for b in config.get("backends", [])}
    ]  # fmt: skip
    assert unlisted, "no request names a backend its configuration does not list"
    capped = [
        request for config, run in generated for request in run
        if request.get("max_time", 0) > config.get("system_max_ttl", Config().system_max_ttl)
    ]  # fmt: skip
    assert capped, "no session asks for a max_time above the system limit"


def _replay(config: JSON, run: list[JSON]) -> tuple[set[str], set[tuple[str, ...]], int]:
    """The rules a run exercises, the declared edges it takes, and its reservation starts during a hold."""
    world = World.empty(Config.from_dict(config))
    view = View(world)
    rules: set[str] = set()
    edges: set[tuple[str, ...]] = set()
    held_windows = 0
    for request in run:
        for transition in transitions(world, input_from_dict(request), trusted=True):
            after = View(transition.after, view)
            rules.update(exercised_rules(transition, view, after))
            edges.update(transition.fired)
            if isinstance(transition.cause, Tick):
                held_windows += sum(
                    after.reservation_job(job) and transition.after.active_on(job.backend) is not None
                    for job in started_jobs(view, after)
                )
            world, view = transition.after, after
    rules.update(exercised_at_end(view))
    return rules, edges, held_windows


def test_generated_runs_exercise_every_rule_and_edge(generated: list[tuple[JSON, list[JSON]]]) -> None:
    """Replayed through the model, the runs exercise every rule, take all but the deepest declared
    edges, and open a reservation window while a session holds its backend."""
    rules: set[str] = set()
    edges: set[tuple[str, ...]] = set()
    held_windows = 0
    for config, run in generated:
        found, taken, held = _replay(config, run)
        rules |= found
        edges |= taken
        held_windows += held
    assert sorted(set(RULES) - rules) == []
    assert {edge for edge in declared_edges() if edge not in edges} <= DEEP_EDGES
    assert held_windows > 0
