"""The exhaustive explorer: anchors, reductions, counterexamples, mutants, command line."""

from __future__ import annotations

import dataclasses
import io
import json
import random
from pathlib import Path

import pytest

from sessionspec.cli.app import main
from sessionspec.explorer.abstraction import abstract
from sessionspec.explorer.bfs import Search, successors
from sessionspec.explorer.counterexample import Counterexample, format_steps, reconstruct, trace_lines
from sessionspec.explorer.itf import to_itf
from sessionspec.explorer.model_check import run_check
from sessionspec.explorer.moves import user_inputs
from sessionspec.explorer.presets import PRESETS, Bounds, Preset, Workload
from sessionspec.explorer.symmetry import canonical, canonical_world
from sessionspec.invariants import RULES
from sessionspec.model import core
from sessionspec.model.config import Config
from sessionspec.model.inputs import CancelJob, CreateSession, Submit
from sessionspec.model.step import step
from sessionspec.model.world import World
from sessionspec.mutants import MUTANTS
from sessionspec.oracle.judge import judge_stream

TINY = PRESETS["tiny"]


def broken(preset: Preset, name: str) -> Preset:
    """``preset``, explored with the bug of mutant ``name``."""
    return preset._replace(config=MUTANTS[name].config(preset.config))


# a preset small enough to search many times: one session with one job, one QPU
MINI = Preset(
    "mini",
    "test",
    Config(backends=("qpu",), system_max_ttl=2, interactive_ttl=1, job_time_cap=1),
    Bounds(sessions=1, session_jobs=1, plain_jobs=0, job_outcomes=("completed",)),
)


@pytest.fixture(scope="module")
def tiny_result() -> object:
    return Search(TINY).run()


def test_tiny_preset_reaches_its_recorded_state_count(tiny_result: object) -> None:
    """The tiny preset verifies, with exactly the distinct-state count recorded for it."""
    assert tiny_result.verdict == "verified"  # type: ignore[attr-defined]
    assert tiny_result.states == TINY.expected_states  # type: ignore[attr-defined]


def test_tiny_preset_without_symmetry_reaches_its_recorded_count() -> None:
    """Without symmetry reduction the tiny preset has its own recorded, larger count."""
    result = Search(TINY, symmetry=False, count_exercised=False).run()
    assert result.verdict == "verified"
    assert TINY.expected_states is not None
    assert result.states == TINY.expected_states_unreduced
    assert result.states > TINY.expected_states


@pytest.mark.slow
@pytest.mark.parametrize("name", ["default", "large"])
def test_larger_presets_reach_their_recorded_state_counts(name: str) -> None:
    """The default and large presets verify with their recorded counts (long: marked slow)."""
    result = Search(PRESETS[name], count_exercised=False).run()
    assert (result.verdict, result.states) == ("verified", PRESETS[name].expected_states)


def test_every_preset_records_its_state_count() -> None:
    """No preset goes without a regression anchor."""
    assert all(p.expected_states for p in PRESETS.values())


def test_the_state_count_changes_when_the_model_does() -> None:
    """A behaviour change of the model shows as a changed count (a close that ends at once)."""
    baseline = Search(MINI, count_exercised=False).run().states
    changed = Search(broken(MINI, "close-ends-at-once"), count_exercised=False, rules=[]).run().states
    assert changed != baseline


def test_rules_without_their_situation_are_reported_vacuous(tiny_result: object) -> None:
    """With one job per session, no two session jobs queue: the job-order rule is vacuous."""
    exercised = tiny_result.exercised  # type: ignore[attr-defined]
    assert exercised["SES-JOB-ORDER"] == 0
    assert exercised["EXC-ONE-RUNNING"] > 0
    assert exercised["RSV-PRIORITY"] > 0  # the tiny preset has a reservation window


def test_symmetric_worlds_share_one_representative() -> None:
    """Renaming jobs, sessions and free instances of a reached world gives the same state."""
    config = TINY.config
    world = World.empty(config)
    for inp in (
        CreateSession(0, "s1", "qpu"),
        Submit(0, "j1", "sim", instance="lab-a"),
        Submit(0, "j2", "qpu", session="s1", instance="lab-a"),
    ):
        world = step(world, inp).world
    renamed = World(
        config,
        world.now,
        tuple(s._replace(id="zz") for s in world.sessions),
        tuple(
            j._replace(id={"j1": "b", "j2": "a"}[j.id], session=None if j.session is None else "zz")
            for j in reversed(world.jobs)
        ),
    )
    pool = TINY.bounds.instances
    assert canonical(renamed, pool).world == canonical(world, pool).world
    assert canonical(canonical(world, pool).world, pool).world == canonical(world, pool).world


def test_the_quick_canonical_test_agrees_with_renaming() -> None:
    """On every world an unreduced search meets (two sessions, two free instances, two
    backends), the quick test keeps exactly the worlds that renaming leaves as they are."""
    pool = ("lab-a", "lab-b")
    bounds = Bounds(sessions=2, session_jobs=2, plain_jobs=1, instances=pool, refused_inputs=False)
    preset = Preset("symmetric", "test", TINY.config, bounds)
    search = Search(preset, symmetry=False, count_exercised=False, rules=[], max_states=4000)
    worlds: list[World] = []
    expand = search.expand

    def recording(world: World, fp: int, frontier: list[tuple[World, int]]) -> object:
        worlds.append(world)
        return expand(world, fp, frontier)

    search.expand = recording  # type: ignore[assignment,method-assign]
    search.run()
    kept = 0
    for world in worlds:
        renamed = canonical(world, pool).world
        quick = canonical_world(world, pool)
        assert quick == renamed
        assert (quick is world) == (renamed is world)
        kept += quick is world
    assert 0 < kept < len(worlds)  # both answers occur


def test_relative_time_merges_worlds_that_differ_only_in_when() -> None:
    """The same job running for one second, started at 3 or at 30, is one state."""
    config = Config(backends=("qpu",), job_time_cap=5)
    early = step(World.empty(config), Submit(3, "j1", "qpu")).world._replace(now=4)
    late = step(World.empty(config), Submit(30, "j1", "qpu")).world._replace(now=31)
    assert abstract(early, 6) == abstract(late, 6)
    assert abstract(early, 6) != abstract(late._replace(now=32), 6)
    assert abstract(abstract(early, 6), 6) == abstract(early, 6)


def test_symmetry_reduction_keeps_the_verdicts() -> None:
    """With and without symmetry the searches agree: verified, and violated by the same rule."""
    assert Search(MINI).run().verdict == Search(MINI, symmetry=False).run().verdict == "verified"
    for name in ("fair-share-during-ittl", "ittl-from-job-start", "close-ends-at-once"):
        reduced, full = Search(broken(TINY, name)).run(), Search(broken(TINY, name), symmetry=False).run()
        assert reduced.finding is not None and full.finding is not None
        assert reduced.finding.rules == full.finding.rules
        assert reduced.depth == full.depth


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_every_mutant_is_caught_with_a_replayable_shortest_counterexample(name: str) -> None:
    """Each mutant breaks a rule on the tiny or default preset; check-trace names the same rule."""
    for preset in (TINY, PRESETS["default"]):
        search = Search(broken(preset, name), count_exercised=False)
        result = search.run()
        if result.finding is None:
            continue
        counterexample = reconstruct(search, result)
        break
    else:
        pytest.fail(f"mutant {name} was not caught")
    assert counterexample.rules, "a counterexample names the rules it breaks"
    data = "".join(json.dumps(r) + "\n" for r in trace_lines(counterexample)).encode()
    verdict = judge_stream(io.BytesIO(data), name)
    assert verdict.divergence is not None, "check-trace rejects the counterexample"
    assert verdict.divergence.rule == counterexample.trace_rule
    assert verdict.divergence.rule in counterexample.rules


# mutants that break only the model's bookkeeping: no trace line shows it at that step
BOOKKEEPING_ONLY = ["ttl-clock-at-creation", "ttl-ignores-first-job", "canceled-jobs-forgotten"]


@pytest.mark.parametrize("name", BOOKKEEPING_ONLY)
def test_a_violation_no_trace_shows_is_run_on_until_one_does(name: str) -> None:
    """A bookkeeping-only finding is extended, after its own step, to the first step a trace shows."""
    search = Search(broken(TINY, name), count_exercised=False)
    counterexample = reconstruct(search, search.run())
    assert counterexample.extended > 0
    assert counterexample.shown_at == len(counterexample.steps)
    found_at = len(counterexample.steps) - counterexample.extended
    prefix = "".join(json.dumps(r) + "\n" for r in trace_lines(_first_steps(counterexample, found_at)))
    assert judge_stream(io.BytesIO(prefix.encode()), name).divergence is None, (
        "the finding's step alone conforms"
    )
    assert "the run goes on until one does" in format_steps(counterexample)


def _first_steps(counterexample: Counterexample, count: int) -> Counterexample:
    return dataclasses.replace(counterexample, steps=counterexample.steps[:count])


@pytest.mark.parametrize(
    ("name", "length"),
    [
        ("session-on-simulator", 1),  # create_session on the simulator
        ("unknown-job-cancel-unanswered", 1),  # cancel an unknown job
        ("session-backend-unchecked", 2),  # create a session, submit to it on another backend
        ("jobs-without-time-limit", 2),  # a plain job starts; time passes its limit
    ],
)
def test_counterexamples_are_shortest(name: str, length: int) -> None:
    """Breadth-first order gives counterexamples of the smallest possible number of steps."""
    search = Search(broken(TINY, name), count_exercised=False)
    result = search.run()
    counterexample = reconstruct(search, result)
    assert len(counterexample.steps) == length


def test_only_the_mutants_rule_enabled_still_catches_it() -> None:
    """With just the mutant's own rule checked, the search reports that rule."""
    mutant = MUTANTS["ittl-from-job-start"]
    result = Search(broken(TINY, mutant.name), rules=[RULES[r] for r in mutant.rules]).run()
    assert result.finding is not None and result.finding.rules == mutant.rules


def test_eventual_properties_are_checked_from_every_state() -> None:
    """A job that nothing ends is found by the eventual rule when the time limit is off."""
    mutant = MUTANTS["jobs-without-time-limit"]
    result = Search(broken(MINI, mutant.name), rules=[RULES["EVT-JOBS-END"]]).run()
    assert result.finding is not None and result.finding.eventual
    assert result.finding.rules == ("EVT-JOBS-END",)


def test_a_crash_of_the_model_is_a_finding_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that raises is reported with the input that made it raise."""

    def crash(core: object, inp: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(core._HANDLERS, CancelJob, crash)
    search = Search(MINI, count_exercised=False)
    result = search.run()
    counterexample = reconstruct(search, result)
    assert result.verdict == "error"
    assert "boom" in counterexample.error


def test_itf_trace_has_one_state_per_step(tmp_path: Path) -> None:
    """The ITF file holds the empty world and the world after every step, ints as bigints."""
    report, counterexample = run_check(broken(TINY, "fair-share-during-ittl"), out=tmp_path)
    assert counterexample is not None
    itf = json.loads(Path(report["counterexample"]["itf_file"]).read_text())
    assert itf["#meta"]["format"] == "ITF"
    assert len(itf["states"]) == len(counterexample.steps) + 1
    assert itf["states"][0]["now"] == {"#bigint": "0"}
    assert to_itf(counterexample, "x")["vars"] == ["now", "sessions", "jobs", "action"]
    lines = Path(report["counterexample"]["trace_file"]).read_text().splitlines()
    assert json.loads(lines[0])["trace"] == "sessionspec"


def test_counterexample_steps_replay_on_the_model() -> None:
    """Replaying the counterexample's inputs from time 0 gives the observations it shows."""
    preset = broken(TINY, "close-ends-at-once")
    search = Search(preset, count_exercised=False)
    counterexample = reconstruct(search, search.run())
    world = World.empty(preset.config)
    for item in counterexample.steps:
        if not any(item.choices):
            outcome = step(world, item.inp)
            seen = [o for t in item.transitions for o in t.observations]
            assert list(outcome.observations) == seen
        world = item.after
    assert counterexample.steps[0].inp.t == 0


def test_cli_check_reports_json_and_exits_zero(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`sessionspec check --preset tiny --json` verifies and reports counts, coverage and rules."""
    assert main(["check", "--preset", "tiny", "--json", "--out", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "verified"
    assert report["distinct_states"] == TINY.expected_states
    assert {r["id"] for r in report["rules"]} == set(RULES)
    assert report["bytes_per_state"] > 0 and report["depth"] > 0


def test_cli_check_stopped_early_is_not_a_proof(capsys: pytest.CaptureFixture[str]) -> None:
    """A search cut short by --max-states says so and exits 4."""
    assert main(["check", "--preset", "tiny", "--max-states", "50"]) == 4
    assert "not a proof" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("not json", "a JSON object"),
        ('{"bounds": {"sessions": -1}}', "bounds.sessions"),
        ('{"bounds": {"flavour": 1}}', "known keys"),
        ('{"config": {"backends": [{"name": "sim", "simulator": true}]}}', "at least one QPU"),
        ('{"bounds": {"endings": ["cancel_everything"]}}', "bounds.endings"),
        ('{"bounds": {"alternatives": [{"sessions": 2}]}}', "bounds.alternatives[0]"),
        (
            '{"bounds": {"alternatives": [{"sessions": 2, "session_jobs": true, "plain_jobs": 0}]}}',
            "bounds.alternatives[0].session_jobs",
        ),
    ],
)
def test_cli_check_refuses_bad_config_files(
    content: str, complaint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad --config file gives exit 2 and a message naming what to fix, no traceback."""
    path = tmp_path / "preset.json"
    path.write_text(content)
    assert main(["check", "--config", str(path)]) == 2
    assert complaint in capsys.readouterr().err


def test_bounds_round_trip_through_a_file() -> None:
    """Bounds written with to_dict read back equal, endings and alternative workloads included."""
    bounds = PRESETS["default"].bounds._replace(endings=("close_session",))
    assert Bounds.from_dict(json.loads(json.dumps(bounds.to_dict()))) == bounds


def test_users_give_only_the_endings_the_bounds_allow() -> None:
    """Without cancel_job in the endings no job is ever canceled by a user; with it, one is."""
    world = step(World.empty(MINI.config), Submit(0, "j1", "qpu")).world
    allowed = MINI.bounds._replace(plain_jobs=1)
    ops = {inp.op for inp in user_inputs(world, allowed)}
    assert "cancel_job" in ops
    ops = {inp.op for inp in user_inputs(world, allowed._replace(endings=("close_session",)))}
    assert "cancel_job" not in ops


def test_an_alternative_workload_admits_what_the_main_one_does_not() -> None:
    """A second session is offered only where an alternative workload admits two sessions."""
    world = step(World.empty(MINI.config), CreateSession(0, "s1", "qpu")).world
    one = MINI.bounds._replace(sessions=1, session_jobs=3)
    assert "create_session" not in {i.op for i in user_inputs(world, one)}
    two = one._replace(alternatives=(Workload(sessions=2, session_jobs=2, plain_jobs=0),))
    assert "create_session" in {i.op for i in user_inputs(world, two)}


def test_cli_check_runs_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A preset from a file is searched like a named one."""
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"config": MINI.config.to_dict(), "bounds": MINI.bounds.to_dict()}))
    assert main(["check", "--config", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["preset"] == "mine"


def test_cli_check_writes_a_counterexample_check_trace_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a violation check exits 1 and writes a trace that check-trace judges non-conforming."""
    monkeypatch.setitem(PRESETS, "tiny", broken(TINY, "fair-share-during-ittl"))
    assert main(["check", "--preset", "tiny", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "SES-ITTL-HOLD" in out and "Shortest counterexample" in out
    trace = tmp_path / "counterexample-tiny.jsonl"
    assert main(["check-trace", str(trace)]) == 1


def test_json_report_predicts_the_rule_check_trace_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The --json counterexample gives the rule and step check-trace names for its trace file."""
    monkeypatch.setitem(PRESETS, "tiny", broken(TINY, "ttl-ignores-first-job"))
    assert main(["check", "--preset", "tiny", "--json", "--out", str(tmp_path)]) == 1
    example = json.loads(capsys.readouterr().out)["counterexample"]
    assert example["extended_by"] > 0 and example["shown_at_step"] == example["length"]
    assert main(["check-trace", "--json", example["trace_file"]]) == 1
    judged = json.loads(capsys.readouterr().out)
    assert judged["divergence"]["rule"] == example["trace_rule"]


def test_random_reached_worlds_are_fixed_points_of_the_reduction() -> None:
    """Representatives of reached worlds are their own representatives (the reduction is stable)."""
    search = Search(TINY)
    rng = random.Random(1)
    world = search.representative(World.empty(TINY.config))
    for _ in range(60):
        options = [o for _, o in successors(world, TINY)]
        world = search.representative(rng.choice(options).after)
        assert search.representative(world) == world


def test_several_processes_reach_the_same_states_and_verdict() -> None:
    """A search split among two worker processes reaches the same states, links and verdict."""
    from sessionspec.explorer import parallel

    small = parallel.SMALL_LEVEL
    parallel.SMALL_LEVEL = 10  # make the tiny preset's levels big enough to split
    try:
        split = parallel.run_parallel(Search(TINY, count_exercised=False), workers=2)
    finally:
        parallel.SMALL_LEVEL = small
    alone = Search(TINY, count_exercised=False).run()
    assert (split.verdict, split.states, split.transitions) == (
        alone.verdict,
        alone.states,
        alone.transitions,
    )
    assert split.parents.keys() == alone.parents.keys()
    assert split.edges.keys() == alone.edges.keys()


def test_several_processes_find_a_shortest_counterexample() -> None:
    """With workers the counterexample is as short as the one-process search's."""
    from sessionspec.explorer import parallel

    preset = broken(TINY, "fair-share-during-ittl")
    small = parallel.SMALL_LEVEL
    parallel.SMALL_LEVEL = 10
    try:
        search = Search(preset, count_exercised=False)
        split = parallel.run_parallel(search, workers=2)
        length = len(reconstruct(search, split).steps)
    finally:
        parallel.SMALL_LEVEL = small
    alone = Search(preset, count_exercised=False)
    expected = len(reconstruct(alone, alone.run()).steps)
    assert split.finding is not None and length == expected


def test_cli_compare_symmetry_reports_both_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--compare-symmetry searches twice and reports both counts with one verdict."""
    path = tmp_path / "two.json"
    bounds = MINI.bounds._replace(sessions=2, session_jobs=2)
    path.write_text(json.dumps({"config": MINI.config.to_dict(), "bounds": bounds.to_dict()}))
    assert main(["check", "--config", str(path), "--compare-symmetry", "--json"]) == 0
    comparison = json.loads(capsys.readouterr().out)["symmetry_comparison"]
    assert comparison["same_verdict"] is True
    assert comparison["without_symmetry"] > comparison["with_symmetry"]
